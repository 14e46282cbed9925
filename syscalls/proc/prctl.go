package proc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Prctl implements the prctl(2) options programs commonly use.
func Prctl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	switch a[0] {
	case unix.PR_SET_NAME:
		b := make([]byte, 16)
		n, _ := t.CopyIn(a[1], b)
		if n == 0 {
			return 0, unix.EFAULT
		}
		name := string(b[:n])
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		t.SetName(name)
		return 0, nil
	case unix.PR_GET_NAME:
		b := make([]byte, 16)
		copy(b, t.Name())
		if _, err := t.CopyOut(a[1], b); err != nil {
			return 0, unix.EFAULT
		}
		return 0, nil
	case unix.PR_SET_PDEATHSIG:
		if a[1] > 64 {
			return 0, unix.EINVAL
		}
		t.SetPdeathSig(int32(a[1]))
		return 0, nil
	case unix.PR_GET_PDEATHSIG:
		return 0, putU32s(t, []uint64{a[1]}, []uint32{uint32(t.PdeathSig())})
	case unix.PR_SET_CHILD_SUBREAPER:
		t.ThreadGroup().SetSubreaper(a[1] != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		v := uint32(0)
		if t.ThreadGroup().Subreaper() {
			v = 1
		}
		return 0, putU32s(t, []uint64{a[1]}, []uint32{v})
	case unix.PR_SET_NO_NEW_PRIVS:
		if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.SetNoNewPrivs()
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if t.NoNewPrivs() {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_DUMPABLE:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.MM().SetDumpable(a[1] == 1)
		return 0, nil
	case unix.PR_GET_DUMPABLE:
		if t.MM().Dumpable() {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_KEEPCAPS:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		c := t.Creds().Fork()
		c.KeepCaps = a[1] == 1
		c.Finish()
		t.SetCreds(c)
		return 0, nil
	case unix.PR_GET_KEEPCAPS:
		if t.Creds().KeepCaps {
			return 1, nil
		}
		return 0, nil
	case unix.PR_CAPBSET_READ:
		if a[1] > 40 {
			return 0, unix.EINVAL
		}
		return (t.Creds().Bounding >> a[1]) & 1, nil
	case unix.PR_CAPBSET_DROP:
		if a[1] > 40 {
			return 0, unix.EINVAL
		}
		if !t.Creds().HasCap(unix.CAP_SETPCAP) {
			return 0, unix.EPERM
		}
		c := t.Creds().Fork()
		c.Bounding &^= 1 << a[1]
		c.Finish()
		t.SetCreds(c)
		return 0, nil
	case unix.PR_CAP_AMBIENT:
		return prctlAmbient(t, a)
	case unix.PR_GET_SECCOMP:
		return uint64(t.SeccompMode()), nil
	case unix.PR_SET_SECCOMP:
		return prctlSeccomp(t, a[1], a[2])
	case unix.PR_SET_MM, unix.PR_SET_PTRACER, unix.PR_SET_TIMERSLACK, unix.PR_SET_VMA:
		return 0, nil
	case unix.PR_GET_TIMERSLACK:
		return 50000, nil
	case unix.PR_SET_THP_DISABLE, unix.PR_GET_THP_DISABLE, unix.PR_MCE_KILL, unix.PR_MCE_KILL_GET:
		return 0, nil
	}
	return 0, unix.EINVAL
}

// capLast is the highest capability number (CAP_CHECKPOINT_RESTORE).
const capLast = 40

// prctlAmbient implements PR_CAP_AMBIENT as Linux does: a capability may
// be raised into the ambient set only if it is permitted and inheritable.
func prctlAmbient(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	op, cp := a[1], a[2]
	if op == unix.PR_CAP_AMBIENT_CLEAR_ALL {
		if a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		c := t.Creds().Fork()
		c.Ambient = 0
		c.Finish()
		t.SetCreds(c)
		return 0, nil
	}
	if cp > capLast || a[3]|a[4] != 0 {
		return 0, unix.EINVAL
	}
	bit := uint64(1) << cp
	c := t.Creds()
	switch op {
	case unix.PR_CAP_AMBIENT_IS_SET:
		if c.Ambient&bit != 0 {
			return 1, nil
		}
		return 0, nil
	case unix.PR_CAP_AMBIENT_RAISE:
		if c.Permitted&bit == 0 || c.Inheritable&bit == 0 {
			return 0, unix.EPERM
		}
	case unix.PR_CAP_AMBIENT_LOWER:
	default:
		return 0, unix.EINVAL
	}
	n := c.Fork()
	if op == unix.PR_CAP_AMBIENT_RAISE {
		n.Ambient |= bit
	} else {
		n.Ambient &^= bit
	}
	n.Finish()
	t.SetCreds(n)
	return 0, nil
}
