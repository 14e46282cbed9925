package mem

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// kernelCtx is the context for reference drops done outside any task.
var kernelCtx = vfs.NewContext(vfs.RootCredentials())

var _ mm.Backed = (*fileMappable)(nil)

// fileMappable adapts an open file to mm.Mappable: files whose pages live in
// the memory file (tmpfs) give their pages directly, others go through the
// kernel's page cache.
type fileMappable struct {
	f    *vfs.File
	pc   *mm.PageCache
	key  any
	size int64
	vmp  vfs.Mappable

	// refs counts the mappings using m; release runs when the last
	// goes (a memfd's count of writable mappings).
	refs    atomic.Int64
	release func()

	// root is the mapping process's root (with a reference) that its
	// name in /proc/PID/maps is relative to; unset: no name of its own.
	root vfs.Location
}

// MapName implements mm.Namer: the file's path now, " (deleted)" once
// unlinked.
func (m *fileMappable) MapName() (string, bool) {
	if !m.root.Ok() {
		return "", false
	}
	p, err := m.f.VFS().PathOf(m.root, m.f.Location())
	return p, err == nil
}

type cacheKey struct {
	devMajor, devMinor uint32
	ino                uint64
	size               int64
	mtime              int64
	mtimeNsec          uint32
}

// FileMappable returns a Mappable for f holding a reference to it; the caller
// drops the returned value's initial reference with DecRef.
func FileMappable(k *kernel.Kernel, f *vfs.File) (mm.Mappable, error) {
	return newFileMappable(k, f, func() {})
}

// newFileMappable is FileMappable with release run when the last reference
// is dropped.
func newFileMappable(k *kernel.Kernel, f *vfs.File, release func()) (*fileMappable, error) {
	st, err := f.Stat(kernelCtx)
	if err != nil {
		return nil, err
	}
	f.IncRef()
	m := &fileMappable{f: f, pc: k.PageCache, size: int64(st.Size), vmp: f.Mappable(),
		key:     cacheKey{st.Dev_major, st.Dev_minor, st.Ino, int64(st.Size), st.Mtime.Sec, st.Mtime.Nsec},
		release: release}
	m.refs.Store(1)
	return m, nil
}

func (m *fileMappable) Page(off int64) (int64, error) {
	if m.vmp != nil {
		return m.vmp.MapPage(kernelCtx, off/4096, false)
	}
	return m.pc.Page(m.key, off, m.size, func(p []byte, off int64) (int, error) {
		n := 0
		for n < len(p) {
			r, err := m.f.PRead(kernelCtx, p[n:], off+int64(n))
			n += r
			if err != nil || r == 0 {
				return n, err
			}
		}
		return n, nil
	})
}

// MemoryFile implements mm.Backed: the pages a file gives directly (tmpfs)
// are in its file system's backing file, which may be a host file (the
// root overlay's upper layer); the page cache's are in the memory file.
func (m *fileMappable) MemoryFile() *memfile.File {
	if m.vmp != nil {
		return m.vmp.MemoryFile()
	}
	return nil
}

// MappingKey implements mm.Keyed: the key under which the file's data is
// invalidated (see vfs.MappingKeyer), or nil for files that never take
// pages away from their mappings.
func (m *fileMappable) MappingKey() any {
	if k, ok := m.vmp.(vfs.MappingKeyer); ok {
		return k.MappingKey()
	}
	return nil
}

func (m *fileMappable) IncRef() {
	m.refs.Add(1)
	m.f.IncRef()
}

func (m *fileMappable) DecRef() {
	if m.refs.Add(-1) == 0 {
		m.release()
		m.root.DecRef()
	}
	m.f.DecRef(kernelCtx)
}

// Punch implements mm.Puncher (MADV_REMOVE) with fallocate's hole punching.
func (m *fileMappable) Punch(off, length int64) error {
	return m.f.Allocate(kernelCtx, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, length)
}
