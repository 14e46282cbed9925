package socket

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// ifreqSize is sizeof(struct ifreq); ifconfSize sizeof(struct ifconf).
const (
	ifreqSize  = 40
	ifconfSize = 16
	maxIfconf  = 64 << 10
)

// readIfreqIoctls are the SIOCGIF* requests answered by copying a struct
// ifreq in, asking the host and copying it back.
var readIfreqIoctls = map[uint32]bool{
	unix.SIOCGIFNAME:    true,
	unix.SIOCGIFFLAGS:   true,
	unix.SIOCGIFADDR:    true,
	unix.SIOCGIFDSTADDR: true,
	unix.SIOCGIFBRDADDR: true,
	unix.SIOCGIFNETMASK: true,
	unix.SIOCGIFMETRIC:  true,
	unix.SIOCGIFMTU:     true,
	unix.SIOCGIFHWADDR:  true,
	unix.SIOCGIFINDEX:   true,
	unix.SIOCGIFTXQLEN:  true,
	unix.SIOCGIFMAP:     true,
}

// InterfaceIoctl answers the network-interface ioctls every socket accepts
// (SIOCGIFCONF, SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFADDR...) from the
// sandbox's network namespace, through a transient host socket. Requests
// that change interfaces are EPERM; anything else ENOTTY.
func InterfaceIoctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	return InterfaceIoctlFD(ctx, -1, cmd, arg)
}

// InterfaceIoctlFD is InterfaceIoctl on host socket fd (-1: a transient
// one).
func InterfaceIoctlFD(ctx vfs.Context, fd int, cmd uint32, arg uintptr) (uintptr, error) {
	switch {
	case readIfreqIoctls[cmd], cmd == unix.SIOCGIFCONF:
	case cmd >= 0x8900 && cmd <= 0x89ff:
		// SIOCSIF*, routing and ARP changes: the sandbox's network is
		// not the guest's to change.
		if cmd == unix.SIOCGSTAMP || cmd == unix.SIOCGSTAMPNS {
			return 0, unix.ENOENT
		}
		return 0, unix.EPERM
	default:
		return 0, unix.ENOTTY
	}
	if fd < 0 {
		tmp, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return 0, err
		}
		defer unix.Close(tmp)
		fd = tmp
	}
	if cmd == unix.SIOCGIFCONF {
		var ifc [ifconfSize]byte
		if err := vfs.CopyIn(ctx, arg, ifc[:]); err != nil {
			return 0, err
		}
		n := int(int32(binary.LittleEndian.Uint32(ifc[0:])))
		guestBuf := binary.LittleEndian.Uint64(ifc[8:])
		if n < 0 {
			n = 0
		}
		n = min(n, maxIfconf)
		var buf []byte
		var hc [ifconfSize]byte
		if guestBuf != 0 {
			buf = make([]byte, n+ifreqSize) // room so the host pointer is never nil
			binary.LittleEndian.PutUint32(hc[0:], uint32(n))
			binary.LittleEndian.PutUint64(hc[8:], uint64(uintptr(unsafe.Pointer(&buf[0]))))
		}
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(cmd), uintptr(unsafe.Pointer(&hc[0]))); e != 0 {
			return 0, e
		}
		got := int(int32(binary.LittleEndian.Uint32(hc[0:])))
		if guestBuf != 0 {
			got = min(max(got, 0), n)
			// The host wrote host-side sockaddrs: they are plain data.
			if err := vfs.CopyOut(ctx, uintptr(guestBuf), buf[:got]); err != nil {
				return 0, err
			}
		}
		binary.LittleEndian.PutUint32(ifc[0:], uint32(got))
		return 0, vfs.CopyOut(ctx, arg, ifc[:4])
	}
	var req [ifreqSize]byte
	if err := vfs.CopyIn(ctx, arg, req[:]); err != nil {
		return 0, err
	}
	if cmd == unix.SIOCGIFMAP {
		return 0, unix.EOPNOTSUPP
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(cmd), uintptr(unsafe.Pointer(&req[0]))); e != 0 {
		return 0, e
	}
	return 0, vfs.CopyOut(ctx, arg, req[:])
}
