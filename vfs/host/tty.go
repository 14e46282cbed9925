package host

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// JobControlContext is optionally implemented by the vfs.Context of a
// task, so that TIOCSCTTY can record the terminal's session and foreground
// process group (guest IDs; host IDs mean nothing to the guest).
type JobControlContext interface {
	ProcessGroupID() int32
	SessionID() int32
}

// DefaultForeground is the foreground process group and session a host
// terminal starts with: the guest's init (PID 1), which leads its own
// session and process group.
const DefaultForeground = 1

// ttyState is the guest-side state of one host terminal, shared by every
// File wrapping it (stdin, stdout and stderr usually are the same terminal).
type ttyState struct {
	key  ttyKey
	refs int // ttyStates.mu

	mu   sync.Mutex
	pgrp int32 // foreground process group (0: none)
	sid  int32 // session (0: none)
}

type ttyKey struct{ dev, ino, rdev uint64 }

var ttyStates struct {
	mu sync.Mutex
	m  map[ttyKey]*ttyState
}

func acquireTTYState(dev, ino, rdev uint64) *ttyState {
	k := ttyKey{dev, ino, rdev}
	ttyStates.mu.Lock()
	defer ttyStates.mu.Unlock()
	if ttyStates.m == nil {
		ttyStates.m = make(map[ttyKey]*ttyState)
	}
	s := ttyStates.m[k]
	if s == nil {
		s = &ttyState{key: k, pgrp: DefaultForeground, sid: DefaultForeground}
		ttyStates.m[k] = s
	}
	s.refs++
	return s
}

func (s *ttyState) release() {
	ttyStates.mu.Lock()
	defer ttyStates.mu.Unlock()
	s.refs--
	if s.refs == 0 && ttyStates.m[s.key] == s {
		delete(ttyStates.m, s.key)
	}
}

// SetForeground sets the guest foreground process group and session of the
// host terminal wrapped by f (for the kernel, when it starts the first
// process). ENOTTY if f is not a host terminal.
func SetForeground(f *vfs.File, pgrp, sid int32) error {
	t, ok := f.Impl().(*ttyFile)
	if !ok {
		return unix.ENOTTY
	}
	t.state.mu.Lock()
	defer t.state.mu.Unlock()
	t.state.pgrp, t.state.sid = pgrp, sid
	return nil
}

// Foreground returns the guest foreground process group and session of the
// host terminal wrapped by f.
func Foreground(f *vfs.File) (pgrp, sid int32, err error) {
	t, ok := f.Impl().(*ttyFile)
	if !ok {
		return 0, 0, unix.ENOTTY
	}
	t.state.mu.Lock()
	defer t.state.mu.Unlock()
	return t.state.pgrp, t.state.sid, nil
}

// ttyFile is a host terminal.
type ttyFile struct {
	*streamFile
	state       *ttyState
	releaseOnce sync.Once
}

// Release implements vfs.FileImpl.
func (t *ttyFile) Release(ctx vfs.Context) {
	t.releaseOnce.Do(t.state.release)
	t.streamFile.Release(ctx)
}

// Sizes of the kernel's ioctl structures (x86-64).
const (
	sizeofTermios  = 36 // struct termios: 4 flags, c_line, c_cc[19]
	sizeofTermios2 = 44 // struct termios2: termios + c_ispeed, c_ospeed
	sizeofWinsize  = 8
)

// Ioctl implements vfs.Ioctler. Only the ioctls below reach the host
// terminal; anything else (TIOCSTI, TIOCCONS, TIOCSETD, ...) is refused.
func (t *ttyFile) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.TCGETS:
		return 0, ioctlOut(ctx, t.fd, cmd, arg, sizeofTermios)
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		return 0, ioctlIn(ctx, t.fd, cmd, arg, sizeofTermios)
	case unix.TCGETS2:
		return 0, ioctlOut(ctx, t.fd, cmd, arg, sizeofTermios2)
	case unix.TCSETS2, unix.TCSETSW2, unix.TCSETSF2:
		return 0, ioctlIn(ctx, t.fd, cmd, arg, sizeofTermios2)
	case unix.TIOCGWINSZ:
		return 0, ioctlOut(ctx, t.fd, cmd, arg, sizeofWinsize)
	case unix.TIOCSWINSZ:
		return 0, ioctlIn(ctx, t.fd, cmd, arg, sizeofWinsize)
	case fionread, unix.TIOCOUTQ:
		return ioctlGetInt(ctx, t.fd, cmd, arg)
	case unix.TCFLSH, unix.TCXONC, unix.TCSBRK:
		// The argument is a value, not a pointer.
		return 0, ioctlValue(t.fd, cmd, arg)
	case unix.TIOCGPGRP:
		t.state.mu.Lock()
		pgrp := t.state.pgrp
		t.state.mu.Unlock()
		return 0, copyOutInt32(ctx, arg, pgrp)
	case unix.TIOCSPGRP:
		pgrp, err := copyInInt32(ctx, arg)
		if err != nil {
			return 0, err
		}
		if pgrp < 0 {
			return 0, unix.EINVAL
		}
		t.state.mu.Lock()
		t.state.pgrp = pgrp
		t.state.mu.Unlock()
		return 0, nil
	case unix.TIOCGSID:
		t.state.mu.Lock()
		sid := t.state.sid
		t.state.mu.Unlock()
		if sid == 0 {
			return 0, unix.ENOTTY
		}
		return 0, copyOutInt32(ctx, arg, sid)
	case unix.TIOCSCTTY:
		if jc, ok := ctx.(JobControlContext); ok {
			t.state.mu.Lock()
			t.state.sid = jc.SessionID()
			t.state.pgrp = jc.ProcessGroupID()
			t.state.mu.Unlock()
		}
		return 0, nil
	case unix.TIOCNOTTY:
		return 0, nil
	case unix.TIOCGPTN:
		return 0, unix.ENOTTY
	}
	return 0, unix.ENOTTY
}

// ioctlOut runs a host ioctl that fills size bytes and copies them to the
// guest at arg.
func ioctlOut(ctx vfs.Context, fd int, cmd uint32, arg uintptr, size int) error {
	var buf [64]byte
	if err := rawIoctl(fd, cmd, uintptr(unsafe.Pointer(&buf[0]))); err != nil {
		return err
	}
	return vfs.CopyOut(ctx, arg, buf[:size])
}

// ioctlIn copies size bytes from the guest at arg and passes them to a host
// ioctl.
func ioctlIn(ctx vfs.Context, fd int, cmd uint32, arg uintptr, size int) error {
	var buf [64]byte
	if err := vfs.CopyIn(ctx, arg, buf[:size]); err != nil {
		return err
	}
	return rawIoctl(fd, cmd, uintptr(unsafe.Pointer(&buf[0])))
}

// ioctlGetInt runs a host ioctl returning an int and copies it to the
// guest.
func ioctlGetInt(ctx vfs.Context, fd int, cmd uint32, arg uintptr) (uintptr, error) {
	v, err := unix.IoctlGetInt(fd, uint(cmd))
	if err != nil {
		return 0, err
	}
	return 0, copyOutInt32(ctx, arg, int32(v))
}

func ioctlValue(fd int, cmd uint32, arg uintptr) error {
	return rawIoctl(fd, cmd, arg)
}

func rawIoctl(fd int, cmd uint32, arg uintptr) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(cmd), arg)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}

func copyOutInt32(ctx vfs.Context, addr uintptr, v int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return vfs.CopyOut(ctx, addr, b[:])
}

func copyInInt32(ctx vfs.Context, addr uintptr) (int32, error) {
	var b [4]byte
	if err := vfs.CopyIn(ctx, addr, b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}
