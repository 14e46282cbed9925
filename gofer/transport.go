//go:build linux

package gofer

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxMessageSize bounds every packet in both directions. The server reads
// requests into buffers of this size, so a longer packet arrives truncated
// (MSG_TRUNC) and is answered with EINVAL instead of being allocated.
const MaxMessageSize = 64 << 10

// oobSpace is room for a few SCM_RIGHTS FDs. Only one FD is ever sent on
// purpose; extra room lets a receiver see and close FDs a buggy or hostile
// peer adds instead of having the kernel report MSG_CTRUNC only.
var oobSpace = unix.CmsgSpace(8 * 4)

// packetConn is a SOCK_SEQPACKET socket driven through the Go netpoller:
// an idle reader parks as a goroutine rather than holding an OS thread in
// recvmsg. Measured on a 2-CPU VM, a netpoller round trip is about half
// that of blocking syscalls, and blocking readers sharing one socket are
// all woken for every packet.
type packetConn struct {
	f  *os.File // nil when rc belongs to a caller's connection
	rc syscall.RawConn
}

// newPacketConn takes ownership of fd.
func newPacketConn(fd int) (*packetConn, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set nonblocking: %w", err)
	}
	f := os.NewFile(uintptr(fd), "gofer-socket")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &packetConn{f: f, rc: rc}, nil
}

func (c *packetConn) close() error {
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

func (c *packetConn) send(data []byte, fd int) error {
	var opErr error
	err := c.rc.Write(func(sock uintptr) bool {
		opErr = sendPacket(int(sock), data, fd, unix.MSG_DONTWAIT)
		return opErr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	return opErr
}

func (c *packetConn) recv(buf, oob []byte) (n int, fds []int, flags int, err error) {
	var opErr error
	err = c.rc.Read(func(sock uintptr) bool {
		n, fds, flags, opErr = recvPacket(int(sock), buf, oob, unix.MSG_DONTWAIT)
		return opErr != unix.EAGAIN
	})
	if err != nil {
		return 0, nil, 0, err
	}
	return n, fds, flags, opErr
}

func (c *packetConn) peerClosed() bool {
	closed := true
	c.rc.Control(func(sock uintptr) { closed = peerClosed(int(sock)) })
	return closed
}

// sendPacket sends one packet with an optional FD (fd < 0 for none).
// Raw sendmsg avoids x/sys's extra SO_TYPE lookup and allocations.
func sendPacket(sock int, data []byte, fd int, flags int) error {
	var iov unix.Iovec
	if len(data) > 0 {
		iov.Base = &data[0]
		iov.SetLen(len(data))
	}
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1}
	if fd >= 0 {
		oob := unix.UnixRights(fd)
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	for {
		_, _, errno := unix.Syscall(unix.SYS_SENDMSG, uintptr(sock), uintptr(unsafe.Pointer(&msg)), uintptr(unix.MSG_NOSIGNAL|flags))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

// recvPacket receives one packet into buf and returns its length, the FDs
// that came with it (already O_CLOEXEC) and the recvmsg flags.
func recvPacket(sock int, buf, oob []byte, flags int) (n int, fds []int, rflags int, err error) {
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &oob[0]}
	msg.SetControllen(len(oob))
	for {
		r, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(sock), uintptr(unsafe.Pointer(&msg)), uintptr(unix.MSG_CMSG_CLOEXEC|flags))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, nil, 0, errno
		}
		n = int(r)
		break
	}
	if msg.Controllen > 0 {
		fds = parseRights(oob[:msg.Controllen])
	}
	return n, fds, int(msg.Flags), nil
}

// parseRights extracts every SCM_RIGHTS FD from control data so none leak.
func parseRights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		r, err := unix.ParseUnixRights(&msgs[i])
		if err == nil {
			fds = append(fds, r...)
		}
	}
	return fds
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// peerClosed tells an end of stream from a zero-length packet: on a
// SOCK_SEQPACKET socket recvmsg returns 0 for both.
func peerClosed(sock int) bool {
	pfd := []unix.PollFd{{Fd: int32(sock), Events: unix.POLLIN | unix.POLLRDHUP}}
	n, err := unix.Poll(pfd, 0)
	if err != nil {
		return err != unix.EINTR
	}
	return n > 0 && pfd[0].Revents&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR|unix.POLLNVAL) != 0
}

// ignoringEINTR retries a syscall interrupted by a signal; the Go runtime's
// preemption signals can interrupt slow file system calls (e.g. on FUSE/NFS).
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if err != unix.EINTR {
			return err
		}
	}
}
