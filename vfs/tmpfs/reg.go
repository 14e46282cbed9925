package tmpfs

import (
	"sync/atomic"

	"github.com/google/btree"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// maxFileSize is the largest tmpfs file (MAX_LFS_FILESIZE).
const maxFileSize = 1<<63 - 1

type page struct {
	idx int64 // page index in the file
	off int64 // offset in the memory file
}

func pageLess(a, b page) bool { return a.idx < b.idx }

// regInode is a regular file. Data pages live in the memory file; a missing
// page is a hole.
type regInode struct {
	inode
	size     int64               // in.mu
	pages    *btree.BTreeG[page] // in.mu
	opens    int                 // in.mu
	linkable bool                // O_TMPFILE without O_EXCL
	freed    bool
	// mapped is set once a page has been mapped: only then must pages
	// taken away be invalidated in address spaces.
	mapped atomic.Bool
	seals  Seals
}

// newReg makes a regular file inode.
func (fs *FS) newReg(opts vfs.CreateOptions, linkable bool) (*regInode, error) {
	r := &regInode{linkable: linkable}
	if err := fs.initInode(&r.inode, opts); err != nil {
		return nil, err
	}
	if !fs.sealable {
		r.seals.set.Store(unix.F_SEAL_SEAL)
	}
	return r, nil
}

// invalidate drops the mappings of file offsets [start, end) (end < 0: to
// the end) after their pages were removed. r.mu must not be held.
func (r *regInode) invalidate(start, end int64) {
	if r.mapped.Load() && (end < 0 || start < end) {
		r.fs.vfsfs.VFS().InvalidateMappings(r, start, end)
	}
}

func (r *regInode) tree() *btree.BTreeG[page] {
	if r.pages == nil {
		r.pages = btree.NewG(16, pageLess)
	}
	return r.pages
}

// Stat implements vfs.Inode.
func (r *regInode) Stat(vfs.Context) (vfs.Statx, error) {
	r.fs.mu.Lock()
	nlink := r.nlink
	r.fs.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.statLocked()
	st.Nlink = nlink
	st.Size = uint64(r.size)
	if r.pages != nil {
		st.Blocks = uint64(r.pages.Len()) * (pageSize / 512)
	}
	return st, nil
}

// SetStat implements vfs.Inode.
func (r *regInode) SetStat(_ vfs.Context, o *vfs.SetStatOptions) error {
	r.mu.Lock()
	shrunk := false
	if o.Mask&unix.STATX_SIZE != 0 {
		if o.Size > maxFileSize {
			r.mu.Unlock()
			return unix.EFBIG
		}
		if int64(o.Size) != r.size {
			shrunk = int64(o.Size) < r.size
			r.truncateLocked(int64(o.Size))
			if o.Mask&unix.STATX_MTIME == 0 {
				r.mtime = vfs.NowTimestamp()
			}
		}
	}
	r.setStatLocked(o)
	r.mu.Unlock()
	if shrunk {
		// Pages wholly past the new end are gone; the partial last page
		// was zeroed in place.
		r.invalidate(pageRoundUp(int64(o.Size)), -1)
	}
	return nil
}

// pageRoundUp rounds a file offset up to a page boundary.
func pageRoundUp(off int64) int64 { return (off + pageSize - 1) &^ (pageSize - 1) }

// truncateLocked sets the size, freeing pages past it and zeroing the tail
// of the last one.
func (r *regInode) truncateLocked(size int64) {
	if size < r.size && r.pages != nil {
		first := (size + pageSize - 1) / pageSize
		var drop []page
		r.pages.AscendGreaterOrEqual(page{idx: first}, func(p page) bool {
			drop = append(drop, p)
			return true
		})
		for _, p := range drop {
			r.pages.Delete(p)
			r.fs.freePage(p.off)
		}
		if size%pageSize != 0 {
			if p, ok := r.pages.Get(page{idx: size / pageSize}); ok {
				clear(r.fs.mf.Page(p.off)[size%pageSize:])
			}
		}
	}
	r.size = size
}

// freeAllLocked drops every page.
func (r *regInode) freeAllLocked() {
	if r.pages != nil {
		r.pages.Ascend(func(p page) bool {
			r.fs.freePage(p.off)
			return true
		})
		r.pages = nil
	}
}

// maybeFree releases the data of an unlinked, closed file. fs.mu is held.
func (r *regInode) maybeFree() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nlink == 0 && r.opens == 0 && !r.freed {
		r.freed = true
		r.freeAllLocked()
		r.fs.inodes.Add(-1)
	}
}

func (r *regInode) dropped() { r.maybeFree() }

// Open implements vfs.Inode.
func (r *regInode) Open(vfs.Context, uint32) (vfs.FileImpl, error) {
	r.mu.Lock()
	r.opens++
	r.mu.Unlock()
	return &regFile{r: r}, nil
}

// getPageLocked returns the memory-file offset of page idx, allocating it
// if alloc.
func (r *regInode) getPageLocked(idx int64, alloc bool) (int64, bool, error) {
	if p, ok := r.tree().Get(page{idx: idx}); ok {
		return p.off, true, nil
	}
	if !alloc {
		return 0, false, nil
	}
	off, err := r.fs.allocPage()
	if err != nil {
		return 0, false, err
	}
	r.pages.ReplaceOrInsert(page{idx, off})
	return off, true, nil
}

func (r *regInode) readLocked(dst []byte, off int64) int {
	if off >= r.size {
		return 0
	}
	n := int(min(int64(len(dst)), r.size-off))
	done := 0
	for done < n {
		pos := off + int64(done)
		idx, po := pos/pageSize, pos%pageSize
		chunk := min(n-done, int(pageSize-po))
		if p, ok, _ := r.getPageLocked(idx, false); ok {
			copy(dst[done:done+chunk], r.fs.mf.Page(p)[po:])
		} else {
			clear(dst[done : done+chunk])
		}
		done += chunk
	}
	// relatime
	if r.atime.Sec < r.mtime.Sec || (r.atime.Sec == r.mtime.Sec && r.atime.Nsec <= r.mtime.Nsec) || r.atime.Sec < r.ctime.Sec {
		r.atime = vfs.NowTimestamp()
	}
	return n
}

func (r *regInode) writeLocked(src []byte, off int64) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	if off > maxFileSize-int64(len(src)) {
		return 0, unix.EFBIG
	}
	done := 0
	var err error
	for done < len(src) {
		pos := off + int64(done)
		idx, po := pos/pageSize, pos%pageSize
		chunk := min(len(src)-done, int(pageSize-po))
		var p int64
		p, _, err = r.getPageLocked(idx, true)
		if err != nil {
			break
		}
		copy(r.fs.mf.Page(p)[po:], src[done:done+chunk])
		done += chunk
	}
	if done > 0 {
		if end := off + int64(done); end > r.size {
			r.size = end
		}
		now := vfs.NowTimestamp()
		r.mtime, r.ctime = now, now
		// A write by anyone clears set-user-ID (Linux: unless CAP_FSETID;
		// the VFS does not pass the writer here, so only suid is cleared
		// when group execute is not involved).
		return done, nil
	}
	return 0, err
}

// regFile is an open regular file.
type regFile struct {
	r *regInode
}

// Release implements vfs.FileImpl.
func (f *regFile) Release(vfs.Context) {
	r := f.r
	r.fs.mu.Lock()
	defer r.fs.mu.Unlock()
	r.mu.Lock()
	r.opens--
	r.mu.Unlock()
	r.maybeFree()
}

// PRead implements vfs.FileImpl.
func (f *regFile) PRead(_ vfs.Context, dst []byte, off int64) (int, error) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	return f.r.readLocked(dst, off), nil
}

// PWrite implements vfs.FileImpl.
func (f *regFile) PWrite(_ vfs.Context, src []byte, off int64) (int, error) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	return f.r.writeLocked(src, off)
}

// Append implements vfs.Appender.
func (f *regFile) Append(_ vfs.Context, src []byte) (int, int64, error) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	n, err := f.r.writeLocked(src, f.r.size)
	return n, f.r.size, err
}

// Seek implements vfs.FileImpl, including SEEK_DATA and SEEK_HOLE.
func (f *regFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	r := f.r
	r.mu.Lock()
	defer r.mu.Unlock()
	switch whence {
	case unix.SEEK_DATA:
		if off < 0 || off >= r.size {
			return 0, unix.ENXIO
		}
		res := int64(-1)
		r.tree().AscendGreaterOrEqual(page{idx: off / pageSize}, func(p page) bool {
			res = max(off, p.idx*pageSize)
			return false
		})
		if res < 0 || res >= r.size {
			return 0, unix.ENXIO
		}
		return res, nil
	case unix.SEEK_HOLE:
		if off < 0 || off >= r.size {
			return 0, unix.ENXIO
		}
		next := off / pageSize
		r.tree().AscendGreaterOrEqual(page{idx: next}, func(p page) bool {
			if p.idx != next {
				return false
			}
			next++
			return true
		})
		return min(max(off, next*pageSize), r.size), nil
	}
	return vfs.GenericSeek(off, whence, cur, r.size)
}

// Allocate implements vfs.Allocator: mode 0, FALLOC_FL_KEEP_SIZE and
// FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE.
func (f *regFile) Allocate(_ vfs.Context, mode uint32, off, length int64) error {
	r := f.r
	r.mu.Lock()
	punched, err := r.allocateLocked(mode, off, length)
	r.mu.Unlock()
	if err == nil && punched {
		// Whole pages were freed; partial ones were zeroed in place.
		r.invalidate(pageRoundUp(off), (off+length)&^(pageSize-1))
	}
	return err
}

// allocateLocked implements Allocate; punched reports a hole punch.
func (r *regInode) allocateLocked(mode uint32, off, length int64) (punched bool, err error) {
	if off > maxFileSize-length {
		return false, unix.EFBIG
	}
	end := off + length
	switch mode {
	case 0, unix.FALLOC_FL_KEEP_SIZE:
		// Like shmem_fallocate, refuse a range larger than the file system
		// up front: a guest's fallocate(fd, 0, 0, 1<<46) allocated (and
		// zeroed) page after page up to the size limit under r.mu, unkillable,
		// before failing.
		if off >= 0 && length > 0 && (end-1)/pageSize-off/pageSize+1 > r.fs.maxPages {
			return false, unix.ENOSPC
		}
		var added []int64
		for idx := off / pageSize; idx*pageSize < end; idx++ {
			_, had, _ := r.getPageLocked(idx, false)
			if had {
				continue
			}
			p, _, err := r.getPageLocked(idx, true)
			if err != nil {
				// Undo, like Linux's shmem_fallocate.
				for _, i := range added {
					pg, _ := r.pages.Delete(page{idx: i})
					r.fs.freePage(pg.off)
				}
				return false, err
			}
			_ = p
			added = append(added, idx)
		}
		if mode == 0 && end > r.size {
			r.size = end
		}
		// Like shmem_fallocate's file_modified: both times change.
		now := vfs.NowTimestamp()
		r.mtime, r.ctime = now, now
		return false, nil
	case unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_KEEP_SIZE:
		var hit []page
		r.tree().AscendRange(page{idx: off / pageSize}, page{idx: (end-1)/pageSize + 1}, func(p page) bool {
			hit = append(hit, p)
			return true
		})
		for _, p := range hit {
			ps, pe := max(off, p.idx*pageSize), min(end, (p.idx+1)*pageSize)
			if pe-ps == pageSize {
				r.pages.Delete(p)
				r.fs.freePage(p.off)
			} else {
				clear(r.fs.mf.Page(p.off)[ps-p.idx*pageSize : pe-p.idx*pageSize])
			}
		}
		now := vfs.NowTimestamp()
		r.mtime, r.ctime = now, now
		return true, nil
	}
	return false, unix.EOPNOTSUPP
}

// RefusesNowait implements vfs.NowaitRefuser: like shmem, no RWF_NOWAIT.
func (f *regFile) RefusesNowait() {}

// MappingKey implements vfs.MappingKeyer: the inode, which invalidates
// with itself as the key.
func (f *regFile) MappingKey() any { return f.r }

// MemoryFile implements vfs.Mappable.
func (f *regFile) MemoryFile() *memfile.File { return f.r.fs.mf }

// MapPage implements vfs.Mappable.
func (f *regFile) MapPage(_ vfs.Context, pgoff int64, write bool) (int64, error) {
	r := f.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if pgoff < 0 || pgoff*pageSize >= r.size {
		return 0, unix.EFAULT
	}
	p, _, err := r.getPageLocked(pgoff, true)
	if err != nil {
		return 0, err
	}
	r.mapped.Store(true)
	r.fs.mf.IncRef(p)
	if write {
		now := vfs.NowTimestamp()
		r.mtime, r.ctime = now, now
	}
	return p, nil
}
