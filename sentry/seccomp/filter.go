package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Filter return values (SECCOMP_RET_*). The action is the top 16 bits, the
// data the low 16; a lower action (compared as signed) is more restrictive.
const (
	RetKillProcess = 0x80000000
	RetKillThread  = 0x00000000
	RetTrap        = 0x00030000
	RetErrno       = 0x00050000
	RetUserNotif   = 0x7fc00000
	RetTrace       = 0x7ff00000
	RetLog         = 0x7ffc0000
	RetAllow       = 0x7fff0000

	RetActionFull = 0xffff0000
	RetData       = 0x0000ffff
)

// maxPathInstructions bounds the (converted, see pathCost) instructions all
// of a task's filters run per system call, counting 4 more per filter
// (Linux's MAX_INSNS_PER_PATH).
const maxPathInstructions = 32768

// ActionAvailable reports whether action (a whole return value's action
// part) is one Linux knows (SECCOMP_GET_ACTION_AVAIL).
func ActionAvailable(action uint32) bool {
	switch action {
	case RetKillProcess, RetKillThread, RetTrap, RetErrno, RetUserNotif, RetTrace, RetLog, RetAllow:
		return true
	}
	return false
}

// Filter is an installed program and, through prev, the ones installed
// before it. A Filter never changes: tasks that inherit it share it.
type Filter struct {
	prog  *Program
	prev  *Filter
	total int // instructions on the path, with the per-filter penalty
}

// Attach returns the chain of prev with p installed on top. It fails with
// ENOMEM when the chain would run too many instructions per system call.
func Attach(prev *Filter, p *Program) (*Filter, error) {
	need := p.cost
	if prev != nil {
		need += prev.total
	}
	if need > maxPathInstructions {
		return nil, fmt.Errorf("filters of %d instructions: %w", need, unix.ENOMEM)
	}
	return &Filter{prog: p, prev: prev, total: need + 4}, nil
}

// Evaluate runs every filter of the chain on d and returns the decisive
// return value: the most restrictive action, and among equals the newest
// filter's.
func (f *Filter) Evaluate(d *Data) uint32 {
	ret := uint32(RetAllow)
	for ; f != nil; f = f.prev {
		cur := f.prog.Run(d)
		if int32(cur&RetActionFull) < int32(ret&RetActionFull) {
			ret = cur
		}
	}
	return ret
}

// Count returns the number of filters in the chain.
func (f *Filter) Count() int {
	n := 0
	for ; f != nil; f = f.prev {
		n++
	}
	return n
}

// Descends reports whether f is anc or was built on top of it; a nil anc
// is everyone's ancestor.
func (f *Filter) Descends(anc *Filter) bool {
	if anc == nil {
		return true
	}
	for ; f != nil; f = f.prev {
		if f == anc {
			return true
		}
	}
	return false
}
