// Package mm implements guest address spaces: the set of mappings (VMAs) of
// a guest process, lazily allocated pages in the memory file, page faults,
// copy-on-write sharing after fork, and copying to and from guest memory.
// The platform's AddressSpace is only a cache of what this package decides:
// any page can be unmapped from it at any time and will fault back in.
package mm

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/btree"
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

const pageSize = memfile.PageSize

// Mappable is a file whose pages can be mapped. Page returns the memory-file
// offset of the page holding file offset off (page aligned) with a new
// reference for the caller. For a shared mapping the page is mapped as is
// and writes through it change the file; for a private one it is mapped
// read-only and copied on the first write.
type Mappable interface {
	Page(off int64) (int64, error)
	IncRef()
	DecRef()
}

// Backed is implemented by Mappables whose pages may live in another of
// the address space's backing files than the memory file (a tmpfs over a
// host file): MemoryFile is the file Page's offsets are in, nil for the
// memory file. Mappables that do not implement it are in the memory file.
type Backed interface {
	MemoryFile() *memfile.File
}

// Detached is implemented by Mappables whose mappings must end as soon as
// the last task leaves the address space, not later with the rest of it
// (Release runs in the background): SysV shared memory, whose attach count
// a parent reads once it has reaped its child (Linux's exit_mm comes before
// exit_notify). Their DecRef must be cheap and must not take the kernel's
// lock.
type Detached interface {
	DetachedAtExit()
}

// errUnknownFile is a Mappable's page in a file the address space cannot
// map (not one of the platform's backing files): the guest gets SIGBUS.
var errUnknownFile = errors.New("mm: mapped file's pages are in an unknown backing file")

// vma is one mapping: [start, end) with uniform permissions and backing.
type vma struct {
	start, end uint64
	perm       platform.Access
	maxPerm    platform.Access // what mprotect may grant (shared read-only files)
	shared     bool
	growsDown  bool
	file       Mappable // nil for anonymous memory
	fileOff    int64    // file offset of start
	name       string   // for /proc/PID/maps: path, "[heap]", "[stack]"
	dev, ino   uint64
	dontFork   bool // MADV_DONTFORK: a fork's child does not get it
	wipeOnFork bool // MADV_WIPEONFORK: a fork's child gets it empty
	locked     bool // mlock: counted in VmLck and against RLIMIT_MEMLOCK
}

func (v *vma) Less(o *vma) bool { return v.start < o.start }

// pte is a present page of the address space.
type pte struct {
	off  int64 // offset in backing file MM.files[file]; the MM holds one reference
	file uint8
	// fromFile is set when off is a file's page mapped privately and not
	// yet copied: the page must be copied before it may be written.
	fromFile bool
	mapped   platform.Access // how the page is mapped in the platform now
}

// MM is a guest address space.
type MM struct {
	mf  *memfile.File // files[0]: anonymous memory and every private copy
	as  platform.AddressSpace
	max uint64 // exclusive upper bound of guest addresses

	// files are the backing files pages come from, in the platform's
	// order: a pte's file indexes it, as platform.Mapping.File does.
	files memfile.Files

	mu    sync.Mutex
	vmas  *btree.BTreeG[*vma]
	pages map[uint64]*pte

	// lockFuture is mlockall(MCL_FUTURE): new mappings are locked.
	lockFuture bool

	// dumpable is prctl's PR_SET_DUMPABLE, which Linux keeps with the
	// address space: fork copies it and exec starts a new one set.
	dumpable atomic.Bool

	// Layout, set by the loader and brk.
	brkStart, brk uint64
	mmapTop       uint64

	// Process image bounds for /proc/PID/cmdline and environ.
	ArgStart, ArgEnd, EnvStart, EnvEnd uint64
	// Auxv as written on the stack, for /proc/PID/auxv.
	Auxv []uint64

	// exeMu guards exeRelease, which ends the executable's denial of
	// write access (Linux's mm->exe_file) when the last task leaves.
	exeMu      sync.Mutex
	exeRelease func()
}

// SetExeRelease records what to do (once) when the last task stops using
// the address space: give the executable back its write access.
func (m *MM) SetExeRelease(release func()) {
	m.exeMu.Lock()
	defer m.exeMu.Unlock()
	m.exeRelease = release
}

// ReleaseExe runs the function given to SetExeRelease, if any, once. The
// kernel calls it synchronously when the last task leaves, so that a
// parent that has waited for its child may write the child's program.
func (m *MM) ReleaseExe() {
	m.exeMu.Lock()
	f := m.exeRelease
	m.exeRelease = nil
	m.exeMu.Unlock()
	if f != nil {
		f()
	}
}

// ReleaseDetached drops the mappings of Detached Mappables. The kernel
// calls it synchronously when the last task leaves, with ReleaseExe.
func (m *MM) ReleaseDetached() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vmas.Ascend(func(v *vma) bool {
		if _, ok := v.file.(Detached); ok {
			v.file.DecRef()
			v.file = nil
		}
		return true
	})
}

// New creates an empty address space over files, the platform's backing
// files (files[0] is the memory file).
func New(files memfile.Files, p platform.Platform) (*MM, error) {
	as, err := p.NewAddressSpace()
	if err != nil {
		return nil, fmt.Errorf("new address space: %w", err)
	}
	m := NewDetached(files, p)
	m.as = as
	return m, nil
}

// NewDetached creates an empty address space with no platform address space
// yet: a program can be loaded into it (loading only fills the memory file),
// and Attach gives it one before guest code runs. execve uses this to reuse
// the old image's platform address space.
func NewDetached(files memfile.Files, p platform.Platform) *MM {
	max := uint64(p.MaxUserAddress())
	m := &MM{
		files:   files,
		mf:      files[0],
		max:     max,
		vmas:    btree.NewG(8, (*vma).Less),
		pages:   make(map[uint64]*pte),
		mmapTop: max - (256 << 20), // room for the stack below the top
	}
	m.dumpable.Store(true)
	return m
}

// Dumpable reports PR_GET_DUMPABLE.
func (m *MM) Dumpable() bool { return m.dumpable.Load() }

// SetDumpable sets PR_SET_DUMPABLE.
func (m *MM) SetDumpable(on bool) { m.dumpable.Store(on) }

// Attach gives a detached address space its platform address space.
func (m *MM) Attach(as platform.AddressSpace) {
	m.mu.Lock()
	m.as = as
	m.mu.Unlock()
}

// Detach empties the platform address space and hands it over (for reuse by
// the next image of the same process); m is left without one and must only
// be released. via is the calling context (or nil), through which the
// address space is emptied when it is a platform.LocalMapper.
func (m *MM) Detach(via platform.Context) (platform.AddressSpace, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	as := m.as
	m.as = nil
	for _, p := range m.pages {
		p.mapped = platform.NoAccess
	}
	unmap := as.Unmap
	if lm, ok := via.(platform.LocalMapper); ok {
		unmap = func(addr, length uintptr) error { return lm.UnmapLocal(as, addr, length) }
	}
	if err := unmap(0, uintptr(m.max)); err != nil {
		as.Release()
		return nil, err
	}
	return as, nil
}

// AddressSpace returns the platform address space.
func (m *MM) AddressSpace() platform.AddressSpace { return m.as }

// MaxAddress returns the exclusive upper bound of guest addresses.
func (m *MM) MaxAddress() uint64 { return m.max }

// Release frees every page and the platform address space.
func (m *MM) Release() {
	m.ReleaseExe()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.pages {
		m.fileOf(p).DecRef(p.off)
	}
	m.pages = nil
	m.vmas.Ascend(func(v *vma) bool {
		if v.file != nil {
			v.file.DecRef()
		}
		return true
	})
	m.vmas.Clear(false)
	if m.as != nil {
		m.as.Release()
	}
}

// findLocked returns the vma containing addr.
func (m *MM) findLocked(addr uint64) *vma {
	var found *vma
	m.vmas.DescendLessOrEqual(&vma{start: addr}, func(v *vma) bool {
		if addr < v.end {
			found = v
		}
		return false
	})
	return found
}

// overlapsLocked reports whether any vma intersects [start, end).
func (m *MM) overlapsLocked(start, end uint64) bool {
	if v := m.findLocked(start); v != nil {
		return true
	}
	hit := false
	m.vmas.AscendRange(&vma{start: start}, &vma{start: end}, func(*vma) bool {
		hit = true
		return false
	})
	return hit
}

// splitLocked makes addr a vma boundary if it falls inside one.
func (m *MM) splitLocked(addr uint64) {
	v := m.findLocked(addr)
	if v == nil || v.start == addr {
		return
	}
	right := *v
	right.start = addr
	if v.file != nil {
		right.fileOff = v.fileOff + int64(addr-v.start)
		v.file.IncRef()
	}
	v.end = addr
	m.vmas.ReplaceOrInsert(&right)
}

// mergeLocked joins the vma ending at addr with the one starting there when
// they are alike in everything but their range, as Linux merges vmas (so a
// range split by mprotect and set back is one mapping again).
func (m *MM) mergeLocked(addr uint64) {
	if addr == 0 {
		return
	}
	left, right := m.findLocked(addr-1), m.findLocked(addr)
	if left == nil || right == nil || left == right || left.end != addr || !mergeable(left, right) {
		return
	}
	m.vmas.Delete(right)
	left.end = right.end
	if right.file != nil {
		right.file.DecRef()
	}
}

// mergeable reports whether right, which starts where left ends, continues
// it: same permissions, sharing, backing (at the next file offset) and name.
func mergeable(left, right *vma) bool {
	if left.perm != right.perm || left.maxPerm != right.maxPerm || left.shared != right.shared ||
		left.growsDown != right.growsDown || left.file != right.file || left.name != right.name ||
		left.dev != right.dev || left.ino != right.ino || left.dontFork != right.dontFork ||
		left.wipeOnFork != right.wipeOnFork || left.locked != right.locked {
		return false
	}
	return left.file == nil || left.fileOff+int64(left.end-left.start) == right.fileOff
}

// removeRangeLocked drops vmas and pages in [start, end).
func (m *MM) removeRangeLocked(start, end uint64) {
	m.splitLocked(start)
	m.splitLocked(end)
	var doomed []*vma
	m.vmas.AscendRange(&vma{start: start}, &vma{start: end}, func(v *vma) bool {
		doomed = append(doomed, v)
		return true
	})
	for _, v := range doomed {
		m.vmas.Delete(v)
		m.dropPagesLocked(v.start, v.end)
		if v.file != nil {
			v.file.DecRef()
		}
	}
}

// dropPagesLocked releases present pages in [start, end) and unmaps them.
func (m *MM) dropPagesLocked(start, end uint64) {
	mapped := false
	if uint64(len(m.pages)) < (end-start)/pageSize {
		for a, p := range m.pages {
			if a >= start && a < end {
				mapped = mapped || p.mapped.Any()
				m.fileOf(p).DecRef(p.off)
				delete(m.pages, a)
			}
		}
	} else {
		for a := start; a < end; a += pageSize {
			if p, ok := m.pages[a]; ok {
				mapped = mapped || p.mapped.Any()
				m.fileOf(p).DecRef(p.off)
				delete(m.pages, a)
			}
		}
	}
	if mapped {
		m.as.Unmap(uintptr(start), uintptr(end-start))
	}
}

// Keyed is implemented by Mappables whose file data may shrink or lose
// pages under the mapping (see InvalidateFile).
type Keyed interface {
	MappingKey() any
}

// InvalidateFile drops the pages mapped from file offsets [start, end) (end
// < 0: to the end) of the Mappables whose MappingKey is key, after the file
// removed them (truncation, hole punching): the next access faults them in
// anew (or gets SIGBUS past the end of file). Like Linux's
// unmap_mapping_range without even_cows, the private copies of a private
// mapping are kept.
func (m *MM) InvalidateFile(key any, start, end int64) {
	if key == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var drop []uint64
	m.vmas.Ascend(func(v *vma) bool {
		k, ok := v.file.(Keyed)
		if !ok || k.MappingKey() != key {
			return true
		}
		vEnd := v.fileOff + int64(v.end-v.start)
		s, e := max(start, v.fileOff), vEnd
		if end >= 0 {
			e = min(end, vEnd)
		}
		for off := s &^ (pageSize - 1); off < e; off += pageSize {
			a := v.start + uint64(off-v.fileOff)
			if p, ok := m.pages[a]; ok && (v.shared || p.fromFile) {
				drop = append(drop, a)
			}
		}
		return true
	})
	for _, a := range drop {
		p := m.pages[a]
		m.fileOf(p).DecRef(p.off)
		delete(m.pages, a)
	}
	if len(drop) > 0 && m.as != nil {
		m.unmapPagesLocked(drop)
	}
}

// MapOpts describes a new mapping.
type MapOpts struct {
	Addr, Length uint64
	Perm         platform.Access
	MaxPerm      platform.Access
	Fixed        bool // MAP_FIXED: replace whatever is there
	NoReplace    bool // MAP_FIXED_NOREPLACE
	Shared       bool
	GrowsDown    bool
	File         Mappable // nil: anonymous; the MM takes a new reference
	Offset       int64
	Name         string
	Dev, Ino     uint64
	Populate     bool
	// MaxVirtual is RLIMIT_AS: the address space may not grow past it
	// (0: no limit).
	MaxVirtual uint64
}

// Map creates a mapping and returns its address.
func (m *MM) Map(o MapOpts) (uint64, error) {
	if o.Length == 0 {
		return 0, unix.EINVAL
	}
	length := (o.Length + pageSize - 1) &^ (pageSize - 1)
	if length < o.Length || length > m.max {
		return 0, unix.ENOMEM
	}
	if o.Offset&(pageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	addr := o.Addr &^ (pageSize - 1)
	switch {
	case o.Fixed || o.NoReplace:
		if o.Addr&(pageSize-1) != 0 {
			return 0, unix.EINVAL
		}
		if addr+length > m.max || addr+length < addr {
			return 0, unix.ENOMEM
		}
		if o.NoReplace && m.overlapsLocked(addr, addr+length) {
			return 0, unix.EEXIST
		}
		// What is replaced does not count against the limit.
		if o.MaxVirtual != 0 && m.virtualSizeLocked()-m.mappedBytesLocked(addr, addr+length)+length > o.MaxVirtual {
			return 0, unix.ENOMEM
		}
		m.removeRangeLocked(addr, addr+length)
	default:
		if o.MaxVirtual != 0 && m.virtualSizeLocked()+length > o.MaxVirtual {
			return 0, unix.ENOMEM
		}
		var ok bool
		addr, ok = m.findGapLocked(addr, length)
		if !ok {
			return 0, unix.ENOMEM
		}
	}
	if o.MaxPerm == (platform.Access{}) {
		o.MaxPerm = platform.AnyAccess
	}
	v := &vma{start: addr, end: addr + length, perm: o.Perm, maxPerm: o.MaxPerm, shared: o.Shared,
		growsDown: o.GrowsDown, file: o.File, fileOff: o.Offset, name: o.Name, dev: o.Dev, ino: o.Ino,
		locked: m.lockFuture}
	if o.File == nil && o.Shared {
		// Shared anonymous memory stays shared across fork, also the
		// pages touched only after it: they belong to an object.
		v.file, v.fileOff = newSharedAnon(m.mf), 0
	}
	if v.file != nil {
		v.file.IncRef()
	}
	m.vmas.ReplaceOrInsert(v)
	m.mergeLocked(addr)
	m.mergeLocked(addr + length)
	if o.Populate {
		m.populateLocked(addr, addr+length)
	}
	return addr, nil
}

// populateLocked makes the pages of [start, end) present, up to the first
// that cannot be (MAP_POPULATE, mlock).
func (m *MM) populateLocked(start, end uint64) {
	for a := start; a < end; a += pageSize {
		if _, err := m.faultLocked(a, platform.Access{Read: true}, nil); err != nil {
			return
		}
	}
}

// findGapLocked finds a free range of length bytes, preferring hint.
func (m *MM) findGapLocked(hint, length uint64) (uint64, bool) {
	if hint != 0 && hint+length <= m.max && hint+length > hint && hint >= 0x10000 && !m.overlapsLocked(hint, hint+length) {
		return hint, true
	}
	// Top-down from mmapTop.
	top := m.mmapTop
	found := uint64(0)
	ok := false
	m.vmas.DescendLessOrEqual(&vma{start: top}, func(v *vma) bool {
		if v.end <= top && top-v.end >= length {
			found, ok = top-length, true
			return false
		}
		if v.start < top {
			top = v.start
		}
		return true
	})
	if !ok && top >= length+0x10000 {
		found, ok = top-length, true
	}
	// Also consider vmas above mmapTop that end below it: handled by the
	// descent. Fall back to searching above mmapTop below the stack.
	if !ok {
		return 0, false
	}
	return found, true
}

// Unmap removes mappings in [addr, addr+length).
func (m *MM) Unmap(addr, length uint64) error {
	if addr&(pageSize-1) != 0 || length == 0 {
		return unix.EINVAL
	}
	end := (addr + length + pageSize - 1) &^ (pageSize - 1)
	if end < addr || end > m.max {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeRangeLocked(addr, end)
	return nil
}

// ObjectAt returns the Mappable of the mapping that starts at addr with
// offset 0, or nil (shmdt finds its attachment so).
func (m *MM) ObjectAt(addr uint64) Mappable {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v := m.findLocked(addr); v != nil && v.start == addr && v.fileOff == 0 {
		return v.file
	}
	return nil
}

// UnmapObject implements shmdt: the mapping of f that starts at addr with
// offset 0, and every other mapping of f in the size bytes from addr, are
// removed. EINVAL when no such mapping starts at addr.
func (m *MM) UnmapObject(addr uint64, f Mappable, size uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.findLocked(addr)
	if v == nil || v.start != addr || v.file != f || v.fileOff != 0 {
		return unix.EINVAL
	}
	end := min(addr+((size+pageSize-1)&^(pageSize-1)), m.max)
	var doomed [][2]uint64
	m.vmas.AscendRange(&vma{start: addr}, &vma{start: end}, func(v *vma) bool {
		if v.file == f {
			doomed = append(doomed, [2]uint64{v.start, min(v.end, end)})
		}
		return true
	})
	for _, r := range doomed {
		m.removeRangeLocked(r[0], r[1])
	}
	return nil
}

// Protect changes the permissions of [addr, addr+length).
func (m *MM) Protect(addr, length uint64, perm platform.Access) error {
	if addr&(pageSize-1) != 0 {
		return unix.EINVAL
	}
	end := (addr + length + pageSize - 1) &^ (pageSize - 1)
	if end < addr || end > m.max {
		return unix.ENOMEM
	}
	if length == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The whole range must be mapped.
	for a := addr; a < end; {
		v := m.findLocked(a)
		if v == nil {
			return unix.ENOMEM
		}
		if (perm.Write && !v.maxPerm.Write) || (perm.Execute && !v.maxPerm.Execute) || (perm.Read && !v.maxPerm.Read) {
			return unix.EACCES
		}
		a = v.end
	}
	m.splitLocked(addr)
	m.splitLocked(end)
	m.vmas.AscendRange(&vma{start: addr}, &vma{start: end}, func(v *vma) bool {
		v.perm = perm
		return true
	})
	m.mergeLocked(addr)
	m.mergeLocked(end)
	// Present pages refault with the new permissions.
	unmapped := false
	for a := addr; a < end; a += pageSize {
		if p, ok := m.pages[a]; ok && p.mapped.Any() {
			p.mapped = platform.NoAccess
			unmapped = true
		}
	}
	if unmapped {
		m.as.Unmap(uintptr(addr), uintptr(end-addr))
	}
	return nil
}

// ProtectGrowsDown is mprotect with PROT_GROWSDOWN: the change extends down
// to the start of the grows-down mapping that holds addr.
func (m *MM) ProtectGrowsDown(addr, length uint64, perm platform.Access) error {
	m.mu.Lock()
	v := m.findLocked(addr)
	if v == nil {
		m.mu.Unlock()
		return unix.ENOMEM
	}
	if !v.growsDown {
		m.mu.Unlock()
		return unix.EINVAL
	}
	start := v.start
	m.mu.Unlock()
	if addr&(pageSize-1) != 0 {
		return unix.EINVAL
	}
	return m.Protect(start, addr+length-start, perm)
}

// SetBrkStart initialises the program break after loading.
func (m *MM) SetBrkStart(addr uint64) {
	m.mu.Lock()
	m.brkStart, m.brk = addr, addr
	m.mu.Unlock()
}

// Brk implements brk(2): it returns the new (or unchanged) break.
func (m *MM) Brk(addr uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if addr < m.brkStart || addr > m.brkStart+(1<<34) {
		return m.brk
	}
	oldEnd := (m.brk + pageSize - 1) &^ (pageSize - 1)
	newEnd := (addr + pageSize - 1) &^ (pageSize - 1)
	switch {
	case newEnd > oldEnd:
		// Linux keeps a page free between the heap and the next mapping.
		if newEnd+pageSize < newEnd || m.overlapsLocked(oldEnd, newEnd+pageSize) {
			return m.brk
		}
		// Extend the heap vma if it ends at oldEnd, else make one.
		if v := m.findLocked(oldEnd - 1); v != nil && v.end == oldEnd && v.name == "[heap]" {
			v.end = newEnd
		} else {
			m.vmas.ReplaceOrInsert(&vma{start: oldEnd, end: newEnd, perm: platform.ReadWrite,
				maxPerm: platform.AnyAccess, name: "[heap]"})
		}
	case newEnd < oldEnd:
		m.removeRangeLocked(newEnd, oldEnd)
	}
	m.brk = addr
	return addr
}

// Remap implements mremap(2).
func (m *MM) Remap(old, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, error) {
	const mayMove, fixed, dontUnmap = 1, 2, 4
	if old&(pageSize-1) != 0 || newLen == 0 {
		return 0, unix.EINVAL
	}
	if oldLen > m.max || newLen > m.max {
		return 0, unix.ENOMEM
	}
	oldLen = (oldLen + pageSize - 1) &^ (pageSize - 1)
	newLen = (newLen + pageSize - 1) &^ (pageSize - 1)
	if flags&fixed != 0 && flags&mayMove == 0 {
		return 0, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.findLocked(old)
	if v == nil || old+oldLen > v.end {
		return 0, unix.EFAULT
	}
	if oldLen == 0 {
		return m.duplicateLocked(v, old, newLen, flags&mayMove != 0, flags&fixed != 0, newAddr)
	}
	if flags&fixed == 0 && flags&dontUnmap == 0 {
		if newLen <= oldLen {
			m.removeRangeLocked(old+newLen, old+oldLen)
			return old, nil
		}
		// Grow in place when the range after is free.
		if old+oldLen == v.end && old+newLen <= m.max && !m.overlapsLocked(v.end, old+newLen) {
			v.end = old + newLen
			return old, nil
		}
		if flags&mayMove == 0 {
			return 0, unix.ENOMEM
		}
	}
	newAddr, err := m.remapTargetLocked(old, oldLen, newLen, flags&fixed != 0, newAddr)
	if err != nil {
		return 0, err
	}
	// Move: carve [old, old+oldLen) out as its own vma and relocate it;
	// with MREMAP_DONTUNMAP the old vma stays, emptied of its pages.
	m.splitLocked(old)
	m.splitLocked(old + oldLen)
	src := m.findLocked(old)
	if flags&dontUnmap == 0 {
		m.vmas.Delete(src)
	} else if src.file != nil {
		src.file.IncRef()
	}
	moved := *src
	moved.start, moved.end = newAddr, newAddr+newLen
	if newLen < oldLen {
		moved.end = newAddr + newLen
	}
	mapped := false
	for a := old; a < old+oldLen; a += pageSize {
		p, ok := m.pages[a]
		if !ok {
			continue
		}
		delete(m.pages, a)
		mapped = mapped || p.mapped.Any()
		if a-old < newLen {
			p.mapped = platform.NoAccess
			m.pages[newAddr+(a-old)] = p
		} else {
			m.fileOf(p).DecRef(p.off)
		}
	}
	if mapped {
		m.as.Unmap(uintptr(old), uintptr(oldLen))
	}
	m.vmas.ReplaceOrInsert(&moved)
	return newAddr, nil
}

// remapTargetLocked returns where mremap moves [old, old+oldLen) to, making
// room there for MREMAP_FIXED.
func (m *MM) remapTargetLocked(old, oldLen, newLen uint64, fixed bool, newAddr uint64) (uint64, error) {
	if !fixed {
		addr, ok := m.findGapLocked(0, newLen)
		if !ok {
			return 0, unix.ENOMEM
		}
		return addr, nil
	}
	// newAddr is the guest's: newAddr+newLen may wrap past 2^64 (a
	// fuzzer's mremap to 0xfffffffffffff000 made a vma ending below its
	// start).
	if newAddr&(pageSize-1) != 0 || newAddr+newLen > m.max || newAddr+newLen < newAddr {
		return 0, unix.EINVAL
	}
	if newAddr < old+oldLen && old < newAddr+newLen {
		return 0, unix.EINVAL
	}
	m.removeRangeLocked(newAddr, newAddr+newLen)
	return newAddr, nil
}

// duplicateLocked is mremap with old size 0: a second mapping of the same
// shared object at old's offset. Private mappings cannot be duplicated.
func (m *MM) duplicateLocked(v *vma, old, newLen uint64, mayMove, fixed bool, newAddr uint64) (uint64, error) {
	if !v.shared {
		return 0, unix.EINVAL
	}
	if !mayMove {
		return 0, unix.ENOMEM
	}
	addr, err := m.remapTargetLocked(old, 0, newLen, fixed, newAddr)
	if err != nil {
		return 0, err
	}
	dup := *v
	dup.start, dup.end = addr, addr+newLen
	dup.fileOff = v.fileOff + int64(old-v.start)
	v.file.IncRef()
	m.vmas.ReplaceOrInsert(&dup)
	return addr, nil
}

// NoLockLimit is the lock limit of a task that may lock any amount
// (CAP_IPC_LOCK, or an infinite RLIMIT_MEMLOCK).
const NoLockLimit = ^uint64(0)

// Lock implements mlock (lock) and munlock on the pages holding [addr,
// addr+length): every page must be mapped (ENOMEM), and the bytes locked
// may not exceed limit (ENOMEM). Locking makes the pages present unless
// onFault (MLOCK_ONFAULT).
func (m *MM) Lock(addr, length uint64, lock, onFault bool, limit uint64) error {
	start := addr &^ (pageSize - 1)
	end := (addr + length + pageSize - 1) &^ (pageSize - 1)
	if end < start || end > m.max {
		return unix.ENOMEM
	}
	if start == end {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for a := start; a < end; {
		v := m.findLocked(a)
		if v == nil {
			return unix.ENOMEM
		}
		a = v.end
	}
	if lock && m.lockedBytesLocked(0, start)+(end-start)+m.lockedBytesLocked(end, m.max) > limit {
		return unix.ENOMEM
	}
	m.setLockedLocked(start, end, lock, onFault)
	return nil
}

// LockAll implements mlockall (current: the mappings there are now, future:
// the ones made later) with Lock's limit, and munlockall (lock false).
func (m *MM) LockAll(lock, current, future, onFault bool, limit uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !lock {
		m.lockFuture = false
		m.setLockedLocked(0, m.max, false, false)
		return nil
	}
	if current {
		if m.lockedBytesLocked(0, m.max)+m.unlockedBytesLocked() > limit {
			return unix.ENOMEM
		}
		m.setLockedLocked(0, m.max, true, onFault)
	}
	m.lockFuture = future
	return nil
}

// lockedBytesLocked is the size of the locked vmas within [start, end).
func (m *MM) lockedBytesLocked(start, end uint64) uint64 {
	return m.bytesInLocked(start, end, func(v *vma) bool { return v.locked })
}

func (m *MM) unlockedBytesLocked() uint64 {
	return m.bytesInLocked(0, m.max, func(v *vma) bool { return !v.locked })
}

// setLockedLocked marks the vmas in [start, end) locked or not, and makes
// the accessible pages of newly locked ones present unless onFault.
func (m *MM) setLockedLocked(start, end uint64, lock, onFault bool) {
	m.splitLocked(start)
	m.splitLocked(end)
	var vs []*vma
	m.vmas.AscendRange(&vma{start: start}, &vma{start: end}, func(v *vma) bool {
		vs = append(vs, v)
		return true
	})
	for _, v := range vs {
		v.locked = lock
		if lock && !onFault && v.perm.Any() {
			m.populateLocked(v.start, v.end)
		}
	}
	for _, v := range vs {
		m.mergeLocked(v.start)
	}
	m.mergeLocked(end)
}

// Advice is what madvise asks of a range of mappings.
type Advice int

// The kinds of advice that change something; every other one (a hint) only
// has its range checked.
const (
	AdviceHint       Advice = iota
	AdviceDontNeed          // drop private pages: they refault as zeroes or the file's
	AdviceFree              // MADV_FREE: like DontNeed, private anonymous memory only
	AdviceRemove            // MADV_REMOVE: free the backing of a shared writable range
	AdviceDontFork          // MADV_DONTFORK
	AdviceDoFork            // MADV_DOFORK
	AdviceWipeOnFork        // MADV_WIPEONFORK: private anonymous memory only
	AdviceKeepOnFork        // MADV_KEEPONFORK
)

// Puncher is a Mappable whose backing can be freed (MADV_REMOVE): the range
// reads as zeroes afterwards.
type Puncher interface {
	Punch(off, length int64) error
}

// Advise implements madvise(2) on [addr, addr+length): each mapping in the
// range gets the advice; ENOMEM when part of the range is not mapped (after
// advising the parts that are, as Linux does).
func (m *MM) Advise(addr, length uint64, adv Advice) error {
	if addr&(pageSize-1) != 0 {
		return unix.EINVAL
	}
	end := (addr + length + pageSize - 1) &^ (pageSize - 1)
	if end < addr || end > m.max {
		return unix.EINVAL
	}
	if end == addr {
		return nil
	}
	punches, err := m.advise(addr, end, adv)
	if err != nil || len(punches) == 0 {
		return err
	}
	// MADV_REMOVE punches the files without m.mu: a file system that
	// frees pages invalidates every address space's mappings of them,
	// this one's included (see InvalidateFile).
	var perr error
	for _, p := range punches {
		if perr == nil {
			perr = p.file.Punch(p.off, p.length)
		}
		p.ref.DecRef()
	}
	if perr != nil {
		return perr
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range punches {
		m.dropPagesLocked(p.start, p.end)
	}
	return nil
}

// punch is a hole MADV_REMOVE makes in a mapped file.
type punch struct {
	file        Puncher
	ref         Mappable // the same file, referenced while m.mu is not held
	off, length int64
	start, end  uint64 // the mapped range
}

// advise applies adv to the page-aligned [addr, end) and returns the holes
// that MADV_REMOVE asks for, to be punched without m.mu.
func (m *MM) advise(addr, end uint64, adv Advice) ([]punch, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if adv >= AdviceDontFork {
		// Flags are per vma: the range becomes vmas of its own.
		m.splitLocked(addr)
		m.splitLocked(end)
	}
	var vs []*vma
	if v := m.findLocked(addr); v != nil {
		vs = append(vs, v)
	}
	// Walk the vmas in the range, not its pages: the length is the guest's.
	m.vmas.AscendRange(&vma{start: addr + 1}, &vma{start: end}, func(v *vma) bool {
		vs = append(vs, v)
		return true
	})
	covered := addr
	hole := false
	var punches []punch
	for _, v := range vs {
		hole = hole || v.start > covered
		covered = v.end
		start, vend := max(addr, v.start), min(end, v.end)
		if adv == AdviceRemove {
			p, err := removeHole(v, start, vend)
			if err != nil {
				for _, p := range punches {
					p.ref.DecRef()
				}
				return nil, err
			}
			punches = append(punches, p)
			continue
		}
		if err := m.adviseLocked(v, start, vend, adv); err != nil {
			return nil, err
		}
	}
	if hole || covered < end {
		return nil, unix.ENOMEM
	}
	if adv >= AdviceDontFork {
		for _, v := range vs {
			m.mergeLocked(v.start)
		}
		m.mergeLocked(end)
	}
	return punches, nil
}

// adviseLocked applies adv to [start, end), which lies in v.
func (m *MM) adviseLocked(v *vma, start, end uint64, adv Advice) error {
	anonPrivate := v.file == nil && !v.shared
	switch adv {
	case AdviceDontNeed:
		if !v.shared {
			m.dropPagesLocked(start, end)
		}
	case AdviceFree:
		if !anonPrivate {
			return unix.EINVAL
		}
		m.dropPagesLocked(start, end)
	case AdviceDontFork, AdviceDoFork:
		v.dontFork = adv == AdviceDontFork
	case AdviceWipeOnFork, AdviceKeepOnFork:
		if !anonPrivate {
			return unix.EINVAL
		}
		v.wipeOnFork = adv == AdviceWipeOnFork
	}
	return nil
}

// removeHole returns the hole MADV_REMOVE makes in the backing of
// [start, end) of v.
func removeHole(v *vma, start, end uint64) (punch, error) {
	if v.file == nil {
		return punch{}, unix.EINVAL
	}
	if !v.shared || !v.maxPerm.Write {
		return punch{}, unix.EACCES
	}
	p, ok := v.file.(Puncher)
	if !ok {
		return punch{}, unix.EOPNOTSUPP
	}
	v.file.IncRef()
	return punch{file: p, ref: v.file, off: v.fileOff + int64(start-v.start), length: int64(end - start), start: start, end: end}, nil
}

// Fork returns a copy-on-write copy of the address space in a fresh platform
// address space. via is the forking context (or nil), through which the
// parent's pages are re-protected when it is a platform.LocalMapper.
func (m *MM) Fork(p platform.Platform, via platform.Context) (*MM, error) {
	c, err := New(m.files, p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c.brkStart, c.brk, c.mmapTop = m.brkStart, m.brk, m.mmapTop
	c.dumpable.Store(m.dumpable.Load())
	c.ArgStart, c.ArgEnd, c.EnvStart, c.EnvEnd = m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd
	c.Auxv = append([]uint64(nil), m.Auxv...)
	special := false // some vma is not copied as is
	m.vmas.Ascend(func(v *vma) bool {
		special = special || v.dontFork || v.wipeOnFork
		if v.dontFork {
			return true
		}
		nv := *v
		nv.locked = false // memory locks are not inherited
		if v.file != nil {
			v.file.IncRef()
		}
		c.vmas.ReplaceOrInsert(&nv)
		return true
	})
	// Both sides now share the parent's private writable pages: the
	// parent must fault before writing one again, but may go on reading.
	var protect []uint64
	c.pages = make(map[uint64]*pte, len(m.pages))
	ptes := make([]pte, len(m.pages))
	for a, p := range m.pages {
		if special {
			if v := c.findLocked(a); v == nil || v.wipeOnFork {
				continue
			}
		}
		m.fileOf(p).IncRef(p.off)
		q := &ptes[0]
		ptes = ptes[1:]
		*q = pte{off: p.off, file: p.file, fromFile: p.fromFile}
		c.pages[a] = q
		if p.mapped.Write {
			if v := m.findLocked(a); v != nil && !v.shared {
				p.mapped = m.permLocked(v, p)
				protect = append(protect, a)
			}
		}
	}
	if err := m.protectPagesLocked(protect, via); err != nil {
		// Leave nothing writable behind.
		for _, a := range protect {
			m.pages[a].mapped = platform.NoAccess
		}
		m.unmapPagesLocked(protect)
	}
	return c, nil
}

// protectPagesLocked applies the pages' new (lower) permissions in the
// platform, one mprotect per run of neighbouring pages with the same
// permissions, through via when it is a platform.LocalMapper.
func (m *MM) protectPagesLocked(pages []uint64, via platform.Context) error {
	slices.Sort(pages)
	byPerm := map[platform.Access][]platform.Range{}
	for i := 0; i < len(pages); {
		perm := m.pages[pages[i]].mapped
		j := i + 1
		for j < len(pages) && pages[j] == pages[j-1]+pageSize && m.pages[pages[j]].mapped == perm {
			j++
		}
		byPerm[perm] = append(byPerm[perm], platform.Range{Addr: uintptr(pages[i]), Length: uintptr(pages[j-1] + pageSize - pages[i])})
		i = j
	}
	lm, local := via.(platform.LocalMapper)
	for perm, rs := range byPerm {
		var err error
		if local {
			err = lm.ProtectLocal(m.as, rs, perm)
		} else {
			for _, r := range rs {
				if err = m.as.Protect(r.Addr, r.Length, perm); err != nil {
					break
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unmapPagesLocked removes the given pages from the platform, one call per
// run of contiguous pages: each call is a round trip to the stub process.
func (m *MM) unmapPagesLocked(pages []uint64) {
	slices.Sort(pages)
	for i := 0; i < len(pages); {
		j := i + 1
		for j < len(pages) && pages[j] == pages[j-1]+pageSize {
			j++
		}
		m.as.Unmap(uintptr(pages[i]), uintptr(pages[j-1]+pageSize-pages[i]))
		i = j
	}
}

// ErrBeyondEOF is the fault on a page of a file mapping that lies wholly
// past the end of the file: the guest gets SIGBUS, not SIGSEGV.
var ErrBeyondEOF = errors.New("mm: page beyond the end of the mapped file")

// HandleFault resolves a guest page fault. It returns EFAULT when the access
// is not allowed (the kernel raises SIGSEGV); the second result tells
// SEGV_MAPERR (false) from SEGV_ACCERR (true). Any other error (ErrBeyondEOF,
// no memory, an I/O error) is a SIGBUS. via is the context that took the
// fault, or nil: when it is a platform.LocalMapper, the new mappings are made
// through it. stackLimit returns the faulting task's RLIMIT_STACK, which a
// grows-down mapping may not grow past; it is called only for a fault that
// would grow a stack (nil: no limit).
func (m *MM) HandleFault(addr uint64, access platform.Access, via platform.Context, stackLimit func() uint64) (accErr bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mapIn := m.as.MapFiles
	if lm, ok := via.(platform.LocalMapper); ok {
		mapIn = func(ms []platform.Mapping) error { return lm.MapFilesLocal(m.as, ms) }
	}
	page := addr &^ (pageSize - 1)
	if m.findLocked(page) == nil {
		limit := NoStackLimit
		if stackLimit != nil {
			limit = stackLimit()
		}
		if m.growStackLocked(page, limit) == nil {
			return false, unix.EFAULT
		}
	}
	_, err = m.faultLocked(page, access, mapIn)
	if err == unix.EACCES {
		return true, unix.EFAULT
	}
	return false, err
}

// faultLocked makes the page at addr present with at least access, and maps
// it (and its neighbours) into the platform with mapIn unless mapIn is nil.
func (m *MM) faultLocked(addr uint64, access platform.Access, mapIn func([]platform.Mapping) error) (*pte, error) {
	v := m.findLocked(addr)
	if v == nil {
		// Only the guest's own faults grow a stack (HandleFault), as on
		// Linux since 6.5: the kernel's accesses do not.
		return nil, unix.EFAULT
	}
	if !v.perm.Any() || (access.Write && !v.perm.Write) || (access.Execute && !v.perm.Execute) {
		return nil, unix.EACCES
	}
	p := m.pages[addr]
	if p == nil {
		p = &pte{}
		if v.file != nil {
			file, off, err := m.filePage(v.file, v.fileOff+int64(addr-v.start))
			if err == unix.EFAULT {
				return nil, ErrBeyondEOF
			}
			if err != nil {
				return nil, err
			}
			p.off, p.file = off, file
			p.fromFile = !v.shared
		} else {
			off, err := m.mf.Allocate()
			if err != nil {
				return nil, unix.ENOMEM
			}
			p.off = off
		}
		m.pages[addr] = p
	}
	if access.Write && !v.shared && (p.fromFile || m.fileOf(p).Refs(p.off) > 1) {
		// Copy on write.
		off, err := m.mf.Allocate()
		if err != nil {
			return nil, unix.ENOMEM
		}
		copy(m.mf.Page(off), m.fileOf(p).Page(p.off))
		m.fileOf(p).DecRef(p.off)
		p.off, p.file, p.fromFile = off, 0, false
		if p.mapped.Any() && mapIn == nil {
			m.as.Unmap(uintptr(addr), pageSize)
			p.mapped = platform.NoAccess
		}
	}
	if mapIn != nil {
		ms := []platform.Mapping{{Addr: uintptr(addr), Length: pageSize, Offset: p.off, File: int(p.file), Perm: m.permLocked(v, p)}}
		ptes := []*pte{p}
		ms, ptes = m.faultAroundLocked(addr, access, ms, ptes)
		for i, q := range ptes {
			q.mapped = ms[i].Perm
		}
		if err := mapIn(coalesce(ms)); err != nil {
			for _, q := range ptes {
				q.mapped = platform.NoAccess
			}
			return nil, fmt.Errorf("map page %#x: %w", addr, err)
		}
	}
	return p, nil
}

// permLocked is how page p of v may be mapped now: never writable while it
// must still be copied on write.
func (m *MM) permLocked(v *vma, p *pte) platform.Access {
	perm := v.perm
	perm.Read = true
	if !v.shared && (p.fromFile || m.fileOf(p).Refs(p.off) > 1) {
		perm.Write = false
	}
	return perm
}

// Fault-around: one guest fault costs a round trip to the stub, so a fault
// also maps its neighbours. faultAround pages in an aligned window are
// mapped when that needs no new memory (present pages after fork, file
// pages from the page cache), whatever vma they are in (an ELF image's
// segments are small adjacent vmas). On a write, the private writable pages
// within cowAround pages of the fault are also made writable copies now: a
// program writing its data, heap or stack goes on writing next to it.
// A read or execute fault in a file mapping maps a wider window,
// fileFaultAround pages: program text and read-only data are touched all
// over, their pages are shared by every process, and the page cache holds
// them in runs of as many contiguous pages, so the window costs about one
// host mmap.
const (
	faultAround     = 16
	fileFaultAround = clusterPages
	cowAround       = 4
)

// faultAroundLocked adds the fault's neighbours to ms (and their ptes).
func (m *MM) faultAroundLocked(addr uint64, access platform.Access, ms []platform.Mapping, ptes []*pte) ([]platform.Mapping, []*pte) {
	window := uint64(faultAround)
	if v := m.findLocked(addr); v != nil && !access.Write && v.file != nil && !isSharedAnon(v.file) {
		window = fileFaultAround
	}
	start := addr &^ (window*pageSize - 1)
	end := min(start+window*pageSize, m.max)
	var v *vma
	for a := start; a < end; a += pageSize {
		if a == addr {
			continue
		}
		if v == nil || a < v.start || a >= v.end {
			if v = m.findLocked(a); v == nil {
				continue
			}
		}
		if !v.perm.Any() {
			continue
		}
		near := a+cowAround*pageSize > addr && a < addr+cowAround*pageSize
		q := m.pages[a]
		var err error
		if access.Write && near && v.perm.Write && !v.shared {
			if q, err = m.privateCopyLocked(v, a, q); err != nil {
				continue
			}
		} else {
			switch {
			case q != nil && q.mapped.Any():
				continue
			case q == nil && v.file == nil:
				continue // anonymous memory is allocated only when touched
			case q == nil && isSharedAnon(v.file):
				continue // so is shared anonymous memory
			case q == nil:
				file, off, err := m.filePage(v.file, v.fileOff+int64(a-v.start))
				if err != nil {
					continue // beyond the end of the file: the guest gets SIGBUS if it touches it
				}
				q = &pte{off: off, file: file, fromFile: !v.shared}
				m.pages[a] = q
			}
		}
		ms = append(ms, platform.Mapping{Addr: uintptr(a), Length: pageSize, Offset: q.off, File: int(q.file), Perm: m.permLocked(v, q)})
		ptes = append(ptes, q)
	}
	return ms, ptes
}

// coalesce sorts ms by address and merges neighbours that are contiguous in
// both the address space and the same backing file and have the same
// permissions: each mapping left is one host mmap.
func coalesce(ms []platform.Mapping) []platform.Mapping {
	slices.SortFunc(ms, func(a, b platform.Mapping) int { return cmp.Compare(a.Addr, b.Addr) })
	out := ms[:1]
	for _, x := range ms[1:] {
		last := &out[len(out)-1]
		if x.Addr == last.Addr+last.Length && x.File == last.File && x.Offset == last.Offset+int64(last.Length) && x.Perm == last.Perm {
			last.Length += x.Length
			continue
		}
		out = append(out, x)
	}
	return out
}

// privateCopyLocked makes the page at a of private vma v a page of its own
// (allocating, or copying the file's or a shared copy-on-write page), as a
// write fault there would.
func (m *MM) privateCopyLocked(v *vma, a uint64, q *pte) (*pte, error) {
	if q != nil && !q.fromFile && m.fileOf(q).Refs(q.off) == 1 {
		if q.mapped.Write {
			return nil, unix.EEXIST // nothing to do
		}
		return q, nil
	}
	var src []byte // the page copied, if any
	switch {
	case q != nil:
		src = m.fileOf(q).Page(q.off)
	case v.file != nil && !isSharedAnon(v.file):
		file, off, err := m.filePage(v.file, v.fileOff+int64(a-v.start))
		if err != nil {
			return nil, err
		}
		defer m.files[file].DecRef(off)
		src = m.files[file].Page(off)
	}
	off, err := m.mf.Allocate()
	if err != nil {
		return nil, err
	}
	if src != nil {
		copy(m.mf.Page(off), src)
	}
	if q == nil {
		q = &pte{}
		m.pages[a] = q
	} else {
		m.fileOf(q).DecRef(q.off)
	}
	q.off, q.file, q.fromFile = off, 0, false
	return q, nil
}

// fileOf returns the backing file of p.
func (m *MM) fileOf(p *pte) *memfile.File { return m.files[p.file] }

// filePage returns the page of f at file offset off, with a reference,
// and the index of the backing file it is in.
func (m *MM) filePage(f Mappable, off int64) (uint8, int64, error) {
	file, err := m.fileIndex(f)
	if err != nil {
		return 0, 0, err
	}
	pg, err := f.Page(off)
	return file, pg, err
}

// fileIndex returns the index in m.files of the backing file f's pages are
// in.
func (m *MM) fileIndex(f Mappable) (uint8, error) {
	b, ok := f.(Backed)
	if !ok {
		return 0, nil
	}
	mf := b.MemoryFile()
	if mf == nil || mf == m.mf {
		return 0, nil
	}
	for i, x := range m.files {
		if x == mf {
			return uint8(i), nil
		}
	}
	return 0, errUnknownFile
}

func isSharedAnon(f Mappable) bool {
	_, ok := f.(*sharedAnon)
	return ok
}

// NoStackLimit is the stack limit of a task whose RLIMIT_STACK is infinite.
const NoStackLimit = ^uint64(0)

// stackGuardGap is how far a growing stack must stay from the mapping below
// it, as Linux's default stack_guard_gap (256 pages): a stack that runs
// into other memory faults instead of silently writing over it.
const stackGuardGap = 256 * pageSize

// growStackLocked extends the grows-down vma above addr down to addr, as
// Linux's expand_stack: the grown vma may not exceed limit (RLIMIT_STACK),
// nor come within stackGuardGap of an accessible mapping below it. It
// returns nil when the fault is not a stack's to grow.
func (m *MM) growStackLocked(addr, limit uint64) *vma {
	var next *vma
	m.vmas.AscendGreaterOrEqual(&vma{start: addr}, func(v *vma) bool {
		next = v
		return false
	})
	if next == nil || !next.growsDown || next.end-addr > limit {
		return nil
	}
	var prev *vma
	m.vmas.DescendLessOrEqual(&vma{start: addr}, func(v *vma) bool {
		prev = v
		return false
	})
	// Linux's expand_stack: the grown vma stays within limit, and out of
	// the guard gap above an accessible mapping that is not a stack too.
	allowed := func(a uint64) bool {
		if a > addr || next.end-a > limit {
			return false
		}
		return prev == nil || a >= prev.end && (prev.growsDown || !prev.perm.Any() || a-prev.end >= stackGuardGap)
	}
	if !allowed(addr) {
		return nil
	}
	// A write fault also makes the pages just below it writable copies
	// (cowAround): the vma covers them when it may, so that a descending
	// stack takes one fault per cowAround pages rather than one per page.
	start := addr
	for i := uint64(1); i < cowAround && allowed(addr-i*pageSize); i++ {
		start = addr - i*pageSize
	}
	m.vmas.Delete(next)
	next.start = start
	m.vmas.ReplaceOrInsert(next)
	return next
}

// pageForLocked returns the sentry's view of the page at addr for a kernel
// access, faulting it in as the guest would (without mapping it).
func (m *MM) pageForLocked(addr uint64, write bool) ([]byte, error) {
	p, err := m.faultLocked(addr, platform.Access{Read: !write, Write: write}, nil)
	if err != nil {
		return nil, unix.EFAULT
	}
	return m.fileOf(p).Page(p.off), nil
}

// CopyIn copies len(dst) bytes from guest address addr.
func (m *MM) CopyIn(addr uint64, dst []byte) (int, error) {
	return m.copy(addr, dst, false)
}

// CopyOut copies src to guest address addr.
func (m *MM) CopyOut(addr uint64, src []byte) (int, error) {
	return m.copy(addr, src, true)
}

func (m *MM) copy(addr uint64, buf []byte, write bool) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	if addr+uint64(len(buf)) < addr || addr+uint64(len(buf)) > m.max {
		return 0, unix.EFAULT
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	done := 0
	for done < len(buf) {
		a := addr + uint64(done)
		page := a &^ (pageSize - 1)
		pg, err := m.pageForLocked(page, write)
		if err != nil {
			return done, err
		}
		in := int(a - page)
		n := min(len(buf)-done, pageSize-in)
		mem := pg[in : in+n]
		if write {
			copy(mem, buf[done:done+n])
		} else {
			copy(buf[done:done+n], mem)
		}
		done += n
	}
	return done, nil
}

// CopyInString reads a NUL-terminated string of at most max bytes.
func (m *MM) CopyInString(addr uint64, max int) (string, error) {
	var out []byte
	var chunk [256]byte
	for len(out) < max {
		// Read up to the end of the page so we never fault past the string.
		n := min(len(chunk), pageSize-int(addr&(pageSize-1)), max-len(out))
		got, err := m.CopyIn(addr, chunk[:n])
		for i := 0; i < got; i++ {
			if chunk[i] == 0 {
				return string(append(out, chunk[:i]...)), nil
			}
		}
		out = append(out, chunk[:got]...)
		if err != nil {
			return "", err
		}
		addr += uint64(got)
	}
	return "", unix.ENAMETOOLONG
}

// Mapping describes one vma for /proc/PID/maps.
type Mapping struct {
	Start, End uint64
	Perm       platform.Access
	Shared     bool
	Offset     int64
	Dev, Ino   uint64
	Name       string
	Locked     bool
}

// Namer is implemented by Mappables whose name in /proc/PID/maps is
// computed when it is read: a file unlinked after mmap shows
// " (deleted)", as Linux's d_path does.
type Namer interface {
	MapName() (string, bool)
}

// Mappings returns the address space's mappings in address order.
func (m *MM) Mappings() []Mapping {
	type named struct {
		i int
		n Namer
	}
	var out []Mapping
	var names []named
	m.mu.Lock()
	m.vmas.Ascend(func(v *vma) bool {
		if n, ok := v.file.(Namer); ok {
			v.file.IncRef()
			names = append(names, named{len(out), n})
		}
		out = append(out, Mapping{Start: v.start, End: v.end, Perm: v.perm, Shared: v.shared,
			Offset: v.fileOff, Dev: v.dev, Ino: v.ino, Name: v.name, Locked: v.locked})
		return true
	})
	m.mu.Unlock()
	// Names come from the VFS, whose locks are not taken under m.mu.
	for _, x := range names {
		if name, ok := x.n.MapName(); ok {
			out[x.i].Name = name
		}
		x.n.(Mappable).DecRef()
	}
	return out
}

// IsMapped reports whether [addr, addr+length) is entirely mapped (mincore,
// msync checks).
func (m *MM) IsMapped(addr, length uint64) bool {
	if addr+length < addr {
		return false // the guest's range wraps past the end of memory
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for a := addr; a < addr+length; {
		v := m.findLocked(a)
		if v == nil {
			return false
		}
		a = v.end
	}
	return true
}

// Resident reports whether the page at addr is present.
func (m *MM) Resident(addr uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.pages[addr&^(pageSize-1)]
	return ok
}

// RSS returns the number of present pages.
func (m *MM) RSS() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pages)
}

// VirtualSize returns the sum of vma lengths.
func (m *MM) VirtualSize() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.virtualSizeLocked()
}

// mappedBytesLocked is how much of [start, end) is mapped.
func (m *MM) mappedBytesLocked(start, end uint64) uint64 {
	return m.bytesInLocked(start, end, func(*vma) bool { return true })
}

// bytesInLocked is how much of [start, end) lies in vmas that match.
func (m *MM) bytesInLocked(start, end uint64, match func(*vma) bool) uint64 {
	var n uint64
	m.vmas.Ascend(func(v *vma) bool {
		if v.start < end && v.end > start && match(v) {
			n += min(v.end, end) - max(v.start, start)
		}
		return v.start < end
	})
	return n
}

func (m *MM) virtualSizeLocked() uint64 {
	var n uint64
	m.vmas.Ascend(func(v *vma) bool { n += v.end - v.start; return true })
	return n
}

// SetMmapTop sets where top-down allocation starts (below the stack).
func (m *MM) SetMmapTop(top uint64) {
	m.mu.Lock()
	m.mmapTop = top
	m.mu.Unlock()
}

// BrkStart returns the start of the heap.
func (m *MM) BrkStart() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.brkStart
}

// SharedOffset returns where addr is in the backing files (file index and
// offset) when it lies in a shared mapping (so futexes there are shared
// between processes); ok is false for private memory.
func (m *MM) SharedOffset(addr uint64) (file int, off int64, ok bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.findLocked(addr)
	if v == nil {
		return 0, 0, false, unix.EFAULT
	}
	if !v.shared {
		return 0, 0, false, nil
	}
	p, err := m.faultLocked(addr&^(pageSize-1), platform.Access{Read: true}, nil)
	if err != nil {
		return 0, 0, false, unix.EFAULT
	}
	return int(p.file), p.off + int64(addr&(pageSize-1)), true, nil
}
