package vfs

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// FileImpl is the filesystem-specific part of an open file description.
// Implementations never block: an operation that would block returns
// unix.EAGAIN and the file notifies its readiness queue (see Waitable) when
// it can make progress. Embed FileImplBase for defaults. Optional
// interfaces: StreamFile, Appender, DirFile, Waitable, Ioctler, Allocator,
// Syncer, Mappable, StatusFlagsSetter, OpenWaiter.
type FileImpl interface {
	// Release is called when the last reference to the File is dropped.
	Release(ctx Context)
	// PRead reads at offset off. Return ESPIPE if the file is not seekable
	// (and implement StreamFile).
	PRead(ctx Context, dst []byte, off int64) (int, error)
	// PWrite writes at offset off.
	PWrite(ctx Context, src []byte, off int64) (int, error)
	// Seek computes a new offset for lseek(2) from the current one (cur).
	Seek(ctx Context, off int64, whence int, cur int64) (int64, error)
}

// StreamFile is implemented by files without offsets (pipes, sockets,
// devices): File.Read/Write call these instead of PRead/PWrite. A Write may
// be partial; a blocking caller waits for EventOut and writes the rest.
type StreamFile interface {
	Read(ctx Context, dst []byte) (int, error)
	Write(ctx Context, src []byte) (int, error)
}

// WholeSourceWriter is implemented by files (sockets) whose writes take
// the caller's data in whole, as Linux's sendmsg copies it into a buffer
// before sending any of it: a fault in the source fails that piece with
// EFAULT instead of writing the bytes before the fault.
type WholeSourceWriter interface {
	WholeSourceWrites()
}

// Unreader is implemented by stream files (sockets) that take back bytes a
// read took but could not copy to the caller (a fault in the destination):
// Linux leaves such data queued.
type Unreader interface {
	Unread(ctx Context, b []byte)
}

// Appender is implemented by files supporting atomic O_APPEND writes: it
// writes src at the end of file and returns the new end. Without it, the VFS
// seeks to the end and calls PWrite.
type Appender interface {
	Append(ctx Context, src []byte) (n int, end int64, err error)
}

// DirFile is implemented by open directories. IterDirents calls cb for each
// entry at or after offset off ("." and ".." included, with stable offsets)
// until cb returns false (that entry is not consumed) or the end is reached.
type DirFile interface {
	IterDirents(ctx Context, off int64, cb func(Dirent) bool) error
}

// Waitable is implemented by files with readiness (pipes, sockets, ...).
// Files that do not implement it are always readable and writable.
type Waitable interface {
	Readiness(mask waiter.EventMask) waiter.EventMask
	EventRegister(e *waiter.Entry)
	EventUnregister(e *waiter.Entry)
}

// Ioctler is implemented by files with ioctls; others return ENOTTY.
type Ioctler interface {
	Ioctl(ctx Context, cmd uint32, arg uintptr) (uintptr, error)
}

// Allocator is implemented by files supporting fallocate(2).
type Allocator interface {
	Allocate(ctx Context, mode uint32, off, length int64) error
}

// Syncer is implemented by files with something to flush on fsync(2).
type Syncer interface {
	Sync(ctx Context) error
}

// NowaitRefuser is implemented by files that cannot do I/O with RWF_NOWAIT
// (in Linux: lack FMODE_NOWAIT, like tmpfs and procfs files): preadv2 and
// pwritev2 with it fail with EOPNOTSUPP.
type NowaitRefuser interface {
	RefusesNowait()
}

// StatusFlagsSetter is implemented by files that need to see F_SETFL
// changes (O_NONBLOCK, O_ASYNC, ...).
type StatusFlagsSetter interface {
	SetStatusFlags(ctx Context, old, new uint32) error
}

// OpenWaiter is implemented by files whose open may block (a FIFO opened
// without O_NONBLOCK waits for its peer). See File.OpenReady.
type OpenWaiter interface {
	OpenReady() bool
}

// Mappable is optionally implemented by a FileImpl whose pages live in the
// memory file and may be mapped shared into guest address spaces (tmpfs
// regular files). For files that do not implement it, the memory manager maps
// by copying: it allocates a private page and fills it with File.PRead
// (MAP_SHARED writes of such files are not written back).
type Mappable interface {
	// MemoryFile returns the memory file the offsets refer to.
	MemoryFile() *memfile.File
	// MapPage returns the memory-file offset of the page holding file
	// offset pgoff*PageSize, allocating it (zeroed) if it is a hole. The
	// caller owns one reference on the page (memfile.DecRef when unmapped).
	// A page at or beyond EOF gives unix.EFAULT (SIGBUS for the guest).
	// write reports whether the mapping is writable (it marks the file
	// modified).
	MapPage(ctx Context, pgoff int64, write bool) (int64, error)
}

// FileImplBase provides defaults for FileImpl: EINVAL for reads and writes,
// seeking with SEEK_SET/SEEK_CUR only.
type FileImplBase struct{}

// Release implements FileImpl.
func (FileImplBase) Release(Context) {}

// PRead implements FileImpl.
func (FileImplBase) PRead(Context, []byte, int64) (int, error) { return 0, unix.EINVAL }

// PWrite implements FileImpl.
func (FileImplBase) PWrite(Context, []byte, int64) (int, error) { return 0, unix.EINVAL }

// Seek implements FileImpl.
func (FileImplBase) Seek(_ Context, off int64, whence int, cur int64) (int64, error) {
	return GenericSeek(off, whence, cur, -1)
}

// StreamFileBase provides the FileImpl defaults for non-seekable files.
type StreamFileBase struct{}

// Release implements FileImpl.
func (StreamFileBase) Release(Context) {}

// PRead implements FileImpl.
func (StreamFileBase) PRead(Context, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// PWrite implements FileImpl.
func (StreamFileBase) PWrite(Context, []byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements FileImpl.
func (StreamFileBase) Seek(Context, int64, int, int64) (int64, error) { return 0, unix.ESPIPE }

// GenericSeek implements SEEK_SET, SEEK_CUR and (if size >= 0) SEEK_END,
// SEEK_DATA and SEEK_HOLE for a file without holes.
func GenericSeek(off int64, whence int, cur, size int64) (int64, error) {
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = off
	case unix.SEEK_CUR:
		// An overflow wraps negative and is EINVAL below, as in Linux.
		n = cur + off
	case unix.SEEK_END:
		if size < 0 {
			return 0, unix.EINVAL
		}
		n = size + off
	case unix.SEEK_DATA:
		if size < 0 {
			return 0, unix.EINVAL
		}
		if off < 0 || off >= size {
			return 0, unix.ENXIO
		}
		n = off
	case unix.SEEK_HOLE:
		if size < 0 {
			return 0, unix.EINVAL
		}
		if off < 0 || off >= size {
			return 0, unix.ENXIO
		}
		n = size
	default:
		return 0, unix.EINVAL
	}
	if n < 0 {
		return 0, unix.EINVAL
	}
	return n, nil
}

// Status flags that F_SETFL may change.
const settableFlags = unix.O_APPEND | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME | unix.O_NONBLOCK

// File is an open file description. It is reference counted: the creator
// owns one reference; dup/fork take more with IncRef, close drops them with
// DecRef.
type File struct {
	refs atomic.Int64
	vfs  *VFS
	loc  Location
	impl FileImpl // nil for O_PATH

	isDir    bool
	readable bool
	writable bool
	// writer: the file counts as a writer of its inode (see writeAccess).
	writer bool

	flagsMu sync.Mutex
	flags   uint32

	offMu sync.Mutex
	off   int64
}

// NewFile makes an open file description at loc (taking a reference on loc)
// with the given implementation and open flags. Filesystems do not need it
// (OpenAt calls it); it is for files on anonymous inodes (pipes, sockets,
// eventfd...; see VFS.NewAnonLocation).
func (v *VFS) NewFile(loc Location, impl FileImpl, flags uint32) *File {
	f := &File{vfs: v, loc: loc, impl: impl}
	f.refs.Store(1)
	loc.IncRef()
	acc := flags & unix.O_ACCMODE
	if flags&unix.O_PATH == 0 {
		f.readable = acc == unix.O_RDONLY || acc == unix.O_RDWR
		f.writable = acc == unix.O_WRONLY || acc == unix.O_RDWR
	} else {
		f.impl = nil
	}
	f.flags = flags & (unix.O_ACCMODE | settableFlags | unix.O_PATH | linux.O_LARGEFILE | unix.O_DSYNC | unix.O_SYNC)
	f.isDir = loc.Dentry.IsDir()
	if f.impl != nil {
		loc.Dentry.opens.Add(1)
	}
	if f.writable && loc.Dentry.ftype == unix.S_IFREG {
		f.writer = true
		v.writers.add(loc.Dentry.inode, 1)
	}
	return f
}

// notify reports an inotify event on the open file's inode.
func (f *File) notify(mask uint32) {
	f.vfs.notifyDentry(f.loc.Dentry, mask)
}

// notifyIO reports IN_ACCESS or IN_MODIFY after a transfer of n bytes.
func (f *File) notifyIO(n int, mask uint32) {
	if n > 0 {
		f.notify(mask)
	}
}

// IncRef adds a reference.
func (f *File) IncRef() { f.refs.Add(1) }

// TryIncRef adds a reference unless the file is already released.
func (f *File) TryIncRef() bool {
	for {
		r := f.refs.Load()
		if r <= 0 {
			return false
		}
		if f.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// DecRef drops a reference; the last one releases the file.
func (f *File) DecRef(ctx Context) {
	switch r := f.refs.Add(-1); {
	case r == 0:
		f.releaseLocks()
		f.ReleasePOSIXLocks(f) // OFD locks
		if f.impl != nil {
			f.vfs.notifyClosed(ctx, f)
			f.impl.Release(ctx)
		}
		if f.writer {
			f.vfs.writers.add(f.loc.Dentry.inode, -1)
		}
		f.loc.DecRef()
	case r < 0:
		panic("vfs: File.DecRef of released file")
	}
}

// Impl returns the file's implementation (nil for O_PATH files), for
// file-type-specific operations (F_SETPIPE_SZ, socket calls...).
func (f *File) Impl() FileImpl { return f.impl }

// Location returns where the file was opened (no reference is taken).
func (f *File) Location() Location { return f.loc }

// VFS returns the file's VFS.
func (f *File) VFS() *VFS { return f.vfs }

// IsPath reports whether this is an O_PATH file.
func (f *File) IsPath() bool { return f.impl == nil }

// IsDir reports whether the file is a directory.
func (f *File) IsDir() bool { return f.isDir }

// Readable and Writable report the access mode.
func (f *File) Readable() bool { return f.readable }

// Writable reports whether the file was opened for writing.
func (f *File) Writable() bool { return f.writable }

// StatusFlags returns the access mode and status flags (F_GETFL).
func (f *File) StatusFlags() uint32 {
	f.flagsMu.Lock()
	defer f.flagsMu.Unlock()
	return f.flags
}

// SetStatusFlags implements F_SETFL: only O_APPEND, O_ASYNC, O_DIRECT,
// O_NOATIME and O_NONBLOCK change.
func (f *File) SetStatusFlags(ctx Context, flags uint32) error {
	if f.impl == nil {
		return unix.EBADF
	}
	f.flagsMu.Lock()
	defer f.flagsMu.Unlock()
	if flags&unix.O_NOATIME != 0 && f.flags&unix.O_NOATIME == 0 {
		st, err := f.loc.Dentry.inode.Stat(ctx)
		if err != nil {
			return err
		}
		if !isOwner(ctx.Credentials(), st.Uid) {
			return unix.EPERM
		}
	}
	nf := f.flags&^settableFlags | flags&settableFlags
	if !f.SupportsAsync() {
		// Linux sets O_ASYNC only through a file's fasync operation,
		// which regular files and directories lack.
		nf &^= unix.O_ASYNC
	}
	if s, ok := f.impl.(StatusFlagsSetter); ok {
		if err := s.SetStatusFlags(ctx, f.flags, nf); err != nil {
			return err
		}
	}
	f.flags = nf
	return nil
}

// SupportsAsync reports whether the file can be in O_ASYNC mode (in Linux:
// has a fasync operation). Regular files and directories cannot.
func (f *File) SupportsAsync() bool {
	ft := f.loc.Dentry.FileType()
	return ft != unix.S_IFREG && ft != unix.S_IFDIR
}

func (f *File) nonblocking() bool { return f.StatusFlags()&unix.O_NONBLOCK != 0 }

// Read reads at the file offset and advances it.
func (f *File) Read(ctx Context, dst []byte) (int, error) {
	if !f.readable {
		return 0, unix.EBADF
	}
	if f.isDir {
		return 0, unix.EISDIR
	}
	n, err := f.read(ctx, dst)
	f.notifyIO(n, unix.IN_ACCESS)
	return n, err
}

func (f *File) read(ctx Context, dst []byte) (int, error) {
	if s, ok := f.impl.(StreamFile); ok {
		return s.Read(ctx, dst)
	}
	f.offMu.Lock()
	defer f.offMu.Unlock()
	n, err := f.impl.PRead(ctx, dst, f.off)
	f.off += int64(n)
	return n, err
}

// PRead reads at offset off without using the file offset.
func (f *File) PRead(ctx Context, dst []byte, off int64) (int, error) {
	if !f.readable {
		return 0, unix.EBADF
	}
	if f.isDir {
		return 0, unix.EISDIR
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	// Stream files refuse positional I/O in their own PRead/PWrite
	// (StreamFileBase); a file with both (a host regular file using the host
	// offset for sequential I/O) supports it.
	n, err := f.impl.PRead(ctx, dst, off)
	f.notifyIO(n, unix.IN_ACCESS)
	return n, err
}

// Write writes at the file offset (at the end with O_APPEND) and advances
// it.
func (f *File) Write(ctx Context, src []byte) (int, error) {
	if !f.writable {
		return 0, unix.EBADF
	}
	n, err := f.write(ctx, src)
	f.notifyIO(n, unix.IN_MODIFY)
	return n, err
}

func (f *File) write(ctx Context, src []byte) (int, error) {
	if s, ok := f.impl.(StreamFile); ok {
		return s.Write(ctx, src)
	}
	f.offMu.Lock()
	defer f.offMu.Unlock()
	if f.StatusFlags()&unix.O_APPEND != 0 {
		if a, ok := f.impl.(Appender); ok {
			n, end, err := a.Append(ctx, src)
			f.off = end
			return n, err
		}
		end, err := f.impl.Seek(ctx, 0, unix.SEEK_END, f.off)
		if err != nil {
			return 0, err
		}
		f.off = end
	}
	n, err := f.impl.PWrite(ctx, src, f.off)
	f.off += int64(n)
	return n, err
}

// PWrite writes at offset off without using the file offset. (Like Linux,
// with O_APPEND the data is appended.)
func (f *File) PWrite(ctx Context, src []byte, off int64) (int, error) {
	if !f.writable {
		return 0, unix.EBADF
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	// Stream files refuse positional I/O in their own PRead/PWrite
	// (StreamFileBase); a file with both (a host regular file using the host
	// offset for sequential I/O) supports it.
	n, err := f.pwrite(ctx, src, off)
	f.notifyIO(n, unix.IN_MODIFY)
	return n, err
}

func (f *File) pwrite(ctx Context, src []byte, off int64) (int, error) {
	if f.StatusFlags()&unix.O_APPEND != 0 {
		if a, ok := f.impl.(Appender); ok {
			n, _, err := a.Append(ctx, src)
			return n, err
		}
	}
	return f.impl.PWrite(ctx, src, off)
}

// WriteNoAppend writes at off (< 0: at the file offset, which advances) as
// if the file were not in O_APPEND mode: pwritev2's RWF_NOAPPEND.
func (f *File) WriteNoAppend(ctx Context, src []byte, off int64) (int, error) {
	if !f.writable {
		return 0, unix.EBADF
	}
	n, err := f.writeNoAppend(ctx, src, off)
	f.notifyIO(n, unix.IN_MODIFY)
	return n, err
}

func (f *File) writeNoAppend(ctx Context, src []byte, off int64) (int, error) {
	if off >= 0 {
		return f.impl.PWrite(ctx, src, off)
	}
	if s, ok := f.impl.(StreamFile); ok {
		return s.Write(ctx, src)
	}
	f.offMu.Lock()
	defer f.offMu.Unlock()
	n, err := f.impl.PWrite(ctx, src, f.off)
	f.off += int64(n)
	return n, err
}

// Seek implements lseek(2) (SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA,
// SEEK_HOLE).
func (f *File) Seek(ctx Context, off int64, whence int) (int64, error) {
	if f.impl == nil {
		return 0, unix.EBADF
	}
	f.offMu.Lock()
	defer f.offMu.Unlock()
	n, err := f.impl.Seek(ctx, off, whence, f.off)
	if err != nil {
		return 0, err
	}
	f.off = n
	return n, nil
}

// Offset returns the current file offset.
func (f *File) Offset() int64 {
	f.offMu.Lock()
	defer f.offMu.Unlock()
	return f.off
}

// IterDirents calls cb for the directory entries from the file offset on,
// advancing the offset past each entry cb accepts (returns true), until cb
// returns false or the directory ends. ENOTDIR if this is not a directory,
// ENOENT if it has been removed (as Linux's iterate_dir does for a dead
// directory).
func (f *File) IterDirents(ctx Context, cb func(Dirent) bool) error {
	if f.impl == nil {
		return unix.EBADF
	}
	d, ok := f.impl.(DirFile)
	if !ok {
		return unix.ENOTDIR
	}
	if f.loc.Dentry != nil && f.loc.Dentry.IsDead() {
		return unix.ENOENT
	}
	f.offMu.Lock()
	defer f.offMu.Unlock()
	err := d.IterDirents(ctx, f.off, func(e Dirent) bool {
		if !cb(e) {
			return false
		}
		f.off = e.NextOff
		return true
	})
	if err == nil {
		f.notify(unix.IN_ACCESS)
	}
	return err
}

// Getdents64 fills buf with linux_dirent64 records (getdents64(2)) and
// returns the number of bytes used. EINVAL if buf cannot hold the next
// entry; 0 at the end of the directory.
func (f *File) Getdents64(ctx Context, buf []byte) (int, error) {
	n := 0
	err := f.IterDirents(ctx, func(d Dirent) bool {
		reclen := (19 + len(d.Name) + 1 + 7) &^ 7
		if n+reclen > len(buf) {
			return false
		}
		b := buf[n : n+reclen]
		binary.LittleEndian.PutUint64(b[0:], d.Ino)
		binary.LittleEndian.PutUint64(b[8:], uint64(d.NextOff))
		binary.LittleEndian.PutUint16(b[16:], uint16(reclen))
		b[18] = d.Type
		copy(b[19:], d.Name)
		clear(b[19+len(d.Name):])
		n += reclen
		return true
	})
	if err != nil && n == 0 {
		return 0, err
	}
	if n == 0 && err == nil {
		// Either the end or an entry that does not fit.
		full := false
		f.IterDirents(ctx, func(Dirent) bool { full = true; return false })
		if full {
			return 0, unix.EINVAL
		}
	}
	return n, nil
}

// Stat returns the attributes of the open file.
func (f *File) Stat(ctx Context) (Statx, error) {
	return f.vfs.statLoc(ctx, f.loc)
}

// SetStat changes attributes of the open file (fchmod, fchown, futimens,
// ftruncate through SetStat) with the same checks as the path version.
func (f *File) SetStat(ctx Context, opts *SetStatOptions) error {
	if f.impl == nil {
		return unix.EBADF
	}
	if opts.Mask&unix.STATX_SIZE != 0 {
		if !f.writable {
			return unix.EINVAL
		}
	}
	return f.vfs.setStatLoc(ctx, f.loc, opts, f.writable)
}

// Truncate implements ftruncate(2).
func (f *File) Truncate(ctx Context, size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	if f.impl == nil {
		return unix.EBADF
	}
	if !f.writable || f.isDir {
		return unix.EINVAL
	}
	return f.SetStat(ctx, &SetStatOptions{Mask: unix.STATX_SIZE, Size: uint64(size)})
}

// Allocate implements fallocate(2).
func (f *File) Allocate(ctx Context, mode uint32, off, length int64) error {
	if f.impl == nil {
		return unix.EBADF
	}
	if off < 0 || length <= 0 {
		return unix.EINVAL
	}
	if !f.writable {
		return unix.EBADF
	}
	// Linux checks the file type before the file system: pipes are
	// ESPIPE, directories EISDIR, anything else but a regular file or a
	// block device ENODEV.
	switch ft := f.loc.Dentry.FileType(); {
	case ft == unix.S_IFIFO:
		return unix.ESPIPE
	case ft == unix.S_IFDIR:
		return unix.EISDIR
	case ft != unix.S_IFREG && ft != unix.S_IFBLK:
		return unix.ENODEV
	}
	if f.loc.Mount.ReadOnly() {
		return unix.EROFS
	}
	a, ok := f.impl.(Allocator)
	if !ok {
		return unix.EOPNOTSUPP
	}
	if err := a.Allocate(ctx, mode, off, length); err != nil {
		return err
	}
	f.notify(unix.IN_MODIFY)
	return nil
}

// Sync implements fsync(2) and fdatasync(2).
func (f *File) Sync(ctx Context) error {
	if f.impl == nil {
		return unix.EBADF
	}
	if s, ok := f.impl.(Syncer); ok {
		return s.Sync(ctx)
	}
	// Linux has no fsync for pipes, sockets, devices or anonymous files:
	// EINVAL. Files and directories with nothing to flush succeed.
	if ft := f.loc.Dentry.FileType(); ft != unix.S_IFREG && ft != unix.S_IFDIR {
		return unix.EINVAL
	}
	return nil
}

// Ioctl implements ioctl(2); ENOTTY unless the file implements Ioctler.
func (f *File) Ioctl(ctx Context, cmd uint32, arg uintptr) (uintptr, error) {
	if f.impl == nil {
		return 0, unix.EBADF
	}
	if i, ok := f.impl.(Ioctler); ok {
		return i.Ioctl(ctx, cmd, arg)
	}
	return 0, unix.ENOTTY
}

// Readiness returns the events in mask that are ready now.
func (f *File) Readiness(mask waiter.EventMask) waiter.EventMask {
	if w, ok := f.impl.(Waitable); ok {
		return w.Readiness(mask)
	}
	if f.impl == nil {
		return 0
	}
	return mask & (waiter.ReadableEvents | waiter.WritableEvents)
}

// EventRegister registers e to be notified of readiness changes.
func (f *File) EventRegister(e *waiter.Entry) {
	if w, ok := f.impl.(Waitable); ok {
		w.EventRegister(e)
	}
}

// EventUnregister undoes EventRegister.
func (f *File) EventUnregister(e *waiter.Entry) {
	if w, ok := f.impl.(Waitable); ok {
		w.EventUnregister(e)
	}
}

// OpenReady reports whether a blocking open has completed. After OpenAt
// returns a File, a kernel honouring blocking opens (FIFOs without
// O_NONBLOCK) waits on the file (EventRegister, any event) until OpenReady
// is true, rechecking after each notification; if a signal interrupts the
// wait it drops the File (DecRef) and returns EINTR.
func (f *File) OpenReady() bool {
	if w, ok := f.impl.(OpenWaiter); ok {
		return w.OpenReady()
	}
	return true
}

// Mappable returns the file's Mappable, or nil if the memory manager must
// map it by copying (PRead into private pages).
func (f *File) Mappable() Mappable {
	if m, ok := f.impl.(Mappable); ok {
		return m
	}
	return nil
}

// GetXattr, SetXattr, ListXattr and RemoveXattr are the f*xattr calls.
func (f *File) GetXattr(ctx Context, name string) ([]byte, error) {
	return f.vfs.getXattrLoc(ctx, f.loc, name)
}

// SetXattr implements fsetxattr(2).
func (f *File) SetXattr(ctx Context, name string, value []byte, flags int) error {
	if f.impl == nil {
		return unix.EBADF
	}
	return f.vfs.setXattrLoc(ctx, f.loc, name, value, flags)
}

// ListXattr implements flistxattr(2).
func (f *File) ListXattr(ctx Context) ([]string, error) {
	if f.impl == nil {
		return nil, unix.EBADF
	}
	return f.vfs.listXattrLoc(ctx, f.loc)
}

// RemoveXattr implements fremovexattr(2).
func (f *File) RemoveXattr(ctx Context, name string) error {
	if f.impl == nil {
		return unix.EBADF
	}
	return f.vfs.removeXattrLoc(ctx, f.loc, name)
}

// StatFS implements fstatfs(2).
func (f *File) StatFS(ctx Context) (Statfs, error) {
	s, err := f.loc.Mount.fs.impl.StatFS(ctx)
	if _, anon := f.loc.Mount.fs.impl.(anonFS); anon && err == nil {
		s.Type = anonMagic(f.loc.Dentry.ftype)
	}
	return s, err
}
