package boot

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs/sysfs"
)

// listInterfaces lists the network interfaces of the sentry's network
// namespace (the guest's) with an rtnetlink RTM_GETLINK dump, for
// /sys/class/net. The confined sentry may still make netlink requests
// (hostinet's NETLINK_ROUTE sockets need them), so it lists them each time
// the guest looks: a container's interfaces are often moved into the
// namespace after the sandbox has started.
func listInterfaces() ([]sysfs.Interface, error) {
	rib, err := syscall.NetlinkRIB(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink dump: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink parse: %w", err)
	}
	var out []sysfs.Interface
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK {
			continue
		}
		ifc, ok := parseLink(m.Data)
		if ok {
			out = append(out, ifc)
		}
	}
	return out, nil
}

// parseLink decodes one RTM_NEWLINK message (ifinfomsg and attributes).
func parseLink(b []byte) (sysfs.Interface, bool) {
	if len(b) < unix.SizeofIfInfomsg {
		return sysfs.Interface{}, false
	}
	ifc := sysfs.Interface{
		Type:  binary.NativeEndian.Uint16(b[2:4]),
		Index: int32(binary.NativeEndian.Uint32(b[4:8])),
		Flags: binary.NativeEndian.Uint32(b[8:12]),
	}
	ifc.Link = ifc.Index
	attrs, err := syscall.ParseNetlinkRouteAttr(&syscall.NetlinkMessage{
		Header: syscall.NlMsghdr{Type: unix.RTM_NEWLINK},
		Data:   b,
	})
	if err != nil {
		return sysfs.Interface{}, false
	}
	u32 := func(v []byte) uint32 {
		if len(v) < 4 {
			return 0
		}
		return binary.NativeEndian.Uint32(v)
	}
	for _, a := range attrs {
		switch a.Attr.Type {
		case unix.IFLA_IFNAME:
			name := a.Value
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			ifc.Name = string(name)
		case unix.IFLA_MTU:
			ifc.MTU = u32(a.Value)
		case unix.IFLA_TXQLEN:
			ifc.TxQueueLen = u32(a.Value)
		case unix.IFLA_LINK:
			ifc.Link = int32(u32(a.Value))
		case unix.IFLA_OPERSTATE:
			if len(a.Value) > 0 {
				ifc.OperState = a.Value[0]
			}
		case unix.IFLA_ADDRESS:
			ifc.Address = append([]byte(nil), a.Value...)
		case unix.IFLA_BROADCAST:
			ifc.Broadcast = append([]byte(nil), a.Value...)
		}
	}
	return ifc, ifc.Name != ""
}
