package jobctl

import (
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// Forward returns a file implementation that operates on f (taking over the
// caller's reference on it): /dev/tty for a terminal whose files cannot be
// opened again (the host terminal).
func Forward(f *vfs.File) vfs.FileImpl { return &forwardFile{f: f} }

type forwardFile struct {
	vfs.StreamFileBase
	f *vfs.File
}

func (t *forwardFile) Release(ctx vfs.Context) { t.f.DecRef(ctx) }

func (t *forwardFile) Read(ctx vfs.Context, dst []byte) (int, error) {
	if s, ok := t.f.Impl().(vfs.StreamFile); ok {
		return s.Read(ctx, dst)
	}
	return t.f.Impl().PRead(ctx, dst, 0)
}

func (t *forwardFile) Write(ctx vfs.Context, src []byte) (int, error) {
	if s, ok := t.f.Impl().(vfs.StreamFile); ok {
		return s.Write(ctx, src)
	}
	return t.f.Impl().PWrite(ctx, src, 0)
}

func (t *forwardFile) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	return t.f.Ioctl(ctx, cmd, arg)
}

func (t *forwardFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	return t.f.Readiness(mask)
}

func (t *forwardFile) EventRegister(e *waiter.Entry)   { t.f.EventRegister(e) }
func (t *forwardFile) EventUnregister(e *waiter.Entry) { t.f.EventUnregister(e) }
