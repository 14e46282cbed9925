package host

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/jobctl"
	"golang.org/x/sys/unix"
)

// DefaultForeground is the foreground process group and session a host
// terminal starts with: the guest's init (PID 1), which leads its own
// session and process group.
const DefaultForeground = 1

// ttyState is the guest-side state of one host terminal, shared by every
// File wrapping it (stdin, stdout and stderr usually are the same terminal):
// its job control (vfs/jobctl, shared with devpts) and the open files
// /dev/tty can forward to.
type ttyState struct {
	key  ttyKey
	reg  *ttyRegistry
	refs int // reg.mu

	// node is the terminal's entry in the sandbox's /dev/pts, if the
	// registry has a TerminalDir: the guest files of the terminal are
	// opened there. removeNode takes the entry away.
	node       vfs.Location
	removeNode func()

	tty jobctl.TTY

	mu    sync.Mutex
	files map[*ttyFile]*vfs.File
}

type ttyKey struct{ dev, ino, rdev uint64 }

// ttyRegistry holds a VFS's host terminal states, so that files opened on
// the same host terminal share one.
type ttyRegistry struct {
	mu  sync.Mutex
	m   map[ttyKey]*ttyState
	dir TerminalDir
}

// TerminalDir shows host terminals in the sandbox's /dev/pts (implemented
// by package devpts).
type TerminalDir interface {
	// AddTerminal makes a new entry whose opens call open and returns
	// its location (with a reference) and a function that removes it.
	AddTerminal(ctx vfs.Context, open func(vfs.Context, uint32) (vfs.FileImpl, error)) (vfs.Location, func(), error)
}

// ShowTerminalsIn makes the host terminals NewFile wraps in v from now on
// appear in dir, as the container's own terminals do under runc: the
// guest's file is the entry's (/proc/PID/fd and ttyname(3) name it, stat
// of the entry matches fstat of the file), and opening the entry opens
// the terminal.
func ShowTerminalsIn(v *vfs.VFS, dir TerminalDir) {
	r := registryOf(v)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dir = dir
}

type ttyRegistryKey struct{}

func registryOf(v *vfs.VFS) *ttyRegistry {
	return v.Shared(ttyRegistryKey{}, func() any { return &ttyRegistry{m: map[ttyKey]*ttyState{}} }).(*ttyRegistry)
}

func acquireTTYState(v *vfs.VFS, dev, ino, rdev uint64) (*ttyState, error) {
	k := ttyKey{dev, ino, rdev}
	r := registryOf(v)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.m[k]
	if s == nil {
		s = &ttyState{key: k, reg: r, files: map[*ttyFile]*vfs.File{}}
		s.tty.SetForeground(DefaultForeground, DefaultForeground)
		s.tty.Open = s.open
		if r.dir != nil {
			var err error
			s.node, s.removeNode, err = r.dir.AddTerminal(vfs.NewContext(vfs.RootCredentials()), s.openNode)
			if err != nil {
				return nil, err
			}
		}
		r.m[k] = s
	}
	s.refs++
	return s, nil
}

func (s *ttyState) release() {
	r := s.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	s.refs--
	if s.refs == 0 && r.m[s.key] == s {
		delete(r.m, s.key)
		if s.removeNode != nil {
			s.removeNode()
			s.node.DecRef()
		}
	}
}

// openNode opens the terminal's /dev/pts entry: like opening a replica, it
// becomes the controlling terminal of a session leader that has none.
func (s *ttyState) openNode(ctx vfs.Context, flags uint32) (vfs.FileImpl, error) {
	impl, err := s.open(ctx, flags)
	if err != nil {
		return nil, err
	}
	jobctl.AcquireOnOpen(ctx, &s.tty, flags)
	return impl, nil
}

// open implements /dev/tty on the host terminal: a file forwarding to one
// of the guest's open files on it.
func (s *ttyState) open(vfs.Context, uint32) (vfs.FileImpl, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.TryIncRef() {
			return jobctl.Forward(f), nil
		}
	}
	return nil, unix.ENXIO
}

// TerminalNode returns the /dev/pts entry of the host terminal f wraps
// (ShowTerminalsIn), if it has one.
func TerminalNode(f *vfs.File) (vfs.Location, bool) {
	t, ok := f.Impl().(*ttyFile)
	if !ok || !t.state.node.Ok() {
		return vfs.Location{}, false
	}
	return t.state.node, true
}

// TTY returns the job-control state of the host terminal wrapped by f, or
// nil if f is not a host terminal.
func TTY(f *vfs.File) *jobctl.TTY {
	t, ok := f.Impl().(*ttyFile)
	if !ok {
		return nil
	}
	return &t.state.tty
}

// SetForeground sets the guest foreground process group and session of the
// host terminal wrapped by f (for the kernel, when it starts the first
// process). ENOTTY if f is not a host terminal.
func SetForeground(f *vfs.File, pgrp, sid int32) error {
	t := TTY(f)
	if t == nil {
		return unix.ENOTTY
	}
	t.SetForeground(pgrp, sid)
	return nil
}

// Foreground returns the guest foreground process group and session of the
// host terminal wrapped by f.
func Foreground(f *vfs.File) (pgrp, sid int32, err error) {
	t := TTY(f)
	if t == nil {
		return 0, 0, unix.ENOTTY
	}
	pgrp, sid = t.Foreground()
	return pgrp, sid, nil
}

// ttyFile is a host terminal.
type ttyFile struct {
	*streamFile
	state       *ttyState
	readable    bool
	releaseOnce sync.Once
}

// Release implements vfs.FileImpl.
func (t *ttyFile) Release(ctx vfs.Context) {
	t.releaseOnce.Do(func() {
		t.state.mu.Lock()
		delete(t.state.files, t)
		t.state.mu.Unlock()
		t.state.release()
	})
	t.streamFile.Release(ctx)
}

// Read implements vfs.StreamFile: a background process group reading its
// controlling terminal gets SIGTTIN.
func (t *ttyFile) Read(ctx vfs.Context, dst []byte) (int, error) {
	if err := jobctl.CheckRead(ctx, &t.state.tty); err != nil {
		return 0, err
	}
	return t.streamFile.Read(ctx, dst)
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
		if err := jobctl.CheckChange(ctx, &t.state.tty); err != nil {
			return 0, err
		}
		return 0, ioctlIn(ctx, t.fd, cmd, arg, sizeofTermios)
	case unix.TCGETS2:
		return 0, ioctlOut(ctx, t.fd, cmd, arg, sizeofTermios2)
	case unix.TCSETS2, unix.TCSETSW2, unix.TCSETSF2:
		if err := jobctl.CheckChange(ctx, &t.state.tty); err != nil {
			return 0, err
		}
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
	case unix.TIOCSCTTY, unix.TIOCNOTTY, unix.TIOCGPGRP, unix.TIOCSPGRP, unix.TIOCGSID:
		r, _, err := jobctl.Ioctl(ctx, &t.state.tty, jobctl.IoctlOptions{Replica: true, Readable: t.readable}, cmd, arg)
		return r, err
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
