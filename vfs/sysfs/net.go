package sysfs

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// The sandbox's network interfaces are all "virtual" devices (the loopback
// and a container's veth), so each is /sys/devices/virtual/net/NAME, with
// /sys/class/net/NAME a link to it, as on Linux.

// interfaces lists the network interfaces (none without a lister), or
// fails with the errno to give the guest when they cannot be listed (EIO
// unless the lister said better).
func (fs *FS) interfaces() ([]Interface, error) {
	if fs.opts.Interfaces == nil {
		return nil, nil
	}
	ifs, err := fs.opts.Interfaces()
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return nil, errno
		}
		return nil, unix.EIO
	}
	return ifs, nil
}

// classNet lists /sys/class/net.
func (fs *FS) classNet(b dirBuilder) ([]child, error) {
	ifs, err := fs.interfaces()
	if err != nil {
		return nil, err
	}
	cs := make([]child, 0, len(ifs))
	for _, ifc := range ifs {
		c := b.link(ifc.Name, "../../devices/virtual/net/"+ifc.Name)
		// Offsets by interface index stay put while others come and go.
		c.off = 2 + int64(ifc.Index)
		cs = append(cs, c)
	}
	return cs, nil
}

// virtualNet lists /sys/devices/virtual/net.
func (fs *FS) virtualNet(b dirBuilder) ([]child, error) {
	ifs, err := fs.interfaces()
	if err != nil {
		return nil, err
	}
	cs := make([]child, 0, len(ifs))
	for _, ifc := range ifs {
		name := ifc.Name
		c := b.dir(name, func(b dirBuilder) []child { return fs.netDevice(b, name) })
		c.off = 2 + int64(ifc.Index)
		cs = append(cs, c)
	}
	return cs, nil
}

// netDevice builds the attributes of interface name. They are read from
// the interface as it is when read: ENODEV once it has gone, as Linux.
func (fs *FS) netDevice(b dirBuilder, name string) []child {
	get := func(f func(ifc *Interface) string) func() ([]byte, error) {
		return func() ([]byte, error) {
			ifs, err := fs.interfaces()
			if err != nil {
				return nil, err
			}
			for i := range ifs {
				if ifs[i].Name == name {
					return []byte(f(&ifs[i]) + "\n"), nil
				}
			}
			return nil, unix.ENODEV
		}
	}
	num := func(f func(ifc *Interface) int64) func() ([]byte, error) {
		return get(func(ifc *Interface) string { return strconv.FormatInt(f(ifc), 10) })
	}
	// Changing an interface needs CAP_NET_ADMIN over the host's network,
	// which the guest never has.
	return []child{
		b.attr("addr_len", num(func(ifc *Interface) int64 { return int64(len(ifc.Address)) })),
		b.attr("address", get(func(ifc *Interface) string { return formatHardwareAddr(ifc.Address) })),
		b.attr("broadcast", get(func(ifc *Interface) string { return formatHardwareAddr(ifc.Broadcast) })),
		b.writable("flags", unix.EPERM, get(func(ifc *Interface) string { return fmt.Sprintf("%#x", deviceFlags(ifc.Flags)) })),
		b.attr("ifindex", num(func(ifc *Interface) int64 { return int64(ifc.Index) })),
		b.attr("iflink", num(func(ifc *Interface) int64 { return int64(ifc.Link) })),
		b.writable("mtu", unix.EPERM, num(func(ifc *Interface) int64 { return int64(ifc.MTU) })),
		b.attr("operstate", get(func(ifc *Interface) string { return operState(ifc.OperState) })),
		b.link("subsystem", "../../../../class/net"),
		b.writable("tx_queue_len", unix.EPERM, num(func(ifc *Interface) int64 { return int64(ifc.TxQueueLen) })),
		b.attr("type", num(func(ifc *Interface) int64 { return int64(ifc.Type) })),
		b.writable("uevent", unix.EPERM, func() ([]byte, error) {
			ifs, err := fs.interfaces()
			if err != nil {
				return nil, err
			}
			for _, ifc := range ifs {
				if ifc.Name == name {
					return fmt.Appendf(nil, "INTERFACE=%s\nIFINDEX=%d\n", ifc.Name, ifc.Index), nil
				}
			}
			return nil, unix.ENODEV
		}),
	}
}

// deviceFlags returns the flags an interface's sysfs flags attribute shows
// (the device's own) from those rtnetlink reports, which add the
// operational state bits.
func deviceFlags(f uint32) uint32 {
	return f &^ (unix.IFF_RUNNING | unix.IFF_LOWER_UP | unix.IFF_DORMANT)
}

// operState names an IF_OPER_* state as Linux's operstate attribute does.
func operState(s uint8) string {
	names := [...]string{"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"}
	if int(s) < len(names) {
		return names[s]
	}
	return "unknown"
}

// formatHardwareAddr writes a link-layer address as colon-separated hex
// bytes.
func formatHardwareAddr(a []byte) string {
	b := make([]byte, 0, 3*len(a))
	for i, c := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = fmt.Appendf(b, "%02x", c)
	}
	return string(b)
}
