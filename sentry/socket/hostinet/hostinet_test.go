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
