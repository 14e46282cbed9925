package proc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/seccomp"
)

// seccompFilterFlags are the SECCOMP_SET_MODE_FILTER flags Linux defines.
const seccompFilterFlags = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
	unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER |
	unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

// Seccomp implements seccomp(2).
func Seccomp(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	op, flags, uargs := a[0], a[1], a[2]
	switch op {
	case unix.SECCOMP_SET_MODE_STRICT:
		if flags != 0 || uargs != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SetSeccompStrict()
	case unix.SECCOMP_SET_MODE_FILTER:
		return setSeccompFilter(t, flags, uargs)
	case unix.SECCOMP_GET_ACTION_AVAIL:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		var b [4]byte
		if _, err := t.CopyIn(uargs, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		if !seccomp.ActionAvailable(binary.LittleEndian.Uint32(b[:])) {
			return 0, unix.EOPNOTSUPP
		}
		return 0, nil
	case unix.SECCOMP_GET_NOTIF_SIZES:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		// struct seccomp_notif_sizes: seccomp_notif, seccomp_notif_resp,
		// seccomp_data.
		var b [6]byte
		binary.LittleEndian.PutUint16(b[0:], 80)
		binary.LittleEndian.PutUint16(b[2:], 24)
		binary.LittleEndian.PutUint16(b[4:], seccomp.DataSize)
		if _, err := t.CopyOut(uargs, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		return 0, nil
	}
	return 0, unix.EINVAL
}

// setSeccompFilter installs the guest's struct sock_fprog at uargs, checking
// in Linux's order: flags, the program header, its length, the permission
// (no_new_privs or CAP_SYS_ADMIN), its instructions, then the mode.
func setSeccompFilter(t *kernel.Task, flags, uargs uint64) (uint64, error) {
	const (
		tsync      = unix.SECCOMP_FILTER_FLAG_TSYNC
		tsyncESRCH = unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		listener   = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	)
	if flags&^seccompFilterFlags != 0 ||
		flags&tsync != 0 && flags&listener != 0 && flags&tsyncESRCH == 0 ||
		flags&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 && flags&listener == 0 {
		return 0, unix.EINVAL
	}
	var hdr [16]byte // struct sock_fprog: u16 len, pad, filter pointer
	if _, err := t.CopyIn(uargs, hdr[:]); err != nil {
		return 0, unix.EFAULT
	}
	n := int(binary.LittleEndian.Uint16(hdr[0:]))
	if n == 0 || n > seccomp.MaxInstructions {
		return 0, unix.EINVAL
	}
	if !t.NoNewPrivs() && !t.Creds().HasCap(unix.CAP_SYS_ADMIN) {
		return 0, unix.EACCES
	}
	raw := make([]byte, n*seccomp.InstructionSize)
	if _, err := t.CopyIn(binary.LittleEndian.Uint64(hdr[8:]), raw); err != nil {
		return 0, unix.EFAULT
	}
	prog, err := seccomp.Compile(seccomp.DecodeInstructions(raw))
	if err != nil {
		return 0, unix.EINVAL
	}
	if flags&listener != 0 {
		return 0, unix.ENOSYS // no user-space notification in the sentry
	}
	failed, err := t.AddSeccompFilter(prog, flags&tsync != 0)
	if err != nil {
		return 0, err
	}
	if failed != 0 {
		if flags&tsyncESRCH != 0 {
			return 0, unix.ESRCH
		}
		return uint64(failed), nil
	}
	return 0, nil
}

// prctlSeccomp implements PR_SET_SECCOMP: prctl's older way to seccomp(2).
func prctlSeccomp(t *kernel.Task, mode, filter uint64) (uint64, error) {
	switch mode {
	case kernel.SeccompModeStrict:
		return 0, t.SetSeccompStrict()
	case kernel.SeccompModeFilter:
		return setSeccompFilter(t, 0, filter)
	}
	return 0, unix.EINVAL
}
