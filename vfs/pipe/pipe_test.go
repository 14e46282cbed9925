package pipe_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

func newPipe(t *testing.T) (vfs.Context, *vfs.File, *vfs.File) {
	v := vfs.New()
	ctx := vfs.NewContext(vfs.RootCredentials())
	r, w, err := pipe.NewPipe(v, ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, r, w
}

func TestPipeBasics(t *testing.T) {
	ctx, r, w := newPipe(t)
	buf := make([]byte, 100)
	if _, err := r.Read(ctx, buf); err != unix.EAGAIN {
		t.Errorf("empty read: %v", err)
	}
	if got := r.Readiness(waiter.AllEvents); got != 0 {
		t.Errorf("empty readiness %#x", got)
	}
	if got := w.Readiness(waiter.AllEvents); got&waiter.EventOut == 0 {
		t.Errorf("writable readiness %#x", got)
	}
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	r.EventRegister(e)
	w.Write(ctx, []byte("abc"))
	select {
	case <-ch:
	default:
		t.Errorf("no notification")
	}
	r.EventUnregister(e)
	if got := r.Readiness(waiter.ReadableEvents); got&waiter.EventIn == 0 {
		t.Errorf("readable readiness %#x", got)
	}
	if _, err := r.PRead(ctx, buf, 0); err != unix.ESPIPE {
		t.Errorf("pread: %v", err)
	}
	if _, err := r.Seek(ctx, 0, unix.SEEK_SET); err != unix.ESPIPE {
		t.Errorf("lseek: %v", err)
	}
	if _, err := r.Write(ctx, buf); err != unix.EBADF {
		t.Errorf("write on read end: %v", err)
	}
	n, _ := r.Read(ctx, buf)
	if string(buf[:n]) != "abc" {
		t.Errorf("read %q", buf[:n])
	}
	st, _ := r.Stat(ctx)
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("mode %o", st.Mode)
	}
	if p, _ := r.VFS().PathOf(vfs.Location{}, r.Location()); len(p) < 6 || p[:6] != "pipe:[" {
		t.Errorf("PathOf pipe = %q", p)
	}
	// EOF when the writer goes.
	w.Write(ctx, []byte("x"))
	w.DecRef(ctx)
	n, err := r.Read(ctx, buf)
	if n != 1 || err != nil {
		t.Errorf("drain %d %v", n, err)
	}
	if n, err := r.Read(ctx, buf); n != 0 || err != nil {
		t.Errorf("EOF %d %v", n, err)
	}
	if got := r.Readiness(waiter.ReadableEvents); got&waiter.EventHUp == 0 {
		t.Errorf("no HUP %#x", got)
	}
	r.DecRef(ctx)
}

func TestPipeEPIPE(t *testing.T) {
	ctx, r, w := newPipe(t)
	r.DecRef(ctx)
	if _, err := w.Write(ctx, []byte("x")); err != unix.EPIPE {
		t.Errorf("write without reader: %v", err)
	}
	if got := w.Readiness(waiter.WritableEvents); got&waiter.EventErr == 0 {
		t.Errorf("no ERR %#x", got)
	}
	w.DecRef(ctx)
}

func TestPipeCapacityAndAtomicity(t *testing.T) {
	ctx, r, w := newPipe(t)
	defer r.DecRef(ctx)
	defer w.DecRef(ctx)
	ep := w.Impl().(*pipe.Endpoint)
	if ep.PipeSize() != pipe.DefaultSize {
		t.Errorf("default size %d", ep.PipeSize())
	}
	big := make([]byte, 100000)
	n, err := w.Write(ctx, big)
	if n != 65536 || err != nil {
		t.Errorf("big write %d %v", n, err)
	}
	if _, err := w.Write(ctx, []byte("x")); err != unix.EAGAIN {
		t.Errorf("full: %v", err)
	}
	// Free 100 bytes: a 200-byte (<= PIPE_BUF) write must not be split.
	r.Read(ctx, make([]byte, 100))
	if n, err := w.Write(ctx, make([]byte, 200)); n != 0 || err != unix.EAGAIN {
		t.Errorf("atomic write: %d %v", n, err)
	}
	// A larger write may be partial.
	if n, err := w.Write(ctx, make([]byte, 5000)); n != 100 || err != nil {
		t.Errorf("partial large write: %d %v", n, err)
	}
	if got := w.Readiness(waiter.WritableEvents); got&waiter.EventOut != 0 {
		t.Errorf("writable when full")
	}
	if _, err := ep.SetPipeSize(ctx, 4096); err != unix.EBUSY {
		t.Errorf("shrink below content: %v", err)
	}
	r.Read(ctx, make([]byte, 70000))
	if sz, err := ep.SetPipeSize(ctx, 5000); sz != 8192 || err != nil {
		t.Errorf("setpipesz %d %v", sz, err)
	}
	user := vfs.NewContext(vfs.UserCredentials(1, 1))
	if _, err := ep.SetPipeSize(user, 2<<20); err != unix.EPERM {
		t.Errorf("too big unprivileged: %v", err)
	}
	w.Write(ctx, []byte("12345"))
	var got [4]byte
	mem := &fakeMem{}
	if _, err := r.Ioctl(memCtx{ctx, mem}, 0x541B, 0); err != nil {
		t.Fatal(err)
	}
	copy(got[:], mem.b)
	if got[0] != 5 {
		t.Errorf("FIONREAD %v", got)
	}
}

type fakeMem struct{ b []byte }

type memCtx struct {
	vfs.Context
	m *fakeMem
}

func (m memCtx) CopyIn(addr uintptr, dst []byte) (int, error) { return copy(dst, m.m.b), nil }
func (m memCtx) CopyOut(addr uintptr, src []byte) (int, error) {
	m.m.b = append([]byte(nil), src...)
	return len(src), nil
}

func TestPipeConcurrent(t *testing.T) {
	ctx, r, w := newPipe(t)
	const total = 1 << 20
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer w.DecRef(ctx)
		data := bytes.Repeat([]byte("0123456789"), total/10)
		e, ch := waiter.NewChannelEntry(waiter.WritableEvents)
		w.EventRegister(e)
		defer w.EventUnregister(e)
		for len(data) > 0 {
			n, err := w.Write(ctx, data)
			if err == unix.EAGAIN {
				<-ch
				continue
			}
			if err != nil {
				t.Error(err)
				return
			}
			data = data[n:]
		}
	}()
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	r.EventRegister(e)
	got := 0
	buf := make([]byte, 3000)
	for {
		n, err := r.Read(ctx, buf)
		if err == unix.EAGAIN {
			<-ch
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		got += n
	}
	wg.Wait()
	if got != total/10*10 {
		t.Errorf("got %d bytes", got)
	}
	r.DecRef(ctx)
}

// TestFIFOHangup: a FIFO reader reports EPOLLHUP once it has no writers,
// unless it opened O_NONBLOCK with no writer and none has come and gone
// since (Linux's fifo_open and pipe_poll).
func TestFIFOHangup(t *testing.T) {
	ctx := vfs.NewContext(vfs.RootCredentials())
	open := func(p *pipe.Pipe, flags uint32) *pipe.Endpoint {
		t.Helper()
		fi, err := p.Open(ctx, flags)
		if err != nil {
			t.Fatalf("open %#x: %v", flags, err)
		}
		return fi.(*pipe.Endpoint)
	}
	hup := func(e *pipe.Endpoint) bool { return e.Readiness(waiter.ReadableEvents)&waiter.EventHUp != 0 }

	// The writer opens first; the reader finds it there.
	p := pipe.New()
	w := open(p, unix.O_WRONLY)
	r := open(p, unix.O_RDONLY)
	if hup(r) {
		t.Errorf("HUP with a writer")
	}
	w.Release(ctx)
	if !hup(r) {
		t.Errorf("no HUP after the only writer closed (writer opened first)")
	}
	r.Release(ctx)

	// A non-blocking reader without writers: no HUP until one came and went.
	p = pipe.New()
	r = open(p, unix.O_RDONLY|unix.O_NONBLOCK)
	if hup(r) {
		t.Errorf("HUP before any writer")
	}
	w = open(p, unix.O_WRONLY)
	w.Release(ctx)
	if !hup(r) {
		t.Errorf("no HUP after a writer came and went")
	}
	r.Release(ctx)
}

// Opening a pipe's inode again (/proc/PID/fd/N) gives a new end of the
// same pipe.
func TestPipeReopen(t *testing.T) {
	ctx, r, w := newPipe(t)
	defer r.DecRef(ctx)
	defer w.DecRef(ctx)
	impl, err := r.Location().Dentry.Inode().Open(ctx, unix.O_WRONLY)
	if err != nil {
		t.Fatalf("reopen for writing: %v", err)
	}
	w2 := impl.(vfs.StreamFile)
	if n, err := w2.Write(ctx, []byte("via")); n != 3 || err != nil {
		t.Fatalf("write through the new end: %d %v", n, err)
	}
	buf := make([]byte, 8)
	if n, err := r.Read(ctx, buf); n != 3 || err != nil || string(buf[:3]) != "via" {
		t.Errorf("read %q %v", buf[:n], err)
	}
	impl.Release(ctx)
}
