package procfs

import (
	"io"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// A fake platform: guest threads never run guest code; a test makes a task
// run a function on its own goroutine (as if it made a system call) with
// harness.do.

type fakeAS struct{}

func (fakeAS) MapFile(addr, length uintptr, offset int64, perm platform.Access) error { return nil }
func (fakeAS) MapFiles([]platform.Mapping) error                                      { return nil }
func (fakeAS) Unmap(addr, length uintptr) error                                       { return nil }
func (fakeAS) Protect(uintptr, uintptr, platform.Access) error                        { return nil }
func (fakeAS) Release()                                                               {}

type call struct {
	fn   func(t *kernel.Task)
	done chan struct{}
}

type fakeCtx struct {
	intr  chan struct{}
	calls chan *call
	mu    sync.Mutex
	cur   *call
}

const testSyscall = 1000

func (c *fakeCtx) Switch(as platform.AddressSpace, st *platform.State) (platform.Event, error) {
	select {
	case <-c.intr:
		return platform.Event{Kind: platform.EventInterrupted}, nil
	case cl := <-c.calls:
		c.mu.Lock()
		c.cur = cl
		c.mu.Unlock()
		st.Regs.OrigRax = testSyscall
		st.Regs.Rdi = 0
		return platform.Event{Kind: platform.EventSyscall}, nil
	}
}

func (c *fakeCtx) Interrupt() {
	select {
	case c.intr <- struct{}{}:
	default:
	}
}

func (c *fakeCtx) Release() {}

type fakePlatform struct {
	mu   sync.Mutex
	ctxs []*fakeCtx
}

func (p *fakePlatform) NewAddressSpace() (platform.AddressSpace, error) { return fakeAS{}, nil }
func (p *fakePlatform) NewContext() (platform.Context, error) {
	c := &fakeCtx{intr: make(chan struct{}, 1), calls: make(chan *call)}
	p.mu.Lock()
	p.ctxs = append(p.ctxs, c)
	p.mu.Unlock()
	return c, nil
}
func (p *fakePlatform) MaxUserAddress() uintptr { return 1 << 47 }
func (p *fakePlatform) Close() error            { return nil }

type harness struct {
	t    *testing.T
	mf   *memfile.File
	p    *fakePlatform
	k    *kernel.Kernel
	v    *vfs.VFS
	root vfs.Location
	proc *vfs.Filesystem
	init *kernel.Task
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	mf, err := memfile.New("procfs-test", 64<<20)
	if err != nil {
		t.Fatalf("memfile: %v", err)
	}
	h := &harness{t: t, mf: mf, p: &fakePlatform{}}
	table := make([]kernel.Syscall, testSyscall+1)
	table[testSyscall] = kernel.Syscall{Name: "test", Fn: func(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
		c := h.ctxOf(t)
		c.mu.Lock()
		cl := c.cur
		c.cur = nil
		c.mu.Unlock()
		if cl != nil {
			cl.fn(t)
			close(cl.done)
		}
		return 0, nil
	}}
	h.k = kernel.New(mf, h.p, table, nil)
	h.v = vfs.New()
	h.k.SetVFS(h.v)
	rootFS, err := tmpfs.New(h.v, mf, tmpfs.Options{RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	ns := h.v.NewMountNamespace(rootFS, 0)
	h.root = ns.Root()
	kctx := vfs.NewContext(vfs.RootCredentials())
	if err := h.v.Mkdir(kctx, h.root, h.root, "/proc", 0o555); err != nil {
		t.Fatal(err)
	}
	if err := h.v.Mkdir(kctx, h.root, h.root, "/home", 0o755); err != nil {
		t.Fatal(err)
	}
	h.proc = New(h.v, h.k)
	if _, err := h.v.Mount(kctx, h.root, h.root, "/proc", h.proc, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
		t.Fatal(err)
	}

	m, err := mm.New(memfile.Files{mf}, h.p)
	if err != nil {
		t.Fatal(err)
	}
	// A program image, a heap and a stack with argv and envp.
	mustMap := func(o mm.MapOpts) uint64 {
		a, err := m.Map(o)
		if err != nil {
			t.Fatalf("map: %v", err)
		}
		return a
	}
	mustMap(mm.MapOpts{Addr: 0x400000, Length: 0x2000, Perm: platform.Access{Read: true, Execute: true}, Fixed: true,
		Name: "/bin/prog", Dev: unix.Mkdev(0, 0x2a), Ino: 1234})
	mustMap(mm.MapOpts{Addr: 0x402000, Length: 0x1000, Perm: platform.ReadWrite, Fixed: true, Offset: 0x2000,
		Name: "/bin/prog", Dev: unix.Mkdev(0, 0x2a), Ino: 1234})
	mustMap(mm.MapOpts{Addr: 0x600000, Length: 0x3000, Perm: platform.ReadWrite, Fixed: true, Name: "[heap]"})
	stack := mustMap(mm.MapOpts{Addr: 0x7ffff000_0000, Length: 0x10000, Perm: platform.ReadWrite, Fixed: true,
		Name: "[stack]"})
	args := []byte("prog\x00-v\x00hello world\x00")
	env := []byte("HOME=/root\x00PATH=/bin\x00")
	argStart := stack + 0x8000
	if _, err := m.CopyOut(argStart, args); err != nil {
		t.Fatal(err)
	}
	envStart := argStart + uint64(len(args))
	if _, err := m.CopyOut(envStart, env); err != nil {
		t.Fatal(err)
	}
	m.ArgStart, m.ArgEnd = argStart, argStart+uint64(len(args))
	m.EnvStart, m.EnvEnd = envStart, envStart+uint64(len(env))
	m.Auxv = []uint64{6, 4096, 0, 0}

	task, err := h.k.CreateInit(kernel.InitOpts{
		MM: m, Files: kernel.NewFDTable(), FS: kernel.NewFSContext(h.root, h.root, 0o022),
		Creds: kernel.NewCreds(0, 0, nil), Name: "prog",
	})
	if err != nil {
		t.Fatal(err)
	}
	h.init = task
	task.ThreadGroup().Ext = exeExt{"/bin/prog"}
	t.Cleanup(func() {
		h.do(task, func(t *kernel.Task) { t.ExitGroup(0) })
		select {
		case <-h.k.Done():
		case <-time.After(5 * time.Second):
			t.Errorf("kernel did not finish")
		}
	})
	return h
}

type exeExt struct{ path string }

func (e exeExt) ExePath() string { return e.path }

// do runs fn on task's goroutine as a system call and waits for it.
func (h *harness) do(task *kernel.Task, fn func(t *kernel.Task)) {
	h.t.Helper()
	cl := &call{fn: fn, done: make(chan struct{})}
	ctx := h.ctxOf(task)
	select {
	case ctx.calls <- cl:
	case <-time.After(5 * time.Second):
		h.t.Fatalf("task %d does not take calls", task.TID())
	}
	select {
	case <-cl.done:
	case <-time.After(5 * time.Second):
		h.t.Fatalf("call on task %d did not finish", task.TID())
	}
}

// ctxOf finds the fake context of a task (contexts are created in TID
// order: the n-th context belongs to the n-th task created).
func (h *harness) ctxOf(task *kernel.Task) *fakeCtx {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	i := int(task.TID()) - 1
	if i < 0 || i >= len(h.p.ctxs) {
		h.t.Fatalf("no context for task %d", task.TID())
	}
	return h.p.ctxs[i]
}

// open opens path as task.
func (h *harness) open(task *kernel.Task, path string, flags uint32) (*vfs.File, error) {
	return h.v.OpenAt(task.VFSContext(), h.root, h.root, path, flags, 0)
}

// read returns the whole content of path as read by task (in small chunks
// to exercise partial reads).
func (h *harness) read(task *kernel.Task, path string) string {
	h.t.Helper()
	f, err := h.open(task, path, unix.O_RDONLY)
	if err != nil {
		h.t.Fatalf("open %s: %v", path, err)
	}
	defer f.DecRef(task.VFSContext())
	var out []byte
	buf := make([]byte, 7)
	for {
		n, err := f.Read(task.VFSContext(), buf)
		out = append(out, buf[:n]...)
		if err == io.EOF || (err == nil && n == 0) {
			break
		}
		if err != nil {
			h.t.Fatalf("read %s: %v", path, err)
		}
	}
	return string(out)
}

func (h *harness) readdir(task *kernel.Task, path string) []string {
	h.t.Helper()
	f, err := h.open(task, path, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		h.t.Fatalf("open %s: %v", path, err)
	}
	defer f.DecRef(task.VFSContext())
	var names []string
	if err := f.IterDirents(task.VFSContext(), func(d vfs.Dirent) bool {
		names = append(names, d.Name)
		return true
	}); err != nil {
		h.t.Fatalf("readdir %s: %v", path, err)
	}
	return names
}
