package hostinet

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

func nlmsg(typ uint16, payload int) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+payload)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], typ)
	return b
}

func TestCheckNetlinkRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"getlink", nlmsg(unix.RTM_GETLINK, 16), nil},
		{"getaddr", nlmsg(unix.RTM_GETADDR, 8), nil},
		{"getroute", nlmsg(unix.RTM_GETROUTE, 12), nil},
		{"newaddr", nlmsg(unix.RTM_NEWADDR, 8), unix.EPERM},
		{"dellink", nlmsg(unix.RTM_DELLINK, 16), unix.EPERM},
		{"setlink", nlmsg(unix.RTM_SETLINK, 16), unix.EPERM},
		{"noop", nlmsg(unix.NLMSG_NOOP, 0), unix.EPERM},
		{"get then new", append(nlmsg(unix.RTM_GETLINK, 16), nlmsg(unix.RTM_NEWROUTE, 16)...), unix.EPERM},
		{"get with trailing zeros", append(nlmsg(unix.RTM_GETLINK, 16), make([]byte, 64)...), nil},
		{"short", []byte{1, 2, 3}, nil},
	} {
		if err := checkNetlinkRequest(tc.msg); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestAllowedOpt(t *testing.T) {
	for _, tc := range []struct {
		level, name int
		get, want   bool
	}{
		{unix.SOL_SOCKET, unix.SO_REUSEADDR, false, true},
		{unix.SOL_SOCKET, unix.SO_ERROR, true, true},
		{unix.SOL_SOCKET, unix.SO_ERROR, false, false},
		{unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, false, false},
		{unix.SOL_SOCKET, unix.SO_BINDTODEVICE, false, false},
		{unix.IPPROTO_TCP, unix.TCP_NODELAY, false, true},
		{unix.IPPROTO_TCP, unix.TCP_INFO, true, true},
		{unix.IPPROTO_IP, unix.IP_HDRINCL, false, false},
		{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, false, true},
		{unix.SOL_PACKET, 1, true, false},
	} {
		if got := allowedOpt(tc.level, tc.name, tc.get); got != tc.want {
			t.Errorf("allowedOpt(%d, %d, %v) = %v", tc.level, tc.name, tc.get, got)
		}
	}
}

func TestLoopbackTCP(t *testing.T) {
	ctx := vfs.NewContext(vfs.RootCredentials())
	c := &socket.Caller{Ctx: ctx}
	v := vfs.New()
	l, err := New(v, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("no host sockets: %v", err)
	}
	defer l.Release(ctx)
	sa := make([]byte, 16)
	binary.LittleEndian.PutUint16(sa, unix.AF_INET)
	copy(sa[4:], []byte{127, 0, 0, 1})
	if err := l.Bind(c, sa); err != nil {
		t.Skipf("bind loopback: %v", err)
	}
	if err := l.Listen(c, 1); err != nil {
		t.Fatal(err)
	}
	name, err := l.SockName()
	if err != nil || len(name) != 16 {
		t.Fatalf("sockname %v %v", name, err)
	}
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	l.EventRegister(e)
	defer l.EventUnregister(e)
	cl, _ := New(v, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer cl.Release(ctx)
	if err := cl.Connect(c, name); err != nil && err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	// The notifier reports the pending connection.
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no readiness notification for the listener")
	}
	f, peer, err := l.Accept(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	if len(peer) != 16 {
		t.Errorf("peer %v", peer)
	}
	if _, err := cl.SendMsg(c, []byte("hi"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	srv := f.Impl().(*Socket)
	deadline := time.Now().Add(5 * time.Second)
	for srv.Readiness(waiter.EventIn) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	buf := make([]byte, 10)
	r, err := srv.RecvMsg(c, buf, 0, 0)
	if err != nil || string(buf[:r.N]) != "hi" {
		t.Errorf("recv %q %v", buf[:r.N], err)
	}
	if _, err := srv.RecvMsg(c, buf, 0, 0); err != unix.EAGAIN {
		t.Errorf("empty: %v", err)
	}
	if _, err := cl.SendMsg(c, []byte("x"), nil, &socket.ControlMessages{Rights: []*vfs.File{f}}, 0); err != unix.EINVAL {
		t.Errorf("SCM_RIGHTS on inet: %v", err)
	}
}

func TestBindPrivilegedPort(t *testing.T) {
	inet4 := func(af uint16, port uint16, addr [4]byte) []byte {
		sa := make([]byte, unix.SizeofSockaddrInet4)
		binary.LittleEndian.PutUint16(sa, af)
		binary.BigEndian.PutUint16(sa[2:], port)
		copy(sa[4:], addr[:])
		return sa
	}
	inet6 := func(port uint16, n int) []byte {
		sa := make([]byte, n)
		binary.LittleEndian.PutUint16(sa, unix.AF_INET6)
		binary.BigEndian.PutUint16(sa[2:], port)
		return sa
	}
	for _, tc := range []struct {
		name   string
		family int
		addr   []byte
		want   int
	}{
		{"inet", unix.AF_INET, inet4(unix.AF_INET, 80, [4]byte{127, 0, 0, 1}), 80},
		{"inet any port", unix.AF_INET, inet4(unix.AF_INET, 0, [4]byte{}), 0},
		{"inet unspec any", unix.AF_INET, inet4(unix.AF_UNSPEC, 22, [4]byte{}), 22},
		{"inet unspec loopback", unix.AF_INET, inet4(unix.AF_UNSPEC, 22, [4]byte{127, 0, 0, 1}), 0},
		{"inet wrong family", unix.AF_INET, inet4(unix.AF_INET6, 22, [4]byte{}), 0},
		{"inet short", unix.AF_INET, inet4(unix.AF_INET, 22, [4]byte{})[:8], 0},
		{"inet6", unix.AF_INET6, inet6(443, unix.SizeofSockaddrInet6), 443},
		{"inet6 rfc2133 length", unix.AF_INET6, inet6(443, 24), 443},
		{"inet6 short", unix.AF_INET6, inet6(443, 20), 0},
		{"netlink", unix.AF_NETLINK, inet4(unix.AF_NETLINK, 80, [4]byte{}), 0},
	} {
		if got := inetPort(tc.family, tc.addr); got != tc.want {
			t.Errorf("%s: inetPort = %d, want %d", tc.name, got, tc.want)
		}
	}

	// A caller below MinBindPort is refused before the host sees the
	// address; one allowed reaches the host (port 0: any free port).
	ctx := vfs.NewContext(vfs.RootCredentials())
	s, err := New(vfs.New(), unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("no host sockets: %v", err)
	}
	defer s.Release(ctx)
	if err := s.Bind(&socket.Caller{Ctx: ctx, MinBindPort: 1024}, inet4(unix.AF_INET, 1023, [4]byte{127, 0, 0, 1})); err != unix.EACCES {
		t.Errorf("bind of port 1023 with MinBindPort 1024: %v, want EACCES", err)
	}
	if err := s.Bind(&socket.Caller{Ctx: ctx, MinBindPort: 1024}, inet4(unix.AF_INET, 0, [4]byte{127, 0, 0, 1})); err != nil {
		t.Errorf("bind of port 0 with MinBindPort 1024: %v", err)
	}
}
