package ipc

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Limits are an IPC namespace's tunables: Linux's kernel.shmmax, shmall,
// shmmni, msgmax, msgmnb, msgmni and sem (SEMMSL SEMMNS SEMOPM SEMMNI),
// set by an OCI bundle's linux.sysctl and by root in the guest through
// /proc/sys/kernel.
type Limits struct {
	ShmMax, ShmAll uint64 // bytes per segment; pages in all segments
	ShmMNI         int32  // segments
	MsgMax, MsgMNB int32  // bytes per message; default bytes per queue
	MsgMNI         int32  // queues
	SemMSL, SemMNS int32  // semaphores per set; in all sets
	SemOPM, SemMNI int32  // operations per semop; sets
}

// DefaultLimits are Linux's defaults.
func DefaultLimits() Limits {
	return Limits{
		ShmMax: ^uint64(0) - 1<<24, ShmAll: ^uint64(0) - 1<<24, ShmMNI: 4096,
		MsgMax: 8192, MsgMNB: 16384, MsgMNI: 32000,
		SemMSL: 32000, SemMNS: 32000 * 32000, SemOPM: 500, SemMNI: 32000,
	}
}

// Limits returns the namespace's limits.
func (ns *Namespace) Limits() Limits {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.limits
}

// Sysctl returns the text of /proc/sys/kernel/NAME for an IPC tunable
// (name as in Sysctls).
func (ns *Namespace) Sysctl(name string) (string, error) {
	l := ns.Limits()
	switch name {
	case "shmmax":
		return strconv.FormatUint(l.ShmMax, 10), nil
	case "shmall":
		return strconv.FormatUint(l.ShmAll, 10), nil
	case "shmmni":
		return strconv.Itoa(int(l.ShmMNI)), nil
	case "msgmax":
		return strconv.Itoa(int(l.MsgMax)), nil
	case "msgmnb":
		return strconv.Itoa(int(l.MsgMNB)), nil
	case "msgmni":
		return strconv.Itoa(int(l.MsgMNI)), nil
	case "sem":
		return fmt.Sprintf("%d\t%d\t%d\t%d", l.SemMSL, l.SemMNS, l.SemOPM, l.SemMNI), nil
	}
	return "", unix.ENOENT
}

// Sysctls are the names Sysctl and SetSysctl know, as under
// /proc/sys/kernel.
var Sysctls = []string{"msgmax", "msgmnb", "msgmni", "sem", "shmall", "shmmax", "shmmni"}

// SetSysctl sets an IPC tunable from text as written to
// /proc/sys/kernel/NAME: EINVAL for a value Linux would refuse.
func (ns *Namespace) SetSysctl(name, text string) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	l, err := ns.limits.with(name, text)
	if err != nil {
		return err
	}
	ns.limits = l
	ns.shms.limit = int(l.ShmMNI)
	ns.msgs.limit = int(l.MsgMNI)
	ns.sems.limit = int(l.SemMNI)
	return nil
}

// CheckSysctl reports whether SetSysctl would accept name and text.
func CheckSysctl(name, text string) error {
	_, err := DefaultLimits().with(name, text)
	return err
}

// with returns l with name set from text. The bounds are Linux's: int
// tunables are 0..INT_MAX, the MNI ones at most IPCMNI (32768) as the
// identifier allocator allows.
func (l Limits) with(name, text string) (Limits, error) {
	const intMax, ipcMNI = 1<<31 - 1, 1 << 15
	fields := strings.Fields(text)
	if name == "shmmax" || name == "shmall" {
		if len(fields) != 1 {
			return l, unix.EINVAL
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return l, unix.EINVAL
		}
		if name == "shmmax" {
			l.ShmMax = v
		} else {
			l.ShmAll = v
		}
		return l, nil
	}
	type field struct {
		p   *int32
		max int64
	}
	var want []field
	switch name {
	case "shmmni":
		want = []field{{&l.ShmMNI, ipcMNI}}
	case "msgmni":
		want = []field{{&l.MsgMNI, ipcMNI}}
	case "msgmax":
		want = []field{{&l.MsgMax, intMax}}
	case "msgmnb":
		want = []field{{&l.MsgMNB, intMax}}
	case "sem":
		want = []field{{&l.SemMSL, intMax}, {&l.SemMNS, intMax}, {&l.SemOPM, intMax}, {&l.SemMNI, ipcMNI}}
	default:
		return l, unix.ENOENT
	}
	if len(fields) != len(want) {
		return l, unix.EINVAL
	}
	vals := make([]int32, len(want))
	for i, f := range fields {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || v < 0 || v > want[i].max {
			return l, unix.EINVAL
		}
		vals[i] = int32(v)
	}
	for i, f := range want {
		*f.p = vals[i]
	}
	return l, nil
}
