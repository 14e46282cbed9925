// Package socket implements the socket system calls: socket, socketpair,
// bind, listen, accept, accept4, connect, shutdown, getsockname,
// getpeername, getsockopt, setsockopt and the send/recv families
// (sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg). The sockets
// themselves live in sentry/socket (unixsock for AF_UNIX, hostinet for
// AF_INET, AF_INET6 and NETLINK_ROUTE); read, write, close, fcntl, poll and
// epoll reach them through the generic vfs.File paths.
//
// Sockets never block; the handlers here wait for readiness (honouring
// O_NONBLOCK, MSG_DONTWAIT, SO_RCVTIMEO and SO_SNDTIMEO) and translate
// guest structures (sockaddrs, msghdrs, iovecs, cmsgs) with every pointer
// going through Task.CopyIn/CopyOut.
package socket

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/sentry/socket/hostinet"
	"github.com/runsc-lite/runsc-lite/sentry/socket/unixsock"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Syscalls returns the handlers of this package by syscall number.
func Syscalls() map[uintptr]kernel.Syscall {
	t := map[uintptr]kernel.Syscall{}
	add := func(nr uintptr, name string, fn kernel.SyscallFn) {
		t[nr] = kernel.Syscall{Name: name, Fn: fn}
	}
	add(unix.SYS_SOCKET, "socket", Socket)
	add(unix.SYS_SOCKETPAIR, "socketpair", Socketpair)
	add(unix.SYS_BIND, "bind", Bind)
	add(unix.SYS_LISTEN, "listen", Listen)
	add(unix.SYS_ACCEPT, "accept", Accept)
	add(unix.SYS_ACCEPT4, "accept4", Accept4)
	add(unix.SYS_CONNECT, "connect", Connect)
	add(unix.SYS_SHUTDOWN, "shutdown", Shutdown)
	add(unix.SYS_GETSOCKNAME, "getsockname", Getsockname)
	add(unix.SYS_GETPEERNAME, "getpeername", Getpeername)
	add(unix.SYS_GETSOCKOPT, "getsockopt", Getsockopt)
	add(unix.SYS_SETSOCKOPT, "setsockopt", Setsockopt)
	add(unix.SYS_SENDTO, "sendto", Sendto)
	add(unix.SYS_RECVFROM, "recvfrom", Recvfrom)
	add(unix.SYS_SENDMSG, "sendmsg", Sendmsg)
	add(unix.SYS_RECVMSG, "recvmsg", Recvmsg)
	add(unix.SYS_SENDMMSG, "sendmmsg", Sendmmsg)
	add(unix.SYS_RECVMMSG, "recvmmsg", Recvmmsg)

	// What the handlers leave out, for the syscall table.
	s := t[unix.SYS_SOCKET]
	s.Partial = "AF_UNIX, AF_INET and AF_INET6 (TCP, UDP, UDP-Lite, ICMP datagrams) and AF_NETLINK (NETLINK_ROUTE) only; SOCK_RAW in AF_INET*: EPERM; other families EAFNOSUPPORT"
	t[unix.SYS_SOCKET] = s
	return t
}

var le = binary.LittleEndian

const (
	sockMax     = 11  // SOCK_MAX
	afMax       = 46  // AF_MAX
	ipprotoMax  = 263 // IPPROTO_MAX
	sockaddrMax = 128 // sizeof(struct sockaddr_storage)
	somaxconn   = 4096
	maxOptLen   = 4096
)

func ctx(t *kernel.Task) vfs.Context { return t.VFSContext() }

// Argument decoding: ints are the low 32 bits of the register.
func argInt(r uint64) int32 { return int32(uint32(r)) }

func copyIn(t *kernel.Task, addr uint64, b []byte) error {
	if n, err := t.CopyIn(addr, b); err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

func copyOut(t *kernel.Task, addr uint64, b []byte) error {
	if n, err := t.CopyOut(addr, b); err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

// caller describes t to socket implementations.
func caller(t *kernel.Task) *socket.Caller {
	cr := t.Creds()
	pid := t.ThreadGroup().ID()
	minPort := t.Kernel().UnprivilegedPortStart
	if cr.HasCap(unix.CAP_NET_BIND_SERVICE) {
		minPort = 0
	}
	return &socket.Caller{
		Ctx:         ctx(t),
		Creds:       socket.Creds{PID: pid, UID: cr.EffectiveUID, GID: cr.EffectiveGID},
		RealCreds:   socket.Creds{PID: pid, UID: cr.RealUID, GID: cr.RealGID},
		Privileged:  cr.HasCap(unix.CAP_SYS_ADMIN),
		MinBindPort: minPort,
		Paths:       taskPaths{t},
	}
}

// getSocket returns the socket at fd with a reference on its file:
// EBADF, or ENOTSOCK for other files.
func getSocket(t *kernel.Task, fd int32) (*vfs.File, socket.Socket, error) {
	f, err := t.GetFile(fd)
	if err != nil {
		return nil, nil, err
	}
	s, ok := f.Impl().(socket.Socket)
	if !ok {
		f.DecRef(ctx(t))
		return nil, nil, unix.ENOTSOCK
	}
	return f, s, nil
}

// nonblocking reports whether calls on f must not wait.
func nonblocking(f *vfs.File, flags int) bool {
	return f.StatusFlags()&unix.O_NONBLOCK != 0 || flags&unix.MSG_DONTWAIT != 0
}

// block runs op until it returns something other than EAGAIN, waiting for
// mask on f in between, unless nonblock. A timeout (0: none) gives EAGAIN
// like SO_RCVTIMEO/SO_SNDTIMEO; a signal gives ERESTARTSYS (EINTR when a
// timeout is set, as Linux does).
func block(t *kernel.Task, f *vfs.File, mask waiter.EventMask, timeout time.Duration, nonblock bool, op func() error) error {
	err := op()
	if err != unix.EAGAIN || nonblock {
		return err
	}
	e, ch := waiter.NewChannelEntry(mask)
	f.EventRegister(e)
	defer f.EventUnregister(e)
	var deadline kernel.Deadline
	if timeout > 0 {
		deadline = t.Kernel().Clock.After(timeout)
	}
	for {
		if err = op(); err != unix.EAGAIN {
			return err
		}
		if berr := t.Block(ch, deadline); berr != nil {
			if berr == unix.ETIMEDOUT {
				return unix.EAGAIN
			}
			if timeout > 0 {
				return unix.EINTR
			}
			return kernel.ErrRestartSys
		}
	}
}

const (
	readable = waiter.ReadableEvents | waiter.EventErr | waiter.EventHUp | waiter.EventRdHUp
	writable = waiter.WritableEvents | waiter.EventErr | waiter.EventHUp
)

// newSocket creates the implementation for socket(2)'s arguments.
func newSocket(v *vfs.VFS, domain, stype, protocol int) (socket.Socket, error) {
	if domain < 0 || domain >= afMax {
		return nil, unix.EAFNOSUPPORT
	}
	switch domain {
	case unix.AF_UNIX:
		switch stype {
		case unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET:
		case unix.SOCK_RAW:
			stype = unix.SOCK_DGRAM
		default:
			return nil, unix.ESOCKTNOSUPPORT
		}
		if protocol != 0 && protocol != unix.PF_UNIX {
			return nil, unix.EPROTONOSUPPORT
		}
		return unixsock.New(v, stype), nil
	case unix.AF_INET, unix.AF_INET6:
		// inet_create checks the protocol's range before the type.
		if protocol < 0 || protocol >= ipprotoMax {
			return nil, unix.EINVAL
		}
		switch stype {
		case unix.SOCK_STREAM:
			if protocol != 0 && protocol != unix.IPPROTO_TCP {
				return nil, unix.EPROTONOSUPPORT
			}
		case unix.SOCK_DGRAM:
			icmp := unix.IPPROTO_ICMP
			if domain == unix.AF_INET6 {
				icmp = unix.IPPROTO_ICMPV6
			}
			if protocol != 0 && protocol != unix.IPPROTO_UDP && protocol != unix.IPPROTO_UDPLITE && protocol != icmp {
				return nil, unix.EPROTONOSUPPORT
			}
		case unix.SOCK_RAW:
			return nil, unix.EPERM
		default:
			return nil, unix.ESOCKTNOSUPPORT
		}
		return hostinet.New(v, domain, stype, protocol)
	case unix.AF_NETLINK:
		if stype != unix.SOCK_RAW && stype != unix.SOCK_DGRAM {
			return nil, unix.ESOCKTNOSUPPORT
		}
		if protocol != unix.NETLINK_ROUTE {
			return nil, unix.EPROTONOSUPPORT
		}
		return hostinet.New(v, domain, stype, protocol)
	}
	return nil, unix.EAFNOSUPPORT
}

// splitType separates socket(2)'s type argument into the type and the
// SOCK_NONBLOCK/SOCK_CLOEXEC flags (EINVAL for anything else).
func splitType(typ int32) (stype int, fileFlags uint32, cloexec bool, err error) {
	const typeMask = 0xf
	if typ&^(typeMask|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return 0, 0, false, unix.EINVAL
	}
	stype = int(typ & typeMask)
	if stype >= sockMax {
		return 0, 0, false, unix.EINVAL
	}
	if typ&unix.SOCK_NONBLOCK != 0 {
		fileFlags = unix.O_NONBLOCK
	}
	return stype, fileFlags, typ&unix.SOCK_CLOEXEC != 0, nil
}

// install puts f in the descriptor table and drops the creation reference.
func install(t *kernel.Task, f *vfs.File, cloexec bool) (int32, error) {
	fd, err := t.NewFD(f, cloexec)
	f.DecRef(ctx(t))
	return fd, err
}

// Socket implements socket(2).
func Socket(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	domain, typ, protocol := argInt(a[0]), argInt(a[1]), argInt(a[2])
	stype, ff, cloexec, err := splitType(typ)
	if err != nil {
		return 0, err
	}
	v := t.Kernel().VFS()
	s, err := newSocket(v, int(domain), stype, int(protocol))
	if err != nil {
		return 0, err
	}
	fd, err := install(t, socket.NewFile(v, ctx(t), s, ff), cloexec)
	return uint64(fd), err
}

// Socketpair implements socketpair(2) (AF_UNIX only, as on Linux).
func Socketpair(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	domain, typ, protocol, sv := argInt(a[0]), argInt(a[1]), argInt(a[2]), a[3]
	stype, ff, cloexec, err := splitType(typ)
	if err != nil {
		return 0, err
	}
	if domain != unix.AF_UNIX {
		if domain < 0 || domain >= afMax || (domain != unix.AF_INET && domain != unix.AF_INET6 && domain != unix.AF_NETLINK) {
			return 0, unix.EAFNOSUPPORT
		}
		return 0, unix.EOPNOTSUPP
	}
	switch stype {
	case unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET:
	case unix.SOCK_RAW:
		stype = unix.SOCK_DGRAM
	default:
		return 0, unix.ESOCKTNOSUPPORT
	}
	if protocol != 0 && protocol != unix.PF_UNIX {
		return 0, unix.EPROTONOSUPPORT
	}
	v := t.Kernel().VFS()
	c := caller(t)
	sa, sb := unixsock.NewPair(v, stype, c.Creds)
	fa := socket.NewFile(v, ctx(t), sa, ff)
	fb := socket.NewFile(v, ctx(t), sb, ff)
	fda, err := install(t, fa, cloexec)
	if err != nil {
		fb.DecRef(ctx(t))
		return 0, err
	}
	fdb, err := install(t, fb, cloexec)
	if err != nil {
		closeFD(t, fda)
		return 0, err
	}
	b := make([]byte, 8)
	le.PutUint32(b[0:], uint32(fda))
	le.PutUint32(b[4:], uint32(fdb))
	if err := copyOut(t, sv, b); err != nil {
		closeFD(t, fda)
		closeFD(t, fdb)
		return 0, err
	}
	return 0, nil
}

func closeFD(t *kernel.Task, fd int32) {
	if f, err := t.Files.Remove(fd); err == nil {
		f.DecRef(ctx(t))
	}
}

// copyInAddr reads a sockaddr argument.
func copyInAddr(t *kernel.Task, addr uint64, l int32) ([]byte, error) {
	if l < 0 || l > sockaddrMax {
		return nil, unix.EINVAL
	}
	b := make([]byte, l)
	if err := copyIn(t, addr, b); err != nil {
		return nil, err
	}
	return b, nil
}

// copyOutAddr writes a sockaddr result to addr/lenAddr (value-result
// length; the full length is reported, the copy truncated).
func copyOutAddr(t *kernel.Task, sa []byte, addr, lenAddr uint64) error {
	if addr == 0 || lenAddr == 0 {
		return nil
	}
	var lb [4]byte
	if err := copyIn(t, lenAddr, lb[:]); err != nil {
		return err
	}
	l := int32(le.Uint32(lb[:]))
	if l < 0 {
		return unix.EINVAL
	}
	if err := copyOut(t, addr, sa[:min(int(l), len(sa))]); err != nil {
		return err
	}
	le.PutUint32(lb[:], uint32(len(sa)))
	return copyOut(t, lenAddr, lb[:])
}

// Bind implements bind(2).
func Bind(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	addr, err := copyInAddr(t, a[1], argInt(a[2]))
	if err != nil {
		return 0, err
	}
	return 0, s.Bind(caller(t), addr)
}

// Listen implements listen(2).
func Listen(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	backlog := argInt(a[1])
	if uint32(backlog) > somaxconn {
		backlog = somaxconn
	}
	return 0, s.Listen(caller(t), int(backlog))
}

// Accept implements accept(2).
func Accept(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return accept(t, argInt(a[0]), a[1], a[2], 0)
}

// Accept4 implements accept4(2).
func Accept4(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return accept(t, argInt(a[0]), a[1], a[2], argInt(a[3]))
}

func accept(t *kernel.Task, fd int32, addr, lenAddr uint64, flags int32) (uint64, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if addr != 0 {
		var lb [4]byte
		if err := copyIn(t, lenAddr, lb[:]); err != nil {
			return 0, err
		}
		if int32(le.Uint32(lb[:])) < 0 {
			return 0, unix.EINVAL
		}
	}
	var ff uint32
	if flags&unix.SOCK_NONBLOCK != 0 {
		ff = unix.O_NONBLOCK
	}
	c := caller(t)
	rcv, _ := s.Timeouts()
	var nf *vfs.File
	var peer []byte
	err = block(t, f, readable, rcv, nonblocking(f, 0), func() error {
		var err error
		nf, peer, err = s.Accept(c, ff)
		return err
	})
	if err != nil {
		return 0, err
	}
	nfd, err := install(t, nf, flags&unix.SOCK_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	if err := copyOutAddr(t, peer, addr, lenAddr); err != nil {
		// Linux keeps the new descriptor only if the address was written.
		closeFD(t, nfd)
		return 0, err
	}
	return uint64(nfd), nil
}

// Connect implements connect(2): blocking sockets wait for the
// connection (up to SO_SNDTIMEO); non-blocking ones return EINPROGRESS.
func Connect(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	addr, err := copyInAddr(t, a[1], argInt(a[2]))
	if err != nil {
		return 0, err
	}
	c := caller(t)
	_, snd := s.Timeouts()
	nonblock := nonblocking(f, 0)
	err = block(t, f, writable, snd, nonblock, func() error { return s.Connect(c, addr) })
	if err != unix.EINPROGRESS || nonblock {
		return 0, err
	}
	err = block(t, f, writable, snd, false, func() error {
		if f.Readiness(writable) == 0 {
			return unix.EAGAIN
		}
		return nil
	})
	if err == unix.EAGAIN {
		return 0, unix.EINPROGRESS // SO_SNDTIMEO expired
	}
	if err != nil {
		return 0, err
	}
	return 0, s.FinishConnect()
}

// Shutdown implements shutdown(2).
func Shutdown(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	how := argInt(a[1])
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return 0, unix.EINVAL
	}
	return 0, s.Shutdown(caller(t), int(how))
}

func getName(t *kernel.Task, a *kernel.SyscallArgs, peer bool) (uint64, error) {
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	var lb [4]byte
	if err := copyIn(t, a[2], lb[:]); err != nil {
		return 0, err
	}
	if int32(le.Uint32(lb[:])) < 0 {
		return 0, unix.EINVAL
	}
	var sa []byte
	if peer {
		sa, err = s.PeerName()
	} else {
		sa, err = s.SockName()
	}
	if err != nil {
		return 0, err
	}
	return 0, copyOutAddr(t, sa, a[1], a[2])
}

// Getsockname implements getsockname(2).
func Getsockname(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return getName(t, a, false)
}

// Getpeername implements getpeername(2).
func Getpeername(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return getName(t, a, true)
}

// Getsockopt implements getsockopt(2).
func Getsockopt(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	level, name, optval, optlenAddr := argInt(a[1]), argInt(a[2]), a[3], a[4]
	var lb [4]byte
	if err := copyIn(t, optlenAddr, lb[:]); err != nil {
		return 0, err
	}
	optlen := int32(le.Uint32(lb[:]))
	if optlen < 0 {
		return 0, unix.EINVAL
	}
	val, err := s.GetSockOpt(caller(t), int(level), int(name), int(min(optlen, maxOptLen)))
	if err != nil {
		return 0, err
	}
	n := min(int(optlen), len(val))
	if err := copyOut(t, optval, val[:n]); err != nil {
		return 0, err
	}
	le.PutUint32(lb[:], uint32(n))
	return 0, copyOut(t, optlenAddr, lb[:])
}

// Setsockopt implements setsockopt(2).
func Setsockopt(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, s, err := getSocket(t, argInt(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	level, name, optval, optlen := argInt(a[1]), argInt(a[2]), a[3], argInt(a[4])
	if optlen < 0 || optlen > maxOptLen {
		return 0, unix.EINVAL
	}
	val := make([]byte, optlen)
	if err := copyIn(t, optval, val); err != nil {
		return 0, err
	}
	return 0, s.SetSockOpt(caller(t), int(level), int(name), val)
}
