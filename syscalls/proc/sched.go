package proc

import (
	"encoding/binary"
	"math/bits"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Scheduling policies.
const (
	schedOther = 0
	schedFIFO  = 1
	schedRR    = 2
	schedBatch = 3
	schedIdle  = 5
	// schedResetOnFork may be or-ed into sched_setscheduler's policy.
	schedResetOnFork = 0x40000000
)

func schedSyscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_SCHED_GETAFFINITY:      {Name: "sched_getaffinity", Fn: SchedGetaffinity},
		unix.SYS_SCHED_SETAFFINITY:      {Name: "sched_setaffinity", Fn: SchedSetaffinity, Partial: "recorded and reported, not enforced on host threads"},
		unix.SYS_SCHED_GETPARAM:         {Name: "sched_getparam", Fn: SchedGetparam},
		unix.SYS_SCHED_SETPARAM:         {Name: "sched_setparam", Fn: SchedSetparam, Partial: "recorded and reported, not enforced"},
		unix.SYS_SCHED_GETSCHEDULER:     {Name: "sched_getscheduler", Fn: SchedGetscheduler},
		unix.SYS_SCHED_SETSCHEDULER:     {Name: "sched_setscheduler", Fn: SchedSetscheduler, Partial: "recorded and reported, not enforced"},
		unix.SYS_SCHED_GET_PRIORITY_MAX: {Name: "sched_get_priority_max", Fn: schedPrio(99)},
		unix.SYS_SCHED_GET_PRIORITY_MIN: {Name: "sched_get_priority_min", Fn: schedPrio(1)},
		unix.SYS_GETCPU:                 {Name: "getcpu", Fn: Getcpu},
	}
}

// schedTarget returns the task pid names (0: the caller).
func schedTarget(t *kernel.Task, pid int32) (*kernel.Task, error) {
	if pid < 0 {
		return nil, unix.EINVAL
	}
	if pid == 0 {
		return t, nil
	}
	if target := t.Kernel().TaskByTID(pid); target != nil {
		return target, nil
	}
	return nil, unix.ESRCH
}

// maySched reports whether t may change target's scheduling: its own
// tasks, another with its effective UID as real or effective UID, or
// CAP_SYS_NICE.
func maySched(t, target *kernel.Task) bool {
	c, tc := t.Creds(), target.Creds()
	return t.ThreadGroup() == target.ThreadGroup() || c.EffectiveUID == tc.RealUID ||
		c.EffectiveUID == tc.EffectiveUID || c.HasCap(unix.CAP_SYS_NICE)
}

func schedPrio(v uint64) kernel.SyscallFn {
	return func(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
		switch a[0] {
		case schedFIFO, schedRR:
			return v, nil
		case schedOther, schedBatch, schedIdle:
			return 0, nil
		}
		return 0, unix.EINVAL
	}
}

// checkSchedParam validates a priority for policy (1..99 for the real-time
// policies, 0 for the others) and its privilege.
func checkSchedParam(t *kernel.Task, policy, prio int32) error {
	switch policy {
	case schedFIFO, schedRR:
		if prio < 1 || prio > 99 {
			return unix.EINVAL
		}
		if !t.Creds().HasCap(unix.CAP_SYS_NICE) {
			return unix.EPERM
		}
	case schedOther, schedBatch, schedIdle:
		if prio != 0 {
			return unix.EINVAL
		}
	default:
		return unix.EINVAL
	}
	return nil
}

func readSchedParam(t *kernel.Task, addr uint64) (int32, error) {
	if addr == 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if _, err := t.CopyIn(addr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// SchedSetscheduler implements sched_setscheduler(2).
func SchedSetscheduler(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	policy := int32(a[1]) &^ schedResetOnFork
	if int32(a[0]) < 0 || a[2] == 0 {
		return 0, unix.EINVAL
	}
	prio, err := readSchedParam(t, a[2])
	if err != nil {
		return 0, err
	}
	target, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	return 0, setSched(t, target, policy, prio)
}

// SchedSetparam implements sched_setparam(2): the priority, keeping the
// policy.
func SchedSetparam(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if int32(a[0]) < 0 || a[1] == 0 {
		return 0, unix.EINVAL
	}
	prio, err := readSchedParam(t, a[1])
	if err != nil {
		return 0, err
	}
	target, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	return 0, setSched(t, target, target.Sched().Policy, prio)
}

func setSched(t, target *kernel.Task, policy, prio int32) error {
	if err := checkSchedParam(t, policy, prio); err != nil {
		return err
	}
	if !maySched(t, target) {
		return unix.EPERM
	}
	s := target.Sched()
	s.Policy, s.Priority = policy, prio
	target.SetSched(s)
	return nil
}

// SchedGetscheduler implements sched_getscheduler(2).
func SchedGetscheduler(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	target, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	return uint64(target.Sched().Policy), nil
}

// SchedGetparam implements sched_getparam(2).
func SchedGetparam(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if int32(a[0]) < 0 || a[1] == 0 {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(target.Sched().Priority))
	if _, err := t.CopyOut(a[1], b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// cpuMaskWords is the size of a CPU mask in 64-bit words (Linux's
// cpumask_size for nr_cpu_ids CPUs).
func cpuMaskWords() int { return (runtime.NumCPU() + 63) / 64 }

// allCPUs is the mask of every CPU.
func allCPUs() []uint64 {
	m := make([]uint64, cpuMaskWords())
	for i := 0; i < runtime.NumCPU(); i++ {
		m[i/64] |= 1 << (i % 64)
	}
	return m
}

// affinityOf returns target's CPU mask, every CPU when it never set one.
func affinityOf(target *kernel.Task) []uint64 {
	if m := target.Sched().Affinity; m != nil {
		return m
	}
	return allCPUs()
}

// SchedGetaffinity implements sched_getaffinity(2): it returns the size of
// the mask it wrote.
func SchedGetaffinity(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	size := a[1]
	if size%8 != 0 || size*8 < uint64(runtime.NumCPU()) {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	m := affinityOf(target)
	b := make([]byte, 8*len(m))
	for i, w := range m {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	if _, err := t.CopyOut(a[2], b); err != nil {
		return 0, unix.EFAULT
	}
	return uint64(len(b)), nil
}

// SchedSetaffinity implements sched_setaffinity(2): CPUs that do not exist
// are dropped, and a mask left empty is EINVAL.
func SchedSetaffinity(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	target, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	words := cpuMaskWords()
	b := make([]byte, min(a[1], uint64(8*words)))
	if _, err := t.CopyIn(a[2], b); err != nil {
		return 0, unix.EFAULT
	}
	b = append(b, make([]byte, 8*words-len(b))...)
	all := allCPUs()
	m := make([]uint64, words)
	empty := true
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(b[8*i:]) & all[i]
		empty = empty && m[i] == 0
	}
	if empty {
		return 0, unix.EINVAL
	}
	if !maySched(t, target) {
		return 0, unix.EPERM
	}
	s := target.Sched()
	s.Affinity = m
	target.SetSched(s)
	return 0, nil
}

// Getcpu implements getcpu(2): the task runs, as far as it can tell, on the
// first CPU of its affinity mask; there is one NUMA node.
func Getcpu(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	cpu := uint32(0)
	for i, w := range affinityOf(t) {
		if w != 0 {
			cpu = uint32(64*i + bits.TrailingZeros64(w))
			break
		}
	}
	for _, out := range []struct {
		addr uint64
		v    uint32
	}{{a[0], cpu}, {a[1], 0}} {
		if out.addr == 0 {
			continue
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], out.v)
		if _, err := t.CopyOut(out.addr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}
