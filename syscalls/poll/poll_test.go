package poll

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

var testCtx = vfs.NewContext(vfs.RootCredentials())

// fakeFile is a Waitable file whose readiness the test controls.
type fakeFile struct {
	vfs.StreamFileBase
	mu    sync.Mutex
	ready waiter.EventMask
	q     waiter.Queue
}

func (f *fakeFile) Read(vfs.Context, []byte) (int, error)  { return 0, unix.EAGAIN }
func (f *fakeFile) Write(vfs.Context, []byte) (int, error) { return 0, unix.EAGAIN }

func (f *fakeFile) Readiness(m waiter.EventMask) waiter.EventMask {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready & m
}
func (f *fakeFile) EventRegister(e *waiter.Entry)   { f.q.Register(e) }
func (f *fakeFile) EventUnregister(e *waiter.Entry) { f.q.Unregister(e) }

// set changes the readiness and notifies with the file lock held, as many
// real files do.
func (f *fakeFile) set(m waiter.EventMask) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready = m
	if m != 0 {
		f.q.Notify(m)
	}
}

func newTestFile(t *testing.T, v *vfs.VFS, impl vfs.FileImpl) *vfs.File {
	t.Helper()
	f := newAnonFile(v, testCtx, "test", impl, unix.O_RDWR)
	t.Cleanup(func() { f.DecRef(testCtx) })
	return f
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, v)
	return b
}

func TestEventFD(t *testing.T) {
	type op struct {
		write   bool
		val     uint64 // value written, or expected read
		buf     int    // buffer size (0: 8)
		wantErr error
	}
	tests := []struct {
		name string
		init uint64
		sem  bool
		ops  []op
	}{
		{"empty read", 0, false, []op{{val: 0, wantErr: unix.EAGAIN}}},
		{"read all", 5, false, []op{{val: 5}, {wantErr: unix.EAGAIN}}},
		{"accumulate", 0, false, []op{{write: true, val: 3}, {write: true, val: 4}, {val: 7}}},
		{"semaphore", 3, true, []op{{val: 1}, {val: 1}, {val: 1}, {wantErr: unix.EAGAIN}}},
		{"short read", 1, false, []op{{buf: 7, wantErr: unix.EINVAL}, {val: 1}}},
		{"short write", 0, false, []op{{write: true, buf: 4, wantErr: unix.EINVAL}}},
		{"long write", 0, false, []op{{write: true, val: 1, buf: 16, wantErr: unix.EINVAL}, {wantErr: unix.EAGAIN}}},
		{"long read", 2, false, []op{{val: 2, buf: 16}}},
		{"write max+1", 0, false, []op{{write: true, val: ^uint64(0), wantErr: unix.EINVAL}}},
		{"overflow blocks", eventfdMax - 1, false, []op{
			{write: true, val: 1},
			{write: true, val: 1, wantErr: unix.EAGAIN},
			{val: eventfdMax},
			{write: true, val: 1},
		}},
		{"write zero", 0, false, []op{{write: true, val: 0}, {wantErr: unix.EAGAIN}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEventFD(tc.init, tc.sem)
			for i, o := range tc.ops {
				size := 8
				if o.buf != 0 {
					size = o.buf
				}
				buf := make([]byte, max(size, 8))[:size]
				var err error
				if o.write {
					if size >= 8 {
						copy(buf, u64(o.val))
					}
					_, err = e.Write(testCtx, buf)
				} else {
					var n int
					n, err = e.Read(testCtx, buf)
					if err == nil && (n != 8 || binary.LittleEndian.Uint64(buf) != o.val) {
						t.Fatalf("op %d: read %d bytes, value %d; want %d", i, n, binary.LittleEndian.Uint64(buf), o.val)
					}
				}
				if err != o.wantErr {
					t.Fatalf("op %d: err %v, want %v", i, err, o.wantErr)
				}
			}
		})
	}
}

func TestEventFDInfo(t *testing.T) {
	for _, tc := range []struct {
		val  uint64
		sem  bool
		want string
	}{
		{0x1234, false, "eventfd-count:             1234\neventfd-semaphore: 0\n"},
		{1, true, "eventfd-count:                1\neventfd-semaphore: 1\n"},
	} {
		if got := NewEventFD(tc.val, tc.sem).FDInfo(); got != tc.want {
			t.Errorf("FDInfo(%#x, %v) = %q, want %q", tc.val, tc.sem, got, tc.want)
		}
	}
}

func TestEventFDReadiness(t *testing.T) {
	e := NewEventFD(0, false)
	all := waiter.AllEvents
	if got := e.Readiness(all); got != waiter.EventOut|waiter.EventWrNorm {
		t.Errorf("empty: readiness %#x", got)
	}
	e.Signal(eventfdMax)
	if got := e.Readiness(all); got != waiter.EventIn|waiter.EventRdNorm {
		t.Errorf("full: readiness %#x", got)
	}
	ent, ch := waiter.NewChannelEntry(waiter.EventOut)
	e.EventRegister(ent)
	defer e.EventUnregister(ent)
	e.Read(testCtx, make([]byte, 8))
	select {
	case <-ch:
	default:
		t.Errorf("read did not notify writers")
	}
}

func TestEventFDFileFlags(t *testing.T) {
	v := vfs.New()
	if _, err := NewEventFDFile(v, testCtx, 0, 0x4); err != unix.EINVAL {
		t.Fatalf("bad flags: %v", err)
	}
	f, err := NewEventFDFile(v, testCtx, 2, unix.O_NONBLOCK|unix.EFD_SEMAPHORE)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(testCtx)
	if f.StatusFlags()&unix.O_NONBLOCK == 0 || !f.Readable() || !f.Writable() {
		t.Errorf("flags %#x", f.StatusFlags())
	}
	buf := make([]byte, 8)
	if n, err := f.Read(testCtx, buf); n != 8 || err != nil || binary.LittleEndian.Uint64(buf) != 1 {
		t.Errorf("read: %d %v %v", n, err, buf)
	}
}

func newVFSForTest() *vfs.VFS { return vfs.New() }

func harvest(ep *Epoll) []EpollEvent { return ep.Harvest(testCtx, 16) }

func TestEpollTriggers(t *testing.T) {
	in := uint32(unix.EPOLLIN)
	tests := []struct {
		name  string
		flags uint32
		// reports: how many of three successive harvests (without any
		// change of readiness in between) report the file.
		want []int
	}{
		{"level", 0, []int{1, 1, 1}},
		{"edge", epollET, []int{1, 0, 0}},
		{"oneshot", epollOneShot, []int{1, 0, 0}},
		{"oneshot edge", epollOneShot | epollET, []int{1, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := vfs.New()
			ff := &fakeFile{}
			f := newTestFile(t, v, ff)
			ep := NewEpoll()
			if err := ep.Ctl(testCtx, unix.EPOLL_CTL_ADD, f, 5, EpollEvent{Events: in | tc.flags, Data: 0xabcdef0123}); err != nil {
				t.Fatal(err)
			}
			if evs := harvest(ep); len(evs) != 0 {
				t.Fatalf("not ready, got %v", evs)
			}
			ff.set(waiter.EventIn)
			for i, w := range tc.want {
				evs := harvest(ep)
				if len(evs) != w {
					t.Fatalf("harvest %d: %v, want %d events", i, evs, w)
				}
				if w == 1 && (evs[0].Events != in || evs[0].Data != 0xabcdef0123) {
					t.Fatalf("harvest %d: %+v", i, evs[0])
				}
			}
			// A new edge.
			ff.set(waiter.EventIn)
			evs := harvest(ep)
			switch {
			case tc.flags&epollOneShot != 0:
				if len(evs) != 0 {
					t.Fatalf("disarmed oneshot reported %v", evs)
				}
				// Re-arm.
				if err := ep.Ctl(testCtx, unix.EPOLL_CTL_MOD, f, 5, EpollEvent{Events: in | tc.flags, Data: 1}); err != nil {
					t.Fatal(err)
				}
				if evs := harvest(ep); len(evs) != 1 || evs[0].Data != 1 {
					t.Fatalf("re-armed: %v", evs)
				}
			default:
				if len(evs) != 1 {
					t.Fatalf("new edge: %v", evs)
				}
			}
			// Not ready any more: nothing, whatever the mode.
			ff.set(0)
			harvest(ep)
			if evs := harvest(ep); len(evs) != 0 {
				t.Fatalf("after reset: %v", evs)
			}
		})
	}
}

func TestEpollCtlErrors(t *testing.T) {
	v := vfs.New()
	ff := &fakeFile{}
	f := newTestFile(t, v, ff)
	ep := NewEpoll()
	in := EpollEvent{Events: unix.EPOLLIN}
	steps := []struct {
		op   int
		ev   EpollEvent
		want error
	}{
		{unix.EPOLL_CTL_MOD, in, unix.ENOENT},
		{unix.EPOLL_CTL_DEL, in, unix.ENOENT},
		{unix.EPOLL_CTL_ADD, EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE | unix.EPOLLPRI}, unix.EINVAL},
		{unix.EPOLL_CTL_ADD, EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE}, nil},
		{unix.EPOLL_CTL_MOD, in, unix.EINVAL}, // exclusive items cannot be modified
		{unix.EPOLL_CTL_ADD, in, unix.EEXIST},
		{unix.EPOLL_CTL_DEL, in, nil},
		{unix.EPOLL_CTL_ADD, in, nil},
		{unix.EPOLL_CTL_MOD, EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE}, unix.EINVAL},
		{99, in, unix.EINVAL},
	}
	for i, s := range steps {
		if err := ep.Ctl(testCtx, s.op, f, 3, s.ev); err != s.want {
			t.Fatalf("step %d: op %d: %v, want %v", i, s.op, err, s.want)
		}
	}
	// Same file at another descriptor is another item.
	if err := ep.Ctl(testCtx, unix.EPOLL_CTL_ADD, f, 4, in); err != nil {
		t.Fatal(err)
	}
	if ep.Len() != 2 {
		t.Fatalf("len %d", ep.Len())
	}
}

func TestEpollNested(t *testing.T) {
	v := vfs.New()
	ff := &fakeFile{}
	f := newTestFile(t, v, ff)
	inner := NewEpoll()
	innerF := newTestFile(t, v, inner)
	outer := NewEpoll()
	outerF := newTestFile(t, v, outer)
	in := EpollEvent{Events: unix.EPOLLIN}
	if err := inner.Ctl(testCtx, unix.EPOLL_CTL_ADD, f, 3, in); err != nil {
		t.Fatal(err)
	}
	if err := outer.Ctl(testCtx, unix.EPOLL_CTL_ADD, innerF, 4, EpollEvent{Events: unix.EPOLLIN, Data: 4}); err != nil {
		t.Fatal(err)
	}
	// A cycle.
	if err := inner.Ctl(testCtx, unix.EPOLL_CTL_ADD, outerF, 5, in); err != unix.ELOOP {
		t.Fatalf("cycle: %v", err)
	}
	// Exclusive on an epoll target.
	if err := outer.Ctl(testCtx, unix.EPOLL_CTL_ADD, innerF, 6, EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE}); err != unix.EINVAL {
		t.Fatalf("exclusive epoll: %v", err)
	}
	if evs := harvest(outer); len(evs) != 0 {
		t.Fatalf("outer ready early: %v", evs)
	}
	ff.set(waiter.EventIn)
	if evs := harvest(outer); len(evs) != 1 || evs[0].Data != 4 || evs[0].Events != unix.EPOLLIN {
		t.Fatalf("outer: %v", evs)
	}
	if evs := harvest(inner); len(evs) != 1 {
		t.Fatalf("inner: %v", evs)
	}
	ff.set(0)
	if evs := harvest(outer); len(evs) != 0 {
		t.Fatalf("outer after reset: %v", evs)
	}

	// Depth limit: a chain of epoll instances.
	chain := []*Epoll{NewEpoll()}
	files := []*vfs.File{newTestFile(t, v, chain[0])}
	var err error
	for i := 1; i < 10 && err == nil; i++ {
		e := NewEpoll()
		err = e.Ctl(testCtx, unix.EPOLL_CTL_ADD, files[i-1], int32(i), in)
		chain = append(chain, e)
		files = append(files, newTestFile(t, v, e))
	}
	if err != unix.ELOOP {
		t.Fatalf("deep nesting: %v", err)
	}
}

func TestEpollReleasedFile(t *testing.T) {
	v := vfs.New()
	ff := &fakeFile{}
	f := newAnonFile(v, testCtx, "test", ff, unix.O_RDWR)
	ep := NewEpoll()
	if err := ep.Ctl(testCtx, unix.EPOLL_CTL_ADD, f, 3, EpollEvent{Events: unix.EPOLLIN}); err != nil {
		t.Fatal(err)
	}
	ff.set(waiter.EventIn)
	f.DecRef(testCtx) // closed: leaves the set
	if evs := harvest(ep); len(evs) != 0 {
		t.Fatalf("released file reported: %v", evs)
	}
	if ep.Len() != 0 {
		t.Fatalf("item of released file kept")
	}
}

// TestEpollConcurrent hammers ctl, harvest and notifications from several
// goroutines; run with -race.
func TestEpollConcurrent(t *testing.T) {
	v := vfs.New()
	ep := NewEpoll()
	epF := newTestFile(t, v, ep)
	outer := NewEpoll()
	if err := outer.Ctl(testCtx, unix.EPOLL_CTL_ADD, epF, 100, EpollEvent{Events: unix.EPOLLIN}); err != nil {
		t.Fatal(err)
	}
	var fakes []*fakeFile
	var files []*vfs.File
	for i := 0; i < 8; i++ {
		ff := &fakeFile{}
		fakes = append(fakes, ff)
		files = append(files, newTestFile(t, v, ff))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	run := func(fn func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				fn(i)
			}
		}()
	}
	for k := range files {
		run(func(i int) {
			f := files[k]
			ep.Ctl(testCtx, unix.EPOLL_CTL_ADD, f, int32(k), EpollEvent{Events: unix.EPOLLIN | uint32(i%2)*epollET})
			ep.Ctl(testCtx, unix.EPOLL_CTL_MOD, f, int32(k), EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT})
			if i%3 == 0 {
				ep.Ctl(testCtx, unix.EPOLL_CTL_DEL, f, int32(k), EpollEvent{})
			}
		})
		run(func(i int) { fakes[k].set(waiter.EventMask(i % 2)) })
	}
	run(func(int) { ep.Harvest(testCtx, 4) })
	run(func(int) { outer.Harvest(testCtx, 4) })
	run(func(int) { ep.Readiness(waiter.EventIn) })
	time.Sleep(200 * time.Millisecond)
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock")
	}
}

func TestFDSet(t *testing.T) {
	tests := []struct {
		fds   []int
		nfds  int
		bytes []byte
	}{
		{nil, 1, []byte{0, 0, 0, 0, 0, 0, 0, 0}},
		{[]int{0}, 1, []byte{1, 0, 0, 0, 0, 0, 0, 0}},
		{[]int{3, 9}, 10, []byte{0x08, 0x02, 0, 0, 0, 0, 0, 0}},
		{[]int{63, 64}, 65, []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 1, 0, 0, 0, 0, 0, 0, 0}},
		{[]int{127}, 128, append(make([]byte, 15), 0x80)},
	}
	for _, tc := range tests {
		s := NewFDSet(tc.nfds)
		for _, fd := range tc.fds {
			s.Set(fd)
		}
		b := s.Bytes()
		if string(b) != string(tc.bytes) {
			t.Errorf("fds %v: bytes %x, want %x", tc.fds, b, tc.bytes)
		}
		d := DecodeFDSet(b)
		for fd := 0; fd < tc.nfds; fd++ {
			want := false
			for _, x := range tc.fds {
				want = want || x == fd
			}
			if d.IsSet(fd) != want {
				t.Errorf("fds %v: IsSet(%d) = %v", tc.fds, fd, !want)
			}
		}
		if d.IsSet(-1) || d.IsSet(len(d)*64) {
			t.Errorf("out of range bits set")
		}
	}
}

func TestSelectMarks(t *testing.T) {
	tests := []struct {
		in, out, ex bool
		ready       uint32
		want        int
	}{
		{true, false, false, pollIn, 1},
		{true, false, false, pollHup, 1},
		{true, true, false, pollErr, 2},
		{false, true, false, pollIn, 0},
		{false, false, true, pollPri, 1},
		{true, true, true, pollIn | pollOut | pollPri, 3},
	}
	for i, tc := range tests {
		rin, rout, rex := NewFDSet(8), NewFDSet(8), NewFDSet(8)
		s := selectFD{fd: 5, in: tc.in, out: tc.out, ex: tc.ex}
		if got := markSelect(s, tc.ready&selectMask(s), rin, rout, rex); got != tc.want {
			t.Errorf("case %d: %d bits, want %d", i, got, tc.want)
		}
	}
}

func TestPollRevents(t *testing.T) {
	v := vfs.New()
	ff := &fakeFile{ready: waiter.EventIn | waiter.EventHUp}
	f := newTestFile(t, v, ff)
	tests := []struct {
		p    PollFD
		f    *vfs.File
		want int16
	}{
		{PollFD{FD: -1, Events: pollIn}, nil, 0},
		{PollFD{FD: 9, Events: pollIn}, nil, pollNval},
		{PollFD{FD: 3, Events: pollIn}, f, pollIn | pollHup},
		{PollFD{FD: 3, Events: pollOut}, f, pollHup},
		{PollFD{FD: 3, Events: 0}, f, pollHup},
	}
	for i, tc := range tests {
		if got := pollRevents(tc.p, tc.f); got != tc.want {
			t.Errorf("case %d: %#x, want %#x", i, got, tc.want)
		}
	}
}

func TestTimeouts(t *testing.T) {
	c := kernel.NewClock(nil)
	if !msTimeout(c, 0).zero || !msTimeout(c, -5).deadline.IsZero() || msTimeout(c, -5).zero {
		t.Error("ms timeouts")
	}
	if to := msTimeout(c, 1000); to.remaining(c) <= 900*time.Millisecond {
		t.Error("remaining")
	}
	if to := timeoutFromSpec(c, 1<<62, 0); to.deadline.IsZero() || to.zero {
		t.Error("huge timeout")
	}
	if !accessOK(0x1000, 12) || accessOK(taskSize-4, 12) || accessOK(0, 1<<63) {
		t.Error("accessOK")
	}
}
