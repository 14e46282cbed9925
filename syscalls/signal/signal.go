// Package signal implements the signal system calls: sigaction, masks,
// pending sets, sigsuspend, sigtimedwait, sigaltstack, rt_sigreturn and the
// kill family.
package signal

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Syscalls returns the signal system calls.
func Syscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_RT_SIGACTION:      {Name: "rt_sigaction", Fn: RtSigaction},
		unix.SYS_RT_SIGPROCMASK:    {Name: "rt_sigprocmask", Fn: RtSigprocmask},
		unix.SYS_RT_SIGRETURN:      {Name: "rt_sigreturn", Fn: RtSigreturn},
		unix.SYS_RT_SIGPENDING:     {Name: "rt_sigpending", Fn: RtSigpending},
		unix.SYS_RT_SIGSUSPEND:     {Name: "rt_sigsuspend", Fn: RtSigsuspend},
		unix.SYS_RT_SIGTIMEDWAIT:   {Name: "rt_sigtimedwait", Fn: RtSigtimedwait},
		unix.SYS_RT_SIGQUEUEINFO:   {Name: "rt_sigqueueinfo", Fn: RtSigqueueinfo},
		unix.SYS_RT_TGSIGQUEUEINFO: {Name: "rt_tgsigqueueinfo", Fn: RtTgsigqueueinfo},
		unix.SYS_SIGALTSTACK:       {Name: "sigaltstack", Fn: Sigaltstack},
		unix.SYS_KILL:              {Name: "kill", Fn: Kill},
		unix.SYS_TKILL:             {Name: "tkill", Fn: Tkill},
		unix.SYS_TGKILL:            {Name: "tgkill", Fn: Tgkill},
		unix.SYS_PAUSE:             {Name: "pause", Fn: Pause},
	}
}

const sigsetSize = 8

func copyInSigset(t *kernel.Task, addr, size uint64) (kernel.SigSet, error) {
	if size != sigsetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if _, err := t.CopyIn(addr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return kernel.SigSet(binary.LittleEndian.Uint64(b[:])), nil
}

func copyOutSigset(t *kernel.Task, addr uint64, s kernel.SigSet) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s))
	if _, err := t.CopyOut(addr, b[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

// RtSigaction implements rt_sigaction(2).
func RtSigaction(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	sig, newAddr, oldAddr, size := int32(a[0]), a[1], a[2], a[3]
	if size != sigsetSize {
		return 0, unix.EINVAL
	}
	var act *kernel.SigAction
	if newAddr != 0 {
		var b [32]byte
		if _, err := t.CopyIn(newAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		le := binary.LittleEndian
		act = &kernel.SigAction{Handler: le.Uint64(b[0:]), Flags: le.Uint64(b[8:]),
			Restorer: le.Uint64(b[16:]), Mask: kernel.SigSet(le.Uint64(b[24:]))}
	}
	old, err := t.Sigaction(sig, act)
	if err != nil {
		return 0, err
	}
	if oldAddr != 0 {
		var b [32]byte
		le := binary.LittleEndian
		le.PutUint64(b[0:], old.Handler)
		le.PutUint64(b[8:], old.Flags)
		le.PutUint64(b[16:], old.Restorer)
		le.PutUint64(b[24:], uint64(old.Mask))
		if _, err := t.CopyOut(oldAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

// RtSigprocmask implements rt_sigprocmask(2).
func RtSigprocmask(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	how, setAddr, oldAddr, size := a[0], a[1], a[2], a[3]
	if size != sigsetSize {
		return 0, unix.EINVAL
	}
	old := t.SigMask()
	if setAddr != 0 {
		set, err := copyInSigset(t, setAddr, size)
		if err != nil {
			return 0, err
		}
		switch how {
		case unix.SIG_BLOCK:
			t.SetSigMask(old | set)
		case unix.SIG_UNBLOCK:
			t.SetSigMask(old &^ set)
		case unix.SIG_SETMASK:
			t.SetSigMask(set)
		default:
			return 0, unix.EINVAL
		}
	}
	if oldAddr != 0 {
		if err := copyOutSigset(t, oldAddr, old); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// RtSigreturn implements rt_sigreturn(2).
func RtSigreturn(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, t.Sigreturn()
}

// RtSigpending implements rt_sigpending(2).
func RtSigpending(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if a[1] > sigsetSize {
		return 0, unix.EINVAL
	}
	return 0, copyOutSigset(t, a[0], t.PendingSignals()&t.SigMask())
}

// RtSigsuspend implements rt_sigsuspend(2).
func RtSigsuspend(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	mask, err := copyInSigset(t, a[0], a[1])
	if err != nil {
		return 0, err
	}
	old := t.SigMask()
	t.SetSigMask(mask)
	t.SetSavedSigMask(old)
	t.Block(nil, kernel.Deadline{})
	return 0, kernel.ErrRestartNoHand
}

// Pause implements pause(2).
func Pause(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	t.Block(nil, kernel.Deadline{})
	return 0, kernel.ErrRestartNoHand
}

// RtSigtimedwait implements rt_sigtimedwait(2).
func RtSigtimedwait(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	set, err := copyInSigset(t, a[0], a[3])
	if err != nil {
		return 0, err
	}
	set &^= kernel.SigBit(int32(unix.SIGKILL)) | kernel.SigBit(int32(unix.SIGSTOP))
	var deadline kernel.Deadline
	if a[2] != 0 {
		var ts [16]byte
		if _, err := t.CopyIn(a[2], ts[:]); err != nil {
			return 0, unix.EFAULT
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(ts[0:])), int64(binary.LittleEndian.Uint64(ts[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return 0, unix.EINVAL
		}
		deadline = t.Kernel().Clock.After(kernel.SpecDuration(sec, nsec))
	}
	si, err := t.WaitSignal(set, deadline)
	if err != nil {
		return 0, err
	}
	if a[1] != 0 {
		if _, err := t.CopyOut(a[1], si.Bytes()); err != nil {
			return 0, unix.EFAULT
		}
	}
	return uint64(si.Signo), nil
}

// RtSigqueueinfo implements rt_sigqueueinfo(2).
func RtSigqueueinfo(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	pid := int32(a[0])
	si, err := queueInfo(t, int32(a[1]), a[2], pid)
	if err != nil {
		return 0, err
	}
	target := t.Kernel().TaskByTID(pid)
	if target == nil {
		return 0, unix.ESRCH
	}
	return 0, t.Kernel().SendTo(t, target, si, false)
}

// RtTgsigqueueinfo implements rt_tgsigqueueinfo(2).
func RtTgsigqueueinfo(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	tgid, tid := int32(a[0]), int32(a[1])
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	si, err := queueInfo(t, int32(a[2]), a[3], tid)
	if err != nil {
		return 0, err
	}
	target := t.Kernel().TaskByTID(tid)
	if target == nil || target.ThreadGroup().ID() != tgid {
		return 0, unix.ESRCH
	}
	return 0, t.Kernel().SendTo(t, target, si, true)
}

// queueInfo reads the siginfo of rt_(tg)sigqueueinfo addressed to thread
// (or process) id target.
func queueInfo(t *kernel.Task, sig int32, addr uint64, target int32) (*kernel.SigInfo, error) {
	if sig < 0 || sig > linux.NSIG {
		return nil, unix.EINVAL
	}
	b := make([]byte, 128)
	if _, err := t.CopyIn(addr, b); err != nil {
		return nil, unix.EFAULT
	}
	si := kernel.DecodeSigInfo(b)
	// Only the kernel may claim kernel or positive si_codes (or tkill's)
	// to others; to itself a thread may claim anything, as on Linux.
	if (si.Code >= 0 || si.Code == linux.SI_TKILL) && target != t.TID() {
		return nil, unix.EPERM
	}
	si.Signo = sig
	return si, nil
}

// Sigaltstack implements sigaltstack(2).
func Sigaltstack(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	old := t.SigAltStack()
	if a[0] != 0 {
		var b [24]byte
		if _, err := t.CopyIn(a[0], b[:]); err != nil {
			return 0, unix.EFAULT
		}
		le := binary.LittleEndian
		st := linux.SignalStack{Sp: le.Uint64(b[0:]), Flags: int32(le.Uint32(b[8:])), Size: le.Uint64(b[16:])}
		if err := t.SetSigAltStack(st); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		var b [24]byte
		le := binary.LittleEndian
		le.PutUint64(b[0:], old.Sp)
		le.PutUint32(b[8:], uint32(old.Flags))
		le.PutUint64(b[16:], old.Size)
		if _, err := t.CopyOut(a[1], b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

func userInfo(t *kernel.Task, sig int32, code int32) *kernel.SigInfo {
	return &kernel.SigInfo{Signo: sig, Code: code, PID: t.ThreadGroup().ID(), UID: int32(t.Creds().RealUID)}
}

// Kill implements kill(2).
func Kill(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	pid, sig := int32(a[0]), int32(a[1])
	if sig < 0 || sig > linux.NSIG {
		return 0, unix.EINVAL
	}
	return 0, t.Kernel().Kill(t, pid, userInfo(t, sig, linux.SI_USER))
}

// Tkill implements tkill(2).
func Tkill(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	tid, sig := int32(a[0]), int32(a[1])
	if tid <= 0 {
		return 0, unix.EINVAL
	}
	return tgkill(t, 0, tid, sig)
}

// Tgkill implements tgkill(2).
func Tgkill(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	tgid, tid, sig := int32(a[0]), int32(a[1]), int32(a[2])
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	return tgkill(t, tgid, tid, sig)
}

func tgkill(t *kernel.Task, tgid, tid, sig int32) (uint64, error) {
	if sig < 0 || sig > linux.NSIG {
		return 0, unix.EINVAL
	}
	target := t.Kernel().TaskByTID(tid)
	if target == nil || (tgid != 0 && target.ThreadGroup().ID() != tgid) {
		return 0, unix.ESRCH
	}
	return 0, t.Kernel().SendTo(t, target, userInfo(t, sig, linux.SI_TKILL), true)
}
