package unixsock

import (
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

var testCtx = vfs.NewContext(vfs.RootCredentials())

// fakePaths is a PathResolver over a map.
type fakePaths map[string]socket.PathKey

func (p fakePaths) MknodSocket(path string) (socket.PathKey, error) {
	if _, ok := p[path]; ok {
		return socket.PathKey{}, unix.EADDRINUSE
	}
	k := socket.PathKey{Dev: 1, Ino: uint64(len(p) + 100)}
	p[path] = k
	return k, nil
}

func (p fakePaths) LookupSocket(path string) (socket.PathKey, error) {
	k, ok := p[path]
	if !ok {
		return socket.PathKey{}, unix.ENOENT
	}
	return k, nil
}

func newCaller(pid int32) *socket.Caller {
	cr := socket.Creds{PID: pid, UID: 1000, GID: 1000}
	return &socket.Caller{Ctx: testCtx, Creds: cr, RealCreds: cr, Paths: fakePaths{}}
}

func addr(name string) []byte {
	b := make([]byte, 2, 2+len(name))
	binary.LittleEndian.PutUint16(b, unix.AF_UNIX)
	return append(b, name...)
}

var uniq int

func abstractName() string {
	uniq++
	return fmt.Sprintf("\x00unixsock-test-%d", uniq)
}

func mustSend(t *testing.T, s *Socket, data string) {
	t.Helper()
	if n, err := s.SendMsg(newCaller(1), []byte(data), nil, nil, 0); err != nil || n != len(data) {
		t.Fatalf("send %q: %d %v", data, n, err)
	}
}

func recvString(s *Socket, n, flags int) (string, socket.RecvResult, error) {
	buf := make([]byte, n)
	r, err := s.RecvMsg(newCaller(1), buf, flags, 0)
	return string(buf[:r.N]), r, err
}

func TestMessageBoundaries(t *testing.T) {
	for _, tc := range []struct {
		stype int
		sends []string
		bufs  []int
		want  []string
		trunc []bool
	}{
		{unix.SOCK_STREAM, []string{"abc", "defg"}, []int{100}, []string{"abcdefg"}, []bool{false}},
		{unix.SOCK_STREAM, []string{"abcdef"}, []int{2, 2, 10}, []string{"ab", "cd", "ef"}, []bool{false, false, false}},
		{unix.SOCK_DGRAM, []string{"abc", "defg"}, []int{100, 100}, []string{"abc", "defg"}, []bool{false, false}},
		{unix.SOCK_DGRAM, []string{"abcdef", "x"}, []int{2, 10}, []string{"ab", "x"}, []bool{true, false}},
		{unix.SOCK_SEQPACKET, []string{"abc", "defg"}, []int{100, 2}, []string{"abc", "de"}, []bool{false, true}},
		{unix.SOCK_DGRAM, []string{""}, []int{10}, []string{""}, []bool{false}},
	} {
		t.Run(fmt.Sprintf("type%d-%v", tc.stype, tc.sends), func(t *testing.T) {
			a, b := NewPair(nil, tc.stype, socket.Creds{})
			defer a.Release(testCtx)
			defer b.Release(testCtx)
			for _, s := range tc.sends {
				mustSend(t, a, s)
			}
			for i, n := range tc.bufs {
				got, r, err := recvString(b, n, 0)
				if err != nil || got != tc.want[i] || (r.Flags&unix.MSG_TRUNC != 0) != tc.trunc[i] {
					t.Errorf("recv %d: %q flags %#x %v, want %q trunc %v", i, got, r.Flags, err, tc.want[i], tc.trunc[i])
				}
			}
			if _, _, err := recvString(b, 10, 0); err != unix.EAGAIN {
				t.Errorf("empty queue: %v, want EAGAIN", err)
			}
		})
	}
}

func TestPeek(t *testing.T) {
	for _, stype := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET} {
		a, b := NewPair(nil, stype, socket.Creds{})
		mustSend(t, a, "hello")
		for i := 0; i < 2; i++ {
			if got, _, err := recvString(b, 3, unix.MSG_PEEK); got != "hel" || err != nil {
				t.Errorf("type %d peek: %q %v", stype, got, err)
			}
		}
		if got, _, _ := recvString(b, 10, 0); stype == unix.SOCK_STREAM && got != "hello" {
			t.Errorf("read after peek: %q", got)
		}
		a.Release(testCtx)
		b.Release(testCtx)
	}
}

func TestShutdownAndClose(t *testing.T) {
	a, b := NewPair(nil, unix.SOCK_STREAM, socket.Creds{})
	mustSend(t, a, "last")
	if err := a.Shutdown(newCaller(1), unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SendMsg(newCaller(1), []byte("x"), nil, nil, 0); err != unix.EPIPE {
		t.Errorf("send after SHUT_WR: %v", err)
	}
	if r := b.Readiness(waiter.AllEvents); r&waiter.EventIn == 0 || r&waiter.EventRdHUp == 0 || r&waiter.EventHUp != 0 {
		t.Errorf("readiness after peer SHUT_WR: %#x", r)
	}
	if got, _, _ := recvString(b, 10, 0); got != "last" {
		t.Errorf("data before EOF: %q", got)
	}
	if got, _, err := recvString(b, 10, 0); got != "" || err != nil {
		t.Errorf("EOF: %q %v", got, err)
	}
	// b can still write to a.
	mustSend(t, b, "back")
	if got, _, _ := recvString(a, 10, 0); got != "back" {
		t.Errorf("reverse direction: %q", got)
	}
	b.Release(testCtx)
	if r := a.Readiness(waiter.AllEvents); r&waiter.EventHUp == 0 {
		t.Errorf("readiness after peer close: %#x", r)
	}
	if _, err := a.SendMsg(newCaller(1), []byte("x"), nil, nil, 0); err != unix.EPIPE {
		t.Errorf("send to closed peer: %v", err)
	}
	a.Release(testCtx)
	if err := a.Shutdown(newCaller(1), 7); err != unix.EINVAL {
		t.Errorf("bad how: %v", err)
	}
}

func TestReadinessAndFlowControl(t *testing.T) {
	a, b := NewPair(nil, unix.SOCK_STREAM, socket.Creds{})
	defer a.Release(testCtx)
	defer b.Release(testCtx)
	if r := b.Readiness(waiter.AllEvents); r != waiter.EventOut|waiter.EventWrNorm {
		t.Errorf("idle readiness %#x", r)
	}
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	b.EventRegister(e)
	mustSend(t, a, "x")
	select {
	case <-ch:
	default:
		t.Error("no notification on data")
	}
	b.EventUnregister(e)
	// Fill the peer's queue: a becomes unwritable, then writable again
	// (with a notification) once b reads.
	big := make([]byte, 1<<20)
	total := 0
	for {
		n, err := a.SendMsg(newCaller(1), big, nil, nil, 0)
		total += n
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if a.Readiness(waiter.EventOut) != 0 {
		t.Error("writable with a full peer")
	}
	we, wch := waiter.NewChannelEntry(waiter.WritableEvents)
	a.EventRegister(we)
	defer a.EventUnregister(we)
	buf := make([]byte, total)
	r, err := b.RecvMsg(newCaller(1), buf, 0, 0)
	if err != nil || r.N != total {
		t.Fatalf("drain: %d of %d, %v", r.N, total, err)
	}
	select {
	case <-wch:
	default:
		t.Error("no writable notification after drain")
	}
}

// refFile is a file whose release is observable.
type refFile struct {
	vfs.StreamFileBase
	released *bool
}

func (f refFile) Release(vfs.Context) { *f.released = true }

func newRefFile(released *bool) *vfs.File {
	v := vfs.New()
	in := v.NewAnonInode(testCtx, 0o600)
	return v.NewFile(v.NewAnonLocation("test", in, 0), refFile{released: released}, unix.O_RDWR)
}

func TestRightsRefcounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		// after sending (the sender's own reference dropped), what the
		// test does; wantReleased is checked at the end.
		do func(t *testing.T, a, b *Socket)
	}{
		{"received and closed", func(t *testing.T, a, b *Socket) {
			r, err := b.RecvMsg(newCaller(1), make([]byte, 1), 0, 100)
			if err != nil || len(r.Control.Rights) != 1 {
				t.Fatalf("recv: %v %d rights", err, len(r.Control.Rights))
			}
			r.Control.Release(testCtx)
		}},
		{"peeked then received", func(t *testing.T, a, b *Socket) {
			r, _ := b.RecvMsg(newCaller(1), make([]byte, 1), unix.MSG_PEEK, 100)
			r.Control.Release(testCtx)
			r, _ = b.RecvMsg(newCaller(1), make([]byte, 1), 0, 100)
			if len(r.Control.Rights) != 1 {
				t.Fatalf("rights after peek: %d", len(r.Control.Rights))
			}
			r.Control.Release(testCtx)
		}},
		{"never received, receiver closed", func(t *testing.T, a, b *Socket) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, stype := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET} {
				released := false
				f := newRefFile(&released)
				a, b := NewPair(nil, stype, socket.Creds{})
				f.IncRef()
				cm := &socket.ControlMessages{Rights: []*vfs.File{f}}
				if _, err := a.SendMsg(newCaller(1), []byte("F"), nil, cm, 0); err != nil {
					t.Fatal(err)
				}
				if len(cm.Rights) != 0 {
					t.Fatal("send did not take the rights")
				}
				f.DecRef(testCtx)
				if released {
					t.Fatal("released while in flight")
				}
				tc.do(t, a, b)
				a.Release(testCtx)
				b.Release(testCtx)
				if !released {
					t.Errorf("type %d: file not released", stype)
				}
			}
		})
	}
}

func TestStreamStopsAtRights(t *testing.T) {
	released := false
	f := newRefFile(&released)
	a, b := NewPair(nil, unix.SOCK_STREAM, socket.Creds{})
	defer b.Release(testCtx)
	defer a.Release(testCtx)
	mustSend(t, a, "ab")
	a.SendMsg(newCaller(1), []byte("cd"), nil, &socket.ControlMessages{Rights: []*vfs.File{f}}, 0)
	mustSend(t, a, "ef")
	for _, want := range []struct {
		data   string
		rights int
	}{{"abcd", 1}, {"ef", 0}} { // the rights end a read, as on Linux
		buf := make([]byte, 10)
		r, err := b.RecvMsg(newCaller(1), buf, 0, 100)
		if err != nil || string(buf[:r.N]) != want.data || len(r.Control.Rights) != want.rights {
			t.Errorf("got %q with %d rights (%v), want %q with %d", buf[:r.N], len(r.Control.Rights), err, want.data, want.rights)
		}
		r.Control.Release(testCtx)
	}
}

func TestListenConnectAccept(t *testing.T) {
	c := newCaller(7)
	l := New(nil, unix.SOCK_STREAM)
	defer l.Release(testCtx)
	name := abstractName()
	if err := l.Listen(c, 0); err != unix.EINVAL {
		t.Errorf("listen unbound: %v", err)
	}
	if err := l.Bind(c, addr(name)); err != nil {
		t.Fatal(err)
	}
	dup := New(nil, unix.SOCK_STREAM)
	if err := dup.Bind(c, addr(name)); err != unix.EADDRINUSE {
		t.Errorf("second bind: %v", err)
	}
	dup.Release(testCtx)
	x := New(nil, unix.SOCK_STREAM)
	if err := x.Connect(c, addr(name)); err != unix.ECONNREFUSED {
		t.Errorf("connect before listen: %v", err)
	}
	if err := l.Listen(c, 0); err != nil {
		t.Fatal(err)
	}
	// Backlog 0 admits one pending connection.
	if err := x.Connect(c, addr(name)); err != nil {
		t.Fatal(err)
	}
	y := New(nil, unix.SOCK_STREAM)
	defer y.Release(testCtx)
	if err := y.Connect(c, addr(name)); err != unix.EAGAIN {
		t.Errorf("connect with full backlog: %v", err)
	}
	if err := x.Connect(c, addr(name)); err != unix.EISCONN {
		t.Errorf("second connect: %v", err)
	}
	d := New(nil, unix.SOCK_DGRAM)
	// Abstract names are per type: no datagram socket has this one.
	if err := d.Connect(c, addr(name)); err != unix.ECONNREFUSED {
		t.Errorf("dgram to stream: %v, want ECONNREFUSED", err)
	}
	d.Release(testCtx)
	if l.Readiness(waiter.EventIn) == 0 {
		t.Error("listener not readable with a pending connection")
	}
	// Accept needs a VFS for the new file.
	l.v = vfs.New()
	f, peer, err := l.Accept(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(testCtx)
	if len(peer) != 2 {
		t.Errorf("peer address of an unbound client: %q", peer)
	}
	srv := f.Impl().(*Socket)
	mustSend(t, x, "hi")
	if got, _, _ := recvString(srv, 10, 0); got != "hi" {
		t.Errorf("server got %q", got)
	}
	pc, _ := srv.GetSockOpt(c, unix.SOL_SOCKET, unix.SO_PEERCRED, 12)
	if pid := binary.LittleEndian.Uint32(pc); pid != 7 {
		t.Errorf("SO_PEERCRED pid %d", pid)
	}
	if _, _, err := l.Accept(c, 0); err != unix.EAGAIN {
		t.Errorf("accept on empty queue: %v", err)
	}
	// The slot freed: y may connect now.
	if err := y.Connect(c, addr(name)); err != nil {
		t.Errorf("connect after accept: %v", err)
	}
	x.Release(testCtx)
	if got, _, err := recvString(srv, 10, 0); got != "" || err != nil {
		t.Errorf("EOF after client close: %q %v", got, err)
	}
}

func TestPathBindAndDgramAddress(t *testing.T) {
	c := newCaller(1)
	s := New(nil, unix.SOCK_DGRAM)
	defer s.Release(testCtx)
	if err := s.Bind(c, addr("/tmp/sock")); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(c, addr("/tmp/other")); err != unix.EINVAL {
		t.Errorf("rebind: %v", err)
	}
	name, _ := s.SockName()
	if string(name[2:]) != "/tmp/sock\x00" {
		t.Errorf("sockname %q", name)
	}
	snd := New(nil, unix.SOCK_DGRAM)
	defer snd.Release(testCtx)
	if _, err := snd.SendMsg(c, []byte("x"), nil, nil, 0); err != unix.ENOTCONN {
		t.Errorf("send unconnected: %v", err)
	}
	if _, err := snd.SendMsg(c, []byte("x"), addr("/tmp/none"), nil, 0); err != unix.ENOENT {
		t.Errorf("send to missing path: %v", err)
	}
	if _, err := snd.SendMsg(c, []byte("x"), addr("/tmp/sock"), nil, 0); err != nil {
		t.Fatal(err)
	}
	_, r, _ := recvString(s, 10, 0)
	if r.From != nil {
		t.Errorf("from of unbound sender %q, want none (msg_namelen 0)", r.From)
	}
	for _, bad := range [][]byte{{1}, {2, 0, 'x'}} {
		if err := New(nil, unix.SOCK_DGRAM).Bind(c, bad); err != unix.EINVAL {
			t.Errorf("bind %q: %v", bad, err)
		}
	}
}

func TestPasscred(t *testing.T) {
	a, b := NewPair(nil, unix.SOCK_DGRAM, socket.Creds{})
	defer a.Release(testCtx)
	defer b.Release(testCtx)
	b.SetSockOpt(newCaller(1), unix.SOL_SOCKET, unix.SO_PASSCRED, socket.Int32(1))
	a.SendMsg(newCaller(42), []byte("x"), nil, nil, 0)
	_, r, _ := recvString(b, 10, 0)
	if r.Control.Creds == nil || r.Control.Creds.PID != 42 {
		t.Errorf("creds %+v", r.Control.Creds)
	}
}

func TestAbstractNamespacePerType(t *testing.T) {
	c := newCaller(1)
	name := abstractName()
	st := New(nil, unix.SOCK_STREAM)
	if err := st.Bind(c, addr(name)); err != nil {
		t.Fatal(err)
	}
	if err := New(nil, unix.SOCK_STREAM).Bind(c, addr(name)); err != unix.EADDRINUSE {
		t.Errorf("second stream bind: %v, want EADDRINUSE", err)
	}
	dg := New(nil, unix.SOCK_DGRAM)
	if err := dg.Bind(c, addr(name)); err != nil {
		t.Errorf("dgram bind of a stream socket's name: %v, want success", err)
	}
	if err := New(nil, unix.SOCK_SEQPACKET).Connect(c, addr(name)); err != unix.ECONNREFUSED {
		t.Errorf("seqpacket connect: %v, want ECONNREFUSED", err)
	}
	st.Release(testCtx)
	dg.Release(testCtx)
}

func TestAutobind(t *testing.T) {
	c := newCaller(1)
	s := New(nil, unix.SOCK_DGRAM)
	defer s.Release(testCtx)
	if err := s.Bind(c, addr("")); err != nil {
		t.Fatal(err)
	}
	first, _ := s.SockName()
	if len(first) != 8 || first[2] != 0 {
		t.Fatalf("autobound name %q, want \\0 and 5 hex digits", first)
	}
	if err := s.Bind(c, addr("")); err != nil {
		t.Errorf("autobind of a bound socket: %v, want success", err)
	}
	if again, _ := s.SockName(); string(again) != string(first) {
		t.Errorf("name changed from %q to %q", first, again)
	}

	// A datagram sender with SO_PASSCRED is autobound when it sends.
	a, b := NewPair(nil, unix.SOCK_DGRAM, c.Creds)
	defer a.Release(testCtx)
	defer b.Release(testCtx)
	if err := a.SetSockOpt(c, unix.SOL_SOCKET, unix.SO_PASSCRED, socket.Int32(1)); err != nil {
		t.Fatal(err)
	}
	mustSend(t, a, "x")
	if n, _ := a.SockName(); len(n) != 8 {
		t.Errorf("sender with SO_PASSCRED has name %q after a send, want an autobound one", n)
	}
}

func TestLinuxErrnos(t *testing.T) {
	c := newCaller(1)
	d := New(nil, unix.SOCK_DGRAM)
	if _, _, err := d.Accept(c, 0); err != unix.EOPNOTSUPP {
		t.Errorf("accept on a datagram socket: %v, want EOPNOTSUPP", err)
	}
	if err := New(nil, unix.SOCK_STREAM).Shutdown(c, unix.SHUT_RDWR); err != nil {
		t.Errorf("shutdown of an unconnected stream socket: %v, want success", err)
	}
	// A datagram socket whose peer closed: ECONNREFUSED once, then it is
	// disconnected.
	name := abstractName()
	srv := New(nil, unix.SOCK_DGRAM)
	if err := srv.Bind(c, addr(name)); err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(c, addr(name)); err != nil {
		t.Fatal(err)
	}
	srv.Release(testCtx)
	for _, want := range []error{unix.ECONNREFUSED, unix.ENOTCONN} {
		if _, err := d.SendMsg(c, []byte("x"), nil, nil, 0); err != want {
			t.Errorf("send to a closed peer: %v, want %v", err, want)
		}
	}
	d.Release(testCtx)
}

func TestPeekOffset(t *testing.T) {
	c := newCaller(1)
	for _, tc := range []struct {
		stype int
		sends []string
		// peeks of 2 bytes each, then a read of 3, then a peek of 10
		peeks      []string
		read, last string
	}{
		{unix.SOCK_STREAM, []string{"abc", "def"}, []string{"ab", "cd", "ef"}, "abc", ""}, // offset 3 of "def": nothing yet
		{unix.SOCK_DGRAM, []string{"abc", "def"}, []string{"ab", "c", "de"}, "abc", "f"},
	} {
		a, b := NewPair(nil, tc.stype, c.Creds)
		if err := b.SetSockOpt(c, unix.SOL_SOCKET, unix.SO_PEEK_OFF, socket.Int32(0)); err != nil {
			t.Fatal(err)
		}
		for _, m := range tc.sends {
			mustSend(t, a, m)
		}
		for _, want := range tc.peeks {
			if got, _, err := recvString(b, 2, unix.MSG_PEEK); got != want || err != nil {
				t.Errorf("type %d: peek %q (%v), want %q", tc.stype, got, err, want)
			}
		}
		if got, _, _ := recvString(b, 3, 0); got != tc.read {
			t.Errorf("type %d: read %q, want %q", tc.stype, got, tc.read)
		}
		// The read moved the offset back by what it consumed.
		if got, _, _ := recvString(b, 10, unix.MSG_PEEK); got != tc.last {
			t.Errorf("type %d: last peek %q, want %q", tc.stype, got, tc.last)
		}
		a.Release(testCtx)
		b.Release(testCtx)
	}
}

func TestRecordsHaveNoUrgentData(t *testing.T) {
	c := newCaller(1)
	for _, stype := range []int{unix.SOCK_DGRAM, unix.SOCK_SEQPACKET} {
		a, b := NewPair(nil, stype, c.Creds)
		if _, err := a.SendMsg(c, []byte("x"), nil, nil, unix.MSG_OOB); err != unix.EOPNOTSUPP {
			t.Errorf("type %d: send MSG_OOB: %v, want EOPNOTSUPP", stype, err)
		}
		if _, err := b.RecvMsg(c, make([]byte, 1), unix.MSG_OOB, 0); err != unix.EOPNOTSUPP {
			t.Errorf("type %d: recv MSG_OOB: %v, want EOPNOTSUPP", stype, err)
		}
		a.Release(testCtx)
		b.Release(testCtx)
	}
}

func TestShutdownListenerRefuses(t *testing.T) {
	c := newCaller(1)
	name := abstractName()
	l := New(nil, unix.SOCK_STREAM)
	defer l.Release(testCtx)
	if err := l.Bind(c, addr(name)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(c, 4); err != nil {
		t.Fatal(err)
	}
	if err := l.Shutdown(c, unix.SHUT_RD); err != nil {
		t.Fatal(err)
	}
	s := New(nil, unix.SOCK_STREAM)
	defer s.Release(testCtx)
	if err := s.Connect(c, addr(name)); err != unix.ECONNREFUSED {
		t.Errorf("connect to a listener shut down for reading: %v, want ECONNREFUSED", err)
	}
}

func TestUnread(t *testing.T) {
	c := newCaller(1)
	a, b := NewPair(nil, unix.SOCK_STREAM, c.Creds)
	defer a.Release(testCtx)
	defer b.Release(testCtx)
	mustSend(t, a, "abcdef")
	got, _, _ := recvString(b, 6, 0)
	b.Unread(testCtx, []byte(got[2:]))
	if rest, _, _ := recvString(b, 10, 0); rest != "cdef" {
		t.Errorf("after unread: %q, want %q", rest, "cdef")
	}
	d1, d2 := NewPair(nil, unix.SOCK_DGRAM, c.Creds)
	defer d1.Release(testCtx)
	defer d2.Release(testCtx)
	d2.Unread(testCtx, []byte("x"))
	if _, _, err := recvString(d2, 10, 0); err != unix.EAGAIN {
		t.Errorf("datagram socket took back data: %v", err)
	}
}
