// Package memfile manages the sentry's memory file: one memfd that holds all
// guest anonymous memory, tmpfs data and cached pages of host files. The
// sentry maps the whole file once, so reading or writing a page is a plain
// memory copy; stub processes map the same pages into guest address spaces.
// The same allocator also runs over a host file (NewHost), so that one file
// system's data (the root overlay's upper layer) costs disk, not memory.
package memfile

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// PageSize is the host and guest page size.
const PageSize = 4096

// Files are the backing files guest memory is mapped from, in the order the
// platform was given them (platform.Mapping.File indexes it): Files[0] is
// the memory file, the others hold particular file systems' data.
type Files []*File

// chunkPages is the unit in which the file grows; the sentry mapping of the
// whole reservation exists from the start, so growth is only an ftruncate.
const chunkPages = 512 // 2 MiB

// File is the memory file. Pages are reference counted: a page shared
// copy-on-write by two address spaces has two references; it returns to the
// free list when the last one is dropped.
//
// A freed page keeps its contents (it is "dirty") and is cleared when it is
// allocated again: a memory clear costs far less than a system call per
// page. Memory goes back to the host in batches, once many freed pages have
// accumulated (see reclaimLocked).
type File struct {
	fd      int
	mapping []byte // the whole reservation, MAP_SHARED in the sentry

	mu         sync.Mutex
	refs       []uint32 // per page; 0 means free
	dirty      []bool   // per page: freed but not zeroed
	free       []uint32 // free page indices (LIFO, so recently freed pages are reused hot)
	dirtyFree  int      // free pages that are dirty
	size       int64    // current file size in bytes
	inUse      int64    // pages with refs > 0
	reclaiming bool     // a batch of dirty pages is being given back
	// holes is set for a host file (NewHost) only: per page, its disk
	// blocks were given back and must be reserved again before the page
	// is handed out. A page of a host file without blocks would raise
	// SIGBUS in the sentry when the disk is full instead of ENOSPC.
	holes []bool
}

// reclaimPages is how many dirty free pages (64 MiB) trigger giving their
// memory back to the host.
const reclaimPages = 16384

// New creates a memory file able to hold up to maxBytes.
func New(name string, maxBytes int64) (*File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	m, err := mapFile(fd, maxBytes)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &File{fd: fd, mapping: m}, nil
}

// NewHost makes a memory file over fd, a regular host file, able to hold
// up to maxBytes (0: the file's size). The file should be unnamed
// (O_TMPFILE), so that nothing is left behind whatever happens to the
// sentry. It is made maxBytes long and sparse: disk blocks are reserved
// (fallocate) in chunks as pages are first handed out, so a full disk is
// ENOSPC from Allocate, and freed pages give their blocks back in batches
// (hole punching), as the memfd's give their memory back. On success the
// File owns fd.
func NewHost(fd int, maxBytes int64) (*File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat backing file: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errors.New("backing file is not a regular file")
	}
	if maxBytes == 0 {
		maxBytes = st.Size
	}
	if maxBytes <= 0 {
		return nil, errors.New("backing file has no size")
	}
	m, err := mapFile(fd, maxBytes)
	if err != nil {
		return nil, err
	}
	return &File{fd: fd, mapping: m, holes: []bool{}}, nil
}

// mapFile sizes fd to maxBytes (rounded up to a page) and maps all of it.
func mapFile(fd int, maxBytes int64) ([]byte, error) {
	maxBytes = (maxBytes + PageSize - 1) &^ (PageSize - 1)
	if err := unix.Ftruncate(fd, maxBytes); err != nil {
		return nil, fmt.Errorf("ftruncate memory file: %w", err)
	}
	m, err := unix.Mmap(fd, 0, int(maxBytes), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("map memory file: %w", err)
	}
	return m, nil
}

// commitLocked reserves the disk blocks of pages [first, first+n) of a host
// file that were given back.
func (f *File) commitLocked(first, n int64) error {
	if err := unix.Fallocate(f.fd, 0, first*PageSize, n*PageSize); err != nil {
		if err == unix.EDQUOT {
			err = unix.ENOSPC
		}
		return err
	}
	for i := first; i < first+n; i++ {
		f.holes[i] = false
	}
	return nil
}

// FD returns the memfd.
func (f *File) FD() int { return f.fd }

// Size returns the capacity of the file in bytes.
func (f *File) Size() int64 { return int64(len(f.mapping)) }

// Allocate returns the offset of a fresh zeroed page with one reference.
func (f *File) Allocate() (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.free) == 0 {
		if err := f.growLocked(); err != nil {
			return 0, err
		}
	}
	idx := f.free[len(f.free)-1]
	if f.holes != nil && f.holes[idx] {
		if err := f.commitLocked(int64(idx), 1); err != nil {
			return 0, err
		}
	}
	f.free = f.free[:len(f.free)-1]
	f.refs[idx] = 1
	f.inUse++
	off := int64(idx) * PageSize
	if f.dirty[idx] {
		f.dirty[idx] = false
		f.dirtyFree--
		clear(f.mapping[off : off+PageSize])
	}
	return off, nil
}

// AllocateRun returns the offset of n contiguous fresh zeroed pages, each
// with one reference. Contiguous pages mapped at contiguous guest addresses
// cost one host mmap instead of n. It grows the file when the top of the
// free list is not such a run.
func (f *File) AllocateRun(n int) (int64, error) {
	if n <= 0 || n > chunkPages {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.runOnTopLocked(n) {
		if err := f.growLocked(); err != nil {
			return 0, err
		}
		if !f.runOnTopLocked(n) {
			return 0, unix.ENOMEM
		}
	}
	first := f.free[len(f.free)-1]
	if f.holes != nil && slices.Contains(f.holes[first:first+uint32(n)], true) {
		if err := f.commitLocked(int64(first), int64(n)); err != nil {
			return 0, err
		}
	}
	f.free = f.free[:len(f.free)-n]
	for idx := first; idx < first+uint32(n); idx++ {
		f.refs[idx] = 1
		if f.dirty[idx] {
			f.dirty[idx] = false
			f.dirtyFree--
			clear(f.mapping[int64(idx)*PageSize : int64(idx+1)*PageSize])
		}
	}
	f.inUse += int64(n)
	return int64(first) * PageSize, nil
}

// runOnTopLocked reports whether the last n free-list entries are the
// ascending run first, first+1, ... (popped in that order).
func (f *File) runOnTopLocked(n int) bool {
	if len(f.free) < n {
		return false
	}
	top := f.free[len(f.free)-1]
	for i := 1; i < n; i++ {
		if f.free[len(f.free)-1-i] != top+uint32(i) {
			return false
		}
	}
	return true
}

// growLocked adds a chunk of free pages (less at the end of a file whose
// size is not a multiple of chunks).
func (f *File) growLocked() error {
	start := int64(len(f.refs))
	n := min(chunkPages, int64(len(f.mapping))/PageSize-start)
	if n <= 0 {
		return unix.ENOMEM
	}
	if f.holes != nil {
		if err := unix.Fallocate(f.fd, 0, start*PageSize, n*PageSize); err != nil {
			if err == unix.EDQUOT {
				err = unix.ENOSPC
			}
			return err
		}
		f.holes = append(f.holes, make([]bool, n)...)
	}
	f.refs = append(f.refs, make([]uint32, n)...)
	f.dirty = append(f.dirty, make([]bool, n)...)
	for i := start + n - 1; i >= start; i-- {
		f.free = append(f.free, uint32(i))
	}
	f.size = (start + n) * PageSize
	return nil
}

// IncRef adds a reference to the page at off.
func (f *File) IncRef(off int64) {
	f.mu.Lock()
	f.refs[off/PageSize]++
	f.mu.Unlock()
}

// Refs returns the reference count of the page at off.
func (f *File) Refs(off int64) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refs[off/PageSize]
}

// DecRef drops a reference; the last one frees the page, which reads as
// zeroes when it is allocated again.
func (f *File) DecRef(off int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	idx := off / PageSize
	if f.refs[idx] == 0 {
		panic(fmt.Sprintf("memfile: DecRef of free page %#x", off))
	}
	f.refs[idx]--
	if f.refs[idx] != 0 {
		return
	}
	f.dirty[idx] = true
	f.dirtyFree++
	f.free = append(f.free, uint32(idx))
	f.inUse--
	if f.dirtyFree >= reclaimPages && !f.reclaiming {
		f.reclaimLocked()
	}
}

// reclaimLocked gives the memory of the dirty free pages back to the host.
// The pages leave the free list while their holes are punched (outside the
// lock), so no one can allocate a page that is being zeroed under them.
func (f *File) reclaimLocked() {
	var batch, keep []uint32
	for _, idx := range f.free {
		if f.dirty[idx] {
			batch = append(batch, idx)
		} else {
			keep = append(keep, idx)
		}
	}
	f.free = keep
	f.dirtyFree = 0
	f.reclaiming = true
	f.mu.Unlock()
	slices.Sort(batch)
	var punched [][2]uint32 // runs [first, end) that are holes now
	for i := 0; i < len(batch); {
		j := i + 1
		for j < len(batch) && batch[j] == batch[j-1]+1 {
			j++
		}
		start, n := int64(batch[i])*PageSize, int64(j-i)*PageSize
		if err := unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, start, n); err != nil {
			clear(f.mapping[start : start+n])
		} else {
			punched = append(punched, [2]uint32{batch[i], batch[j-1] + 1})
		}
		i = j
	}
	f.mu.Lock()
	f.reclaiming = false
	for _, idx := range batch {
		f.dirty[idx] = false
	}
	if f.holes != nil {
		for _, r := range punched {
			for idx := r[0]; idx < r[1]; idx++ {
				f.holes[idx] = true
			}
		}
	}
	f.free = append(f.free, batch...)
}

// Page returns the sentry's view of the page at off.
func (f *File) Page(off int64) []byte {
	return f.mapping[off : off+PageSize : off+PageSize]
}

// Bytes returns the sentry's view of [off, off+n), which must lie inside
// allocated pages.
func (f *File) Bytes(off, n int64) []byte {
	return f.mapping[off : off+n : off+n]
}

// InUse returns the number of allocated pages.
func (f *File) InUse() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inUse
}

// Close unmaps and closes the file.
func (f *File) Close() error {
	unix.Munmap(f.mapping)
	return unix.Close(f.fd)
}
