// Package hostinet implements AF_INET and AF_INET6 sockets (and
// NETLINK_ROUTE, read-only) with host sockets the sentry owns, in the
// sandbox's network namespace. Host sockets are always non-blocking and
// close-on-exec; the guest never sees their numbers. Their readiness comes
// from the host notifier of package vfs/host (one epoll FD, edge-triggered),
// which notifies the socket's waiter queue; the system call layer does the
// blocking (and SO_RCVTIMEO/SO_SNDTIMEO) in the sentry.
package hostinet

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/host"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

const (
	sockaddrMax = 128 // sizeof(struct sockaddr_storage)
	maxOptLen   = 512
	maxControl  = 64 << 10
)

// Socket is a guest socket backed by a host socket.
type Socket struct {
	socket.Base
	v                       *vfs.VFS
	fd                      int
	family, stype, protocol int
	id                      uint64
	registered              bool
}

// New creates a host socket. The caller has validated family, type and
// protocol (see Supported).
func New(v *vfs.VFS, family, stype, protocol int) (*Socket, error) {
	fd, err := unix.Socket(family, stype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, protocol)
	if err != nil {
		return nil, err
	}
	return wrap(v, fd, family, stype, protocol), nil
}

func wrap(v *vfs.VFS, fd, family, stype, protocol int) *Socket {
	s := &Socket{v: v, fd: fd, family: family, stype: stype, protocol: protocol}
	s.id, s.registered = host.RegisterFD(fd, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLPRI|unix.EPOLLRDHUP, &s.Queue)
	return s
}

// Release implements vfs.FileImpl.
func (s *Socket) Release(vfs.Context) {
	if s.registered {
		host.UnregisterFD(s.fd, s.id)
	}
	unix.Close(s.fd)
}

// Info implements socket.Socket.
func (s *Socket) Info() (int, int, int) { return s.family, s.stype, s.protocol }

func ptr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

func errOf(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// checkAddr refuses addresses the host socket must not see.
func (s *Socket) checkAddr(addr []byte) error {
	if len(addr) > sockaddrMax {
		return unix.EINVAL
	}
	if s.family == unix.AF_NETLINK {
		// Only the kernel (port 0) and no multicast groups.
		if len(addr) < 12 {
			return unix.EINVAL
		}
		if binary.LittleEndian.Uint16(addr) != unix.AF_NETLINK {
			return unix.EINVAL
		}
	}
	return nil
}

// Bind implements socket.Socket. The sentry may bind any port (it keeps
// CAP_NET_BIND_SERVICE), so it refuses the caller a port below
// c.MinBindPort itself, with EACCES as Linux's inet_bind.
func (s *Socket) Bind(c *socket.Caller, addr []byte) error {
	if err := s.checkAddr(addr); err != nil {
		return err
	}
	if port := inetPort(s.family, addr); port != 0 && port < c.MinBindPort {
		if s.family == unix.AF_INET {
			if err := s.probeAddr(addr); err == unix.EADDRNOTAVAIL {
				return err
			}
		}
		return unix.EACCES
	}
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(s.fd), ptr(addr), uintptr(len(addr)))
	return errOf(e)
}

// probeAddr binds a throwaway socket like s (IP_FREEBIND included) to
// addr's address with port 0. IPv4's inet_bind refuses a non-local address
// (EADDRNOTAVAIL) before it looks at the port, and only the host knows
// which addresses are local.
func (s *Socket) probeAddr(addr []byte) error {
	fd, err := unix.Socket(s.family, s.stype|unix.SOCK_CLOEXEC, s.protocol)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if v, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_FREEBIND); err == nil && v != 0 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
	}
	probe := append([]byte(nil), addr...)
	probe[2], probe[3] = 0, 0 // port 0
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), ptr(probe), uintptr(len(probe)))
	return errOf(e)
}

// inetPort returns the port an inet socket's bind would take from addr,
// or 0 where Linux refuses the address before it looks at the port.
func inetPort(family int, addr []byte) int {
	const sin6LenRFC2133 = 24 // the shortest sockaddr_in6 Linux accepts
	if len(addr) < 4 {
		return 0
	}
	af := int(binary.LittleEndian.Uint16(addr))
	switch {
	case family == unix.AF_INET && len(addr) >= unix.SizeofSockaddrInet4:
		// AF_UNSPEC with INADDR_ANY is taken as AF_INET, for old programs.
		if af != unix.AF_INET && (af != unix.AF_UNSPEC || binary.BigEndian.Uint32(addr[4:]) != 0) {
			return 0
		}
	case family == unix.AF_INET6 && len(addr) >= sin6LenRFC2133:
		if af != unix.AF_INET6 {
			return 0
		}
	default:
		return 0
	}
	return int(binary.BigEndian.Uint16(addr[2:]))
}

// Listen implements socket.Socket.
func (s *Socket) Listen(_ *socket.Caller, backlog int) error {
	if s.family == unix.AF_NETLINK {
		return unix.EOPNOTSUPP
	}
	return unix.Listen(s.fd, backlog)
}

// Accept implements socket.Socket.
func (s *Socket) Accept(c *socket.Caller, fileFlags uint32) (*vfs.File, []byte, error) {
	if s.family == unix.AF_NETLINK {
		return nil, nil, unix.EOPNOTSUPP
	}
	var buf [sockaddrMax]byte
	l := uint32(len(buf))
	nfd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(s.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return nil, nil, e
	}
	ns := wrap(s.v, int(nfd), s.family, s.stype, s.protocol)
	return socket.NewFile(s.v, c.Ctx, ns, fileFlags), buf[:min(int(l), len(buf))], nil
}

// Connect implements socket.Socket.
func (s *Socket) Connect(_ *socket.Caller, addr []byte) error {
	if err := s.checkAddr(addr); err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(s.fd), ptr(addr), uintptr(len(addr)))
	if e == unix.EALREADY && s.stype == unix.SOCK_STREAM {
		return unix.EINPROGRESS // a restarted blocking connect waits again
	}
	return errOf(e)
}

// FinishConnect implements socket.Socket.
func (s *Socket) FinishConnect() error {
	v, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// Shutdown implements socket.Socket.
func (s *Socket) Shutdown(_ *socket.Caller, how int) error {
	if s.family == unix.AF_NETLINK {
		return unix.EOPNOTSUPP
	}
	return unix.Shutdown(s.fd, how)
}

func (s *Socket) name(nr uintptr) ([]byte, error) {
	var buf [sockaddrMax]byte
	l := uint32(len(buf))
	_, _, e := unix.Syscall(nr, uintptr(s.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return nil, e
	}
	return buf[:min(int(l), len(buf))], nil
}

// SockName implements socket.Socket.
func (s *Socket) SockName() ([]byte, error) { return s.name(unix.SYS_GETSOCKNAME) }

// PeerName implements socket.Socket.
func (s *Socket) PeerName() ([]byte, error) { return s.name(unix.SYS_GETPEERNAME) }

// Read implements vfs.StreamFile.
func (s *Socket) Read(ctx vfs.Context, dst []byte) (int, error) {
	r, err := s.RecvMsg(&socket.Caller{Ctx: ctx}, dst, 0, 0)
	return r.N, err
}

// Write implements vfs.StreamFile.
func (s *Socket) Write(ctx vfs.Context, src []byte) (int, error) {
	return s.SendMsg(&socket.Caller{Ctx: ctx}, src, nil, nil, 0)
}

// Send flags passed to the host; MSG_DONTWAIT|MSG_NOSIGNAL are always added.
const sendFlags = unix.MSG_OOB | unix.MSG_DONTROUTE | unix.MSG_EOR | unix.MSG_MORE | unix.MSG_CONFIRM

// Receive flags passed to the host; MSG_DONTWAIT is always added.
const recvFlags = unix.MSG_OOB | unix.MSG_PEEK | unix.MSG_TRUNC | unix.MSG_ERRQUEUE

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(c *socket.Caller, src []byte, to []byte, cm *socket.ControlMessages, flags int) (int, error) {
	if cm != nil && len(cm.Rights) > 0 {
		return 0, unix.EINVAL
	}
	if to != nil {
		if err := s.checkAddr(to); err != nil {
			return 0, err
		}
		if s.family == unix.AF_NETLINK && binary.LittleEndian.Uint32(to[4:]) != 0 {
			return 0, unix.EPERM
		}
	}
	if s.family == unix.AF_NETLINK {
		if err := checkNetlinkRequest(src); err != nil {
			return 0, err
		}
	}
	var iov unix.Iovec
	var dummy byte
	iov.Base = &dummy
	if len(src) > 0 {
		iov.Base = &src[0]
	}
	iov.SetLen(len(src))
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1}
	if len(to) > 0 {
		msg.Name = &to[0]
		msg.Namelen = uint32(len(to))
	}
	if cm != nil && len(cm.Raw) > 0 {
		msg.Control = &cm.Raw[0]
		msg.SetControllen(len(cm.Raw))
	}
	n, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags&sendFlags|unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// RecvMsg implements socket.Socket.
func (s *Socket) RecvMsg(c *socket.Caller, dst []byte, flags int, controlLen int) (socket.RecvResult, error) {
	var r socket.RecvResult
	var iov unix.Iovec
	var dummy byte
	iov.Base = &dummy
	if len(dst) > 0 {
		iov.Base = &dst[0]
	}
	iov.SetLen(len(dst))
	var name [sockaddrMax]byte
	msg := unix.Msghdr{Name: &name[0], Namelen: sockaddrMax, Iov: &iov, Iovlen: 1}
	var control []byte
	if controlLen > 0 {
		control = make([]byte, min(controlLen, maxControl))
		msg.Control = &control[0]
		msg.SetControllen(len(control))
	}
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags&recvFlags|unix.MSG_DONTWAIT))
	if e != 0 {
		return r, e
	}
	r.MsgLen = int(n)
	r.N = min(int(n), len(dst))
	r.Flags = int(msg.Flags)
	if msg.Namelen > 0 {
		r.From = append([]byte(nil), name[:min(int(msg.Namelen), sockaddrMax)]...)
	}
	if controlLen > 0 {
		r.Control.Raw = sanitizeControl(control[:min(int(msg.Controllen), len(control))])
	}
	return r, nil
}

// sanitizeControl drops (and closes) any SCM_RIGHTS a host socket
// delivered: host FDs never reach the guest.
func sanitizeControl(b []byte) []byte {
	out := b[:0:0]
	for len(b) >= unix.SizeofCmsghdr {
		l := int(binary.LittleEndian.Uint64(b))
		if l < unix.SizeofCmsghdr || l > len(b) {
			break
		}
		level := int32(binary.LittleEndian.Uint32(b[8:]))
		typ := int32(binary.LittleEndian.Uint32(b[12:]))
		if level == unix.SOL_SOCKET && typ == unix.SCM_RIGHTS {
			for p := unix.SizeofCmsghdr; p+4 <= l; p += 4 {
				unix.Close(int(int32(binary.LittleEndian.Uint32(b[p:]))))
			}
		} else {
			out = append(out, b[:min(cmsgAlign(l), len(b))]...)
		}
		b = b[min(cmsgAlign(l), len(b)):]
	}
	return out
}

func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// Readiness implements vfs.Waitable.
func (s *Socket) Readiness(mask waiter.EventMask) waiter.EventMask {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: int16(mask | waiter.EventErr | waiter.EventHUp)}}
	if _, err := unix.Poll(fds, 0); err != nil {
		return 0
	}
	return waiter.EventMask(uint16(fds[0].Revents)) & mask
}

// Ioctl implements vfs.Ioctler.
func (s *Socket) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.SIOCINQ, unix.SIOCOUTQ, unix.SIOCATMARK, unix.SIOCOUTQNSD:
		v, err := unix.IoctlGetInt(s.fd, uint(cmd))
		if err != nil {
			return 0, err
		}
		return 0, vfs.CopyOut(ctx, arg, socket.Int32(v))
	}
	fd := s.fd
	if s.family == unix.AF_NETLINK {
		fd = -1
	}
	return socket.InterfaceIoctlFD(ctx, fd, cmd, arg)
}

// GetSockOpt implements socket.Socket.
func (s *Socket) GetSockOpt(c *socket.Caller, level, name, optLen int) ([]byte, error) {
	if out, ok, err := s.TimeoOpt(level, name, nil); ok {
		return out, err
	}
	if !allowedOpt(level, name, true) {
		return nil, unix.ENOPROTOOPT
	}
	if optLen < 0 {
		return nil, unix.EINVAL
	}
	buf := make([]byte, max(min(optLen, maxOptLen), 4))
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), uintptr(level), uintptr(name), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return nil, e
	}
	return buf[:min(int(l), len(buf))], nil
}

// SetSockOpt implements socket.Socket.
func (s *Socket) SetSockOpt(c *socket.Caller, level, name int, val []byte) error {
	if _, ok, err := s.TimeoOpt(level, name, val); ok {
		return err
	}
	if !allowedOpt(level, name, false) {
		return unix.ENOPROTOOPT
	}
	if len(val) > maxOptLen {
		return unix.EINVAL
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(s.fd), uintptr(level), uintptr(name), ptr(val), uintptr(len(val)), 0)
	return errOf(e)
}

// UDP-Lite checksum coverage options (SOL_UDPLITE), which x/sys lacks.
const (
	udpliteSendCscov = 10
	udpliteRecvCscov = 11
)

// Options passed through to the host socket. get marks read-only ones.
var (
	solSocketOpts = map[int]bool{
		unix.SO_REUSEADDR: false, unix.SO_REUSEPORT: false, unix.SO_KEEPALIVE: false,
		unix.SO_RCVBUF: false, unix.SO_SNDBUF: false, unix.SO_LINGER: false,
		unix.SO_BROADCAST: false, unix.SO_OOBINLINE: false, unix.SO_RCVLOWAT: false,
		unix.SO_SNDLOWAT: false, unix.SO_PRIORITY: false, unix.SO_TIMESTAMP: false,
		unix.SO_TIMESTAMPNS: false, unix.SO_PASSCRED: false, unix.SO_DONTROUTE: false,
		unix.SO_ERROR: true, unix.SO_TYPE: true, unix.SO_DOMAIN: true,
		unix.SO_PROTOCOL: true, unix.SO_ACCEPTCONN: true,
	}
	tcpOpts = map[int]bool{
		unix.TCP_NODELAY: false, unix.TCP_MAXSEG: false, unix.TCP_CORK: false,
		unix.TCP_KEEPIDLE: false, unix.TCP_KEEPINTVL: false, unix.TCP_KEEPCNT: false,
		unix.TCP_LINGER2: false, unix.TCP_DEFER_ACCEPT: false, unix.TCP_QUICKACK: false,
		unix.TCP_CONGESTION: false, unix.TCP_USER_TIMEOUT: false, unix.TCP_FASTOPEN: false,
		unix.TCP_NOTSENT_LOWAT: false, unix.TCP_SYNCNT: false, unix.TCP_WINDOW_CLAMP: false,
		unix.TCP_INFO: true,
	}
	ipOpts = map[int]bool{
		unix.IP_TOS: false, unix.IP_TTL: false, unix.IP_RECVERR: false, unix.IP_PKTINFO: false,
		unix.IP_MTU_DISCOVER: false, unix.IP_RECVTOS: false, unix.IP_RECVTTL: false,
		unix.IP_MULTICAST_IF: false, unix.IP_MULTICAST_TTL: false, unix.IP_MULTICAST_LOOP: false,
		unix.IP_ADD_MEMBERSHIP: false, unix.IP_DROP_MEMBERSHIP: false, unix.IP_MULTICAST_ALL: false,
		unix.IP_FREEBIND: false, unix.IP_BIND_ADDRESS_NO_PORT: false, unix.IP_RECVORIGDSTADDR: false,
		unix.IP_MTU: true,
	}
	ipv6Opts = map[int]bool{
		unix.IPV6_V6ONLY: false, unix.IPV6_UNICAST_HOPS: false, unix.IPV6_MULTICAST_IF: false,
		unix.IPV6_MULTICAST_HOPS: false, unix.IPV6_MULTICAST_LOOP: false, unix.IPV6_JOIN_GROUP: false,
		unix.IPV6_LEAVE_GROUP: false, unix.IPV6_RECVERR: false, unix.IPV6_RECVPKTINFO: false,
		unix.IPV6_TCLASS: false, unix.IPV6_RECVTCLASS: false, unix.IPV6_MTU_DISCOVER: false,
		unix.IPV6_MTU: false, unix.IPV6_RECVHOPLIMIT: false,
	}
	udpOpts = map[int]bool{
		unix.UDP_CORK: false, unix.UDP_SEGMENT: false, unix.UDP_GRO: false,
	}
	udpliteOpts = map[int]bool{
		udpliteSendCscov: false, udpliteRecvCscov: false,
	}
	netlinkOpts = map[int]bool{
		unix.NETLINK_PKTINFO: false, unix.NETLINK_NO_ENOBUFS: false, unix.NETLINK_CAP_ACK: false,
		unix.NETLINK_EXT_ACK: false, unix.NETLINK_GET_STRICT_CHK: false,
	}
)

func allowedOpt(level, name int, get bool) bool {
	var m map[int]bool
	switch level {
	case unix.SOL_SOCKET:
		m = solSocketOpts
	case unix.IPPROTO_TCP:
		m = tcpOpts
	case unix.IPPROTO_IP:
		m = ipOpts
	case unix.IPPROTO_IPV6:
		m = ipv6Opts
	case unix.IPPROTO_UDP:
		m = udpOpts
	case unix.IPPROTO_UDPLITE:
		m = udpliteOpts
	case unix.SOL_NETLINK:
		m = netlinkOpts
	default:
		return false
	}
	ro, ok := m[name]
	return ok && (get || !ro)
}

// checkNetlinkRequest lets only rtnetlink GET requests (RTM_GETLINK,
// RTM_GETADDR, RTM_GETROUTE...) through: anything that would change the
// sandbox's network is EPERM.
func checkNetlinkRequest(b []byte) error {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.LittleEndian.Uint32(b))
		typ := binary.LittleEndian.Uint16(b[4:])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			// Linux's netlink_rcv_skb stops here too: the rest is
			// never parsed.
			break
		}
		if typ < unix.RTM_BASE || (typ-unix.RTM_BASE)%4 != 2 {
			return unix.EPERM
		}
		a := (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if a >= len(b) {
			break
		}
		b = b[a:]
	}
	return nil
}
