package fs

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// A minimal kernel for calling handlers directly: a platform whose guest
// never runs (Switch blocks), a tmpfs root, and one task with a scratch
// anonymous mapping for arguments.

type fakeAS struct{}

func (fakeAS) MapFile(uintptr, uintptr, int64, platform.Access) error { return nil }
func (fakeAS) MapFiles([]platform.Mapping) error                      { return nil }
func (fakeAS) Unmap(uintptr, uintptr) error                           { return nil }
func (fakeAS) Protect(uintptr, uintptr, platform.Access) error        { return nil }
func (fakeAS) Release()                                               {}

type fakeCtx struct{ stop chan struct{} }

func (c fakeCtx) Switch(platform.AddressSpace, *platform.State) (platform.Event, error) {
	<-c.stop
	return platform.Event{}, platform.ErrAddressSpaceGone
}
func (c fakeCtx) Interrupt() {}
func (c fakeCtx) Release()   {}

type fakePlatform struct{ stop chan struct{} }

func (p fakePlatform) NewAddressSpace() (platform.AddressSpace, error) { return fakeAS{}, nil }
func (p fakePlatform) NewContext() (platform.Context, error)           { return fakeCtx(p), nil }
func (p fakePlatform) MaxUserAddress() uintptr                         { return taskSize }
func (p fakePlatform) Close() error                                    { return nil }

type harness struct {
	t    *testing.T
	mf   *memfile.File
	root vfs.Location
	task *kernel.Task
	mem  uint64 // scratch area
	next uint64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	mf, err := memfile.New("fs-test", 64<<20)
	if err != nil {
		t.Skipf("memfile: %v", err)
	}
	p := fakePlatform{stop: make(chan struct{})}
	k := kernel.New(mf, p, nil, nil)
	v := vfs.New()
	fs, err := tmpfs.New(v, mf, tmpfs.Options{RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	root := v.NewMountNamespace(fs, 0).Root()
	k.SetVFS(v)
	m, err := mm.New(memfile.Files{mf}, p)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := m.Map(mm.MapOpts{Length: 1 << 20, Perm: platform.ReadWrite, MaxPerm: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	task, err := k.CreateInit(kernel.InitOpts{MM: m, Files: kernel.NewFDTable(),
		FS: kernel.NewFSContext(root, root, 0o022), Creds: kernel.NewCreds(0, 0, nil), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, mf: mf, root: root, task: task, mem: addr, next: addr}
}

// alloc reserves n bytes of guest memory.
func (h *harness) alloc(n int) uint64 {
	a := h.next
	h.next += uint64(n+15) &^ 15
	return a
}

// str puts a NUL-terminated string in guest memory.
func (h *harness) str(s string) uint64 {
	a := h.alloc(len(s) + 1)
	if _, err := h.task.CopyOut(a, append([]byte(s), 0)); err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) bytes(b []byte) uint64 {
	a := h.alloc(len(b))
	if _, err := h.task.CopyOut(a, b); err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) read(addr uint64, n int) []byte {
	b := make([]byte, n)
	if _, err := h.task.CopyIn(addr, b); err != nil {
		h.t.Fatal(err)
	}
	return b
}

// call runs a handler with the given arguments.
func (h *harness) call(fn kernel.SyscallFn, args ...uint64) (uint64, error) {
	var a kernel.SyscallArgs
	copy(a[:], args)
	return fn(h.task, &a)
}

// must runs a handler that must succeed.
func (h *harness) must(name string, fn kernel.SyscallFn, args ...uint64) uint64 {
	h.t.Helper()
	r, err := h.call(fn, args...)
	if err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	return r
}

// errno runs a handler that must fail with want.
func (h *harness) errno(name string, want error, fn kernel.SyscallFn, args ...uint64) {
	h.t.Helper()
	if _, err := h.call(fn, args...); err != want {
		h.t.Errorf("%s: %v, want %v", name, err, want)
	}
}

const fdcwd = ^uint64(99) // AT_FDCWD (-100) as a register
