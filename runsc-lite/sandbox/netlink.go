package sandbox

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"syscall"

	"golang.org/x/sys/unix"
)

// LoopbackUp brings the `lo` interface of the caller's network namespace
// up with an rtnetlink RTM_NEWLINK request (no `ip` binary needed).
func LoopbackUp() error {
	return setLinkUp("lo")
}

func setLinkUp(name string) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink bind: %w", err)
	}

	// nlmsghdr | ifinfomsg | rtattr(IFLA_IFNAME, name\0) padded to 4.
	attrLen := unix.SizeofRtAttr + len(name) + 1
	msgLen := unix.SizeofNlMsghdr + unix.SizeofIfInfomsg + nlAlign(attrLen)
	buf := make([]byte, msgLen)
	const seq = 1
	*(*unix.NlMsghdr)(unsafe.Pointer(&buf[0])) = unix.NlMsghdr{
		Len:   uint32(msgLen),
		Type:  unix.RTM_NEWLINK,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK,
		Seq:   seq,
	}
	*(*unix.IfInfomsg)(unsafe.Pointer(&buf[unix.SizeofNlMsghdr])) = unix.IfInfomsg{
		Family: unix.AF_UNSPEC,
		Index:  0, // look the link up by IFLA_IFNAME
		Flags:  unix.IFF_UP,
		Change: unix.IFF_UP,
	}
	off := unix.SizeofNlMsghdr + unix.SizeofIfInfomsg
	*(*unix.RtAttr)(unsafe.Pointer(&buf[off])) = unix.RtAttr{Len: uint16(attrLen), Type: unix.IFLA_IFNAME}
	copy(buf[off+unix.SizeofRtAttr:], name)

	if err := unix.Sendto(fd, buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	rbuf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(fd, rbuf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(rbuf[:n])
		if err != nil {
			return fmt.Errorf("netlink parse: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return fmt.Errorf("netlink: short error message")
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
				return fmt.Errorf("bringing %s up: %w", name, unix.Errno(-code))
			}
			return nil
		}
	}
}

func nlAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
