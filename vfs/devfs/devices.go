package devfs

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// memDevice opens one of the memory devices (major 1).
type memDevice struct {
	newImpl func() vfs.FileImpl
}

// Open implements vfs.Device.
func (d memDevice) Open(vfs.Context, vfs.Location, uint32) (vfs.FileImpl, error) {
	return d.newImpl(), nil
}

func newNull() vfs.FileImpl   { return nullFile{} }
func newZero() vfs.FileImpl   { return zeroFile{} }
func newFull() vfs.FileImpl   { return fullFile{} }
func newRandom() vfs.FileImpl { return randomFile{} }

// nullFile is /dev/null: reads give EOF, writes are discarded. Like Linux,
// any seek succeeds and gives 0.
type nullFile struct{}

func (nullFile) Release(vfs.Context)                                    {}
func (nullFile) PRead(vfs.Context, []byte, int64) (int, error)          { return 0, nil }
func (nullFile) PWrite(_ vfs.Context, src []byte, _ int64) (int, error) { return len(src), nil }
func (nullFile) Seek(vfs.Context, int64, int, int64) (int64, error)     { return 0, nil }

// zeroFile is /dev/zero: reads give zeros at any offset (the memory manager
// maps it by copying through PRead), writes are discarded.
type zeroFile struct{}

func (zeroFile) Release(vfs.Context) {}
func (zeroFile) PRead(_ vfs.Context, dst []byte, _ int64) (int, error) {
	clear(dst)
	return len(dst), nil
}
func (zeroFile) PWrite(_ vfs.Context, src []byte, _ int64) (int, error) { return len(src), nil }
func (zeroFile) Seek(vfs.Context, int64, int, int64) (int64, error)     { return 0, nil }

// fullFile is /dev/full: reads give zeros, writes fail with ENOSPC (even
// of nothing: Linux's write_full does not look at the count).
type fullFile struct{}

func (fullFile) Release(vfs.Context) {}
func (fullFile) PRead(_ vfs.Context, dst []byte, _ int64) (int, error) {
	clear(dst)
	return len(dst), nil
}
func (fullFile) PWrite(vfs.Context, []byte, int64) (int, error)     { return 0, unix.ENOSPC }
func (fullFile) Seek(vfs.Context, int64, int, int64) (int64, error) { return 0, nil }

// randomFile is /dev/random and /dev/urandom: crypto/rand bytes; writes
// (entropy contributions) are accepted and ignored; seeks keep the offset,
// like Linux's noop_llseek.
type randomFile struct{}

func (randomFile) Release(vfs.Context) {}
func (randomFile) PRead(_ vfs.Context, dst []byte, _ int64) (int, error) {
	rand.Read(dst)
	return len(dst), nil
}
func (randomFile) PWrite(_ vfs.Context, src []byte, _ int64) (int, error) { return len(src), nil }
func (randomFile) Seek(_ vfs.Context, _ int64, _ int, cur int64) (int64, error) {
	return cur, nil
}

// Ioctl implements vfs.Ioctler: RNDGETENTCNT reports a full pool; the
// privileged pool ioctls need CAP_SYS_ADMIN and do nothing.
func (randomFile) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.RNDGETENTCNT:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], 256)
		return 0, vfs.CopyOut(ctx, arg, b[:])
	case unix.RNDADDTOENTCNT, unix.RNDADDENTROPY, unix.RNDZAPENTCNT, unix.RNDCLEARPOOL, unix.RNDRESEEDCRNG:
		if !ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
			return 0, unix.EPERM
		}
		return 0, nil
	}
	return 0, unix.ENOTTY
}

// TTYContext is optionally implemented by a vfs.Context (the calling
// task): its controlling terminal, or nil. Opening /dev/tty gives a file
// that operates on that terminal (devfs takes its own reference on it).
type TTYContext interface {
	ControllingTerminal() *vfs.File
}

// TTYOpener is optionally implemented by a vfs.Context (the calling task):
// it opens a new file on its controlling terminal (ENXIO without one). It
// takes precedence over TTYContext.
type TTYOpener interface {
	OpenControllingTerminal(flags uint32) (vfs.FileImpl, error)
}

// ttyDevice is /dev/tty (5,0): the caller's controlling terminal, ENXIO
// without one.
type ttyDevice struct{}

// Open implements vfs.Device.
func (ttyDevice) Open(ctx vfs.Context, _ vfs.Location, flags uint32) (vfs.FileImpl, error) {
	if o, ok := ctx.(TTYOpener); ok {
		return o.OpenControllingTerminal(flags | unix.O_NOCTTY)
	}
	tc, ok := ctx.(TTYContext)
	if !ok {
		return nil, unix.ENXIO
	}
	f := tc.ControllingTerminal()
	if f == nil || f.IsPath() || !f.TryIncRef() {
		return nil, unix.ENXIO
	}
	return &ttyFile{f: f}, nil
}

// ttyFile is an open /dev/tty: it forwards to the controlling terminal's
// implementation.
type ttyFile struct {
	vfs.StreamFileBase
	f *vfs.File
}

// Release implements vfs.FileImpl.
func (t *ttyFile) Release(ctx vfs.Context) { t.f.DecRef(ctx) }

// Read implements vfs.StreamFile.
func (t *ttyFile) Read(ctx vfs.Context, dst []byte) (int, error) {
	if s, ok := t.f.Impl().(vfs.StreamFile); ok {
		return s.Read(ctx, dst)
	}
	return t.f.Impl().PRead(ctx, dst, 0)
}

// Write implements vfs.StreamFile.
func (t *ttyFile) Write(ctx vfs.Context, src []byte) (int, error) {
	if s, ok := t.f.Impl().(vfs.StreamFile); ok {
		return s.Write(ctx, src)
	}
	return t.f.Impl().PWrite(ctx, src, 0)
}

// Ioctl implements vfs.Ioctler.
func (t *ttyFile) Ioctl(ctx vfs.Context, cmd uint32, arg uintptr) (uintptr, error) {
	return t.f.Ioctl(ctx, cmd, arg)
}

// Readiness implements vfs.Waitable.
func (t *ttyFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	if w, ok := t.f.Impl().(vfs.Waitable); ok {
		return w.Readiness(mask)
	}
	return mask & (waiter.ReadableEvents | waiter.WritableEvents)
}

// EventRegister implements vfs.Waitable.
func (t *ttyFile) EventRegister(e *waiter.Entry) { t.f.EventRegister(e) }

// EventUnregister implements vfs.Waitable.
func (t *ttyFile) EventUnregister(e *waiter.Entry) { t.f.EventUnregister(e) }

// ptmxDevice is /dev/ptmx (5,2) without a devpts: opening it fails.
// devpts.New registers the real multiplexer over it.
type ptmxDevice struct{}

// Open implements vfs.Device.
func (ptmxDevice) Open(vfs.Context, vfs.Location, uint32) (vfs.FileImpl, error) {
	return nil, unix.ENXIO
}
