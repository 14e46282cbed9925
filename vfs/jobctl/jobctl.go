// Package jobctl is the terminal side of job control, shared by every
// terminal of the sandbox (devpts replicas, the host terminal on the
// sandbox's stdio): a terminal's session and foreground process group, the
// ioctls that manage them (TIOCSCTTY, TIOCNOTTY, TIOCGPGRP, TIOCSPGRP,
// TIOCGSID) and the background checks of reads and writes (SIGTTIN,
// SIGTTOU).
//
// The kernel side (sessions, process groups, a session's controlling
// terminal) is reached through two interfaces: Process, implemented by the
// vfs.Context of a task, and Kernel, which a terminal remembers once it is
// some session's controlling terminal (so that a master writing ^C or
// closing can signal the session without a task context).
package jobctl

import (
	"encoding/binary"
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// Kernel is what a controlling terminal needs from the kernel.
type Kernel interface {
	// SignalProcessGroup sends sig to every process of process group pgid
	// (a signal the kernel generates: SI_KERNEL).
	SignalProcessGroup(pgid, sig int32)
	// SignalProcess sends sig to process pid.
	SignalProcess(pid, sig int32)
	// DetachTTY forgets that t is the controlling terminal of session sid
	// (the terminal hung up).
	DetachTTY(sid int32, t *TTY)
}

// Process is implemented by the vfs.Context of a task. Contexts that do not
// implement it (kernel-internal ones) bypass job control.
type Process interface {
	vfs.Context
	// JobIDs returns the caller's process ID, process group and session.
	JobIDs() (pid, pgid, sid int32)
	// ControllingTTY returns the controlling terminal of the caller's
	// session, or nil.
	ControllingTTY() *TTY
	// SetControllingTTY makes t the controlling terminal of the caller's
	// session (TIOCSCTTY; also tried, errors ignored, when a session
	// leader opens a terminal without O_NOCTTY). steal takes t from
	// another session (arg 1 of TIOCSCTTY, CAP_SYS_ADMIN).
	SetControllingTTY(t *TTY, steal bool) error
	// ReleaseControllingTTY implements TIOCNOTTY on t.
	ReleaseControllingTTY(t *TTY) error
	// ProcessGroupSession returns the session of process group pgid, or
	// ESRCH if there is no such group.
	ProcessGroupSession(pgid int32) (int32, error)
	// CheckTTYAccess implements Linux's __tty_check_change: when t is the
	// caller's controlling terminal and the caller is not in its
	// foreground process group, sig (SIGTTIN or SIGTTOU) goes to the
	// caller's process group and the call is restarted after the stop
	// (the returned error); an ignored or blocked sig lets SIGTTOU
	// accesses proceed (nil) and fails SIGTTIN ones (EIO), and so does an
	// orphaned process group (EIO).
	CheckTTYAccess(t *TTY, sig int32) error
	// InstallFD installs f in the caller's descriptor table (taking its
	// own reference) and returns the descriptor (TIOCGPTPEER).
	InstallFD(f *vfs.File, cloexec bool) (int32, error)
}

// SimpleIDs is optionally implemented by a vfs.Context that is not a
// Process: TIOCSCTTY then just records its process group and session.
type SimpleIDs interface {
	ProcessGroupID() int32
	SessionID() int32
}

// TTY is the job-control state of one terminal, shared by all of its open
// files.
type TTY struct {
	// Open opens a new file on the terminal, for /dev/tty (set by the
	// terminal's implementation before the TTY is used; nil: ENXIO).
	Open func(ctx vfs.Context, flags uint32) (vfs.FileImpl, error)

	mu   sync.Mutex
	sid  int32  // session (0: none)
	pgrp int32  // foreground process group (0: none)
	k    Kernel // set while the terminal is a controlling terminal
}

// Foreground returns the foreground process group and session.
func (t *TTY) Foreground() (pgrp, sid int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pgrp, t.sid
}

// SetForeground sets the foreground process group and session without
// checks (the sandbox's initial terminal).
func (t *TTY) SetForeground(pgrp, sid int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pgrp, t.sid = pgrp, sid
}

// Attach records that t is now the controlling terminal of session sid with
// foreground process group pgrp (for the kernel).
func (t *TTY) Attach(k Kernel, sid, pgrp int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.k, t.sid, t.pgrp = k, sid, pgrp
}

// Detach clears the session and foreground group if t is attached to
// session sid and returns the old foreground group (for the kernel).
func (t *TTY) Detach(sid int32) (pgrp int32, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sid != sid {
		return 0, false
	}
	pgrp = t.pgrp
	t.sid, t.pgrp = 0, 0
	return pgrp, true
}

// SessionOf returns the session t is the controlling terminal of (0: none).
func (t *TTY) SessionOf() int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sid
}

// SignalForeground sends sig to the foreground process group, if t is a
// controlling terminal with one (^C, ^\, ^Z, a window size change). Call it
// without holding the terminal's own locks.
func (t *TTY) SignalForeground(sig int32) {
	t.mu.Lock()
	k, pgrp := t.k, t.pgrp
	t.mu.Unlock()
	if k != nil && pgrp > 0 {
		k.SignalProcessGroup(pgrp, sig)
	}
}

// Hangup implements the hangup of a controlling terminal (its master
// closed): the session loses its controlling terminal, and its leader gets
// SIGHUP and SIGCONT.
func (t *TTY) Hangup() {
	t.mu.Lock()
	k, sid := t.k, t.sid
	t.sid, t.pgrp, t.k = 0, 0, nil
	t.mu.Unlock()
	if k == nil || sid == 0 {
		return
	}
	k.DetachTTY(sid, t)
	k.SignalProcess(sid, int32(unix.SIGHUP))
	k.SignalProcess(sid, int32(unix.SIGCONT))
}

// CheckRead is the background-read check of a terminal read (SIGTTIN).
func CheckRead(ctx vfs.Context, t *TTY) error {
	return check(ctx, t, int32(unix.SIGTTIN))
}

// CheckChange is the check of writes with TOSTOP and of the ioctls that
// change a terminal (SIGTTOU).
func CheckChange(ctx vfs.Context, t *TTY) error {
	return check(ctx, t, int32(unix.SIGTTOU))
}

func check(ctx vfs.Context, t *TTY, sig int32) error {
	p, ok := ctx.(Process)
	if !ok {
		return nil
	}
	return p.CheckTTYAccess(t, sig)
}

// IoctlOptions describe the file an ioctl is made on.
type IoctlOptions struct {
	// Replica is true for the terminal itself (a devpts replica, a host
	// terminal), false for a pty master operating on its replica: the
	// getters then need no controlling-terminal relation.
	Replica bool
	// Readable reports whether the file was opened for reading
	// (TIOCSCTTY needs it without CAP_SYS_ADMIN).
	Readable bool
}

// Ioctl serves the job-control ioctls of terminal t: TIOCSCTTY, TIOCNOTTY,
// TIOCGPGRP, TIOCSPGRP and TIOCGSID. handled is false for other commands.
func Ioctl(ctx vfs.Context, t *TTY, opts IoctlOptions, cmd uint32, arg uintptr) (r uintptr, handled bool, err error) {
	p, isProc := ctx.(Process)
	switch cmd {
	case unix.TIOCSCTTY:
		if !isProc {
			// Without a kernel (tests, kernel-internal callers): record
			// the caller's IDs if it has them.
			if ids, ok := ctx.(SimpleIDs); ok {
				t.SetForeground(ids.ProcessGroupID(), ids.SessionID())
			}
			return 0, true, nil
		}
		if !opts.Readable && !ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
			_, _, sid := p.JobIDs()
			if t.SessionOf() != sid {
				return 0, true, unix.EPERM
			}
		}
		steal := arg == 1 && ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN)
		return 0, true, p.SetControllingTTY(t, steal)
	case unix.TIOCNOTTY:
		if !isProc {
			return 0, true, nil
		}
		return 0, true, p.ReleaseControllingTTY(t)
	case unix.TIOCGPGRP:
		if opts.Replica && isProc && p.ControllingTTY() != t {
			return 0, true, unix.ENOTTY
		}
		pgrp, _ := t.Foreground()
		return 0, true, putInt32(ctx, arg, pgrp)
	case unix.TIOCGSID:
		if opts.Replica && isProc && p.ControllingTTY() != t {
			return 0, true, unix.ENOTTY
		}
		_, sid := t.Foreground()
		if sid == 0 {
			return 0, true, unix.ENOTTY
		}
		return 0, true, putInt32(ctx, arg, sid)
	case unix.TIOCSPGRP:
		if err := CheckChange(ctx, t); err != nil {
			return 0, true, err
		}
		pgrp, err := getInt32(ctx, arg)
		if err != nil {
			return 0, true, err
		}
		if !isProc {
			if pgrp < 0 {
				return 0, true, unix.EINVAL
			}
			t.mu.Lock()
			t.pgrp = pgrp
			t.mu.Unlock()
			return 0, true, nil
		}
		_, _, sid := p.JobIDs()
		if p.ControllingTTY() != t || t.SessionOf() != sid {
			return 0, true, unix.ENOTTY
		}
		if pgrp < 0 {
			return 0, true, unix.EINVAL
		}
		psid, err := p.ProcessGroupSession(pgrp)
		if err != nil {
			return 0, true, err
		}
		if psid != sid {
			return 0, true, unix.EPERM
		}
		t.mu.Lock()
		t.pgrp = pgrp
		t.mu.Unlock()
		return 0, true, nil
	}
	return 0, false, nil
}

// AcquireOnOpen makes t the controlling terminal of the caller's session
// when a session leader without one opens it without O_NOCTTY.
func AcquireOnOpen(ctx vfs.Context, t *TTY, flags uint32) {
	if flags&unix.O_NOCTTY != 0 {
		return
	}
	p, ok := ctx.(Process)
	if !ok {
		return
	}
	pid, _, sid := p.JobIDs()
	if pid != sid || p.ControllingTTY() != nil || t.SessionOf() != 0 {
		return
	}
	p.SetControllingTTY(t, false)
}

func putInt32(ctx vfs.Context, addr uintptr, v int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return vfs.CopyOut(ctx, addr, b[:])
}

func getInt32(ctx vfs.Context, addr uintptr) (int32, error) {
	var b [4]byte
	if err := vfs.CopyIn(ctx, addr, b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}
