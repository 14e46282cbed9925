package fs

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// iovMax is IOV_MAX (UIO_MAXIOV).
const iovMax = 1024

// taskSize is the end of the x86-64 user address space (TASK_SIZE_MAX):
// Linux's access_ok refuses ranges beyond it with EFAULT up front.
const taskSize = 0x7ffffffff000

// iovec is one guest buffer segment.
type iovec struct {
	base, len uint64
}

// ioSeq is the ordered list of guest buffers of one I/O call, seen as one
// contiguous byte stream.
type ioSeq []iovec

// parseIovecs decodes the struct iovec array b (16 bytes each) like Linux's
// import_iovec: a negative length is EINVAL, a range outside the user
// address space EFAULT, and the total is capped at MAX_RW_COUNT by
// shortening the segment that crosses it.
func parseIovecs(b []byte) (ioSeq, int64, error) {
	n := len(b) / 16
	seq := make(ioSeq, 0, n)
	var total int64
	for i := 0; i < n; i++ {
		base := binary.LittleEndian.Uint64(b[16*i:])
		l := binary.LittleEndian.Uint64(b[16*i+8:])
		if int64(l) < 0 {
			return nil, 0, unix.EINVAL
		}
		if l > 0 && (base+l < base || base+l > taskSize) {
			return nil, 0, unix.EFAULT
		}
		if int64(l) > maxRWCount-total {
			l = uint64(maxRWCount - total)
		}
		total += int64(l)
		seq = append(seq, iovec{base, l})
	}
	return seq, total, nil
}

// singleSeq describes the one buffer of read/write, capped at MAX_RW_COUNT.
// Like Linux's vfs_read/vfs_write, the whole uncapped range must be user
// memory (so a count of 2^63 or more is EFAULT, not EINVAL).
func singleSeq(addr, count uint64) (ioSeq, int64, error) {
	if count > 0 && (addr+count < addr || addr+count > taskSize) {
		return nil, 0, unix.EFAULT
	}
	count = min(count, maxRWCount)
	return ioSeq{{addr, count}}, int64(count), nil
}

// copyInIovecs reads and parses the iovec array of a vector call; iovcnt
// above IOV_MAX (or negative) is EINVAL.
func copyInIovecs(t *kernel.Task, addr uint64, iovcnt int32) (ioSeq, int64, error) {
	if iovcnt < 0 || iovcnt > iovMax {
		return nil, 0, unix.EINVAL
	}
	b := make([]byte, 16*int(iovcnt))
	if err := copyIn(t, addr, b); err != nil {
		return nil, 0, err
	}
	return parseIovecs(b)
}

// copyOut writes data at logical position pos of the sequence and returns
// how much was written before a fault.
func (s ioSeq) copyOut(t *kernel.Task, pos int64, data []byte) (int, error) {
	return s.walk(pos, len(data), func(addr uint64, from, n int) (int, error) {
		return t.CopyOut(addr, data[from:from+n])
	})
}

// copyIn fills data from logical position pos of the sequence and returns
// how much was read before a fault.
func (s ioSeq) copyIn(t *kernel.Task, pos int64, data []byte) (int, error) {
	return s.walk(pos, len(data), func(addr uint64, from, n int) (int, error) {
		return t.CopyIn(addr, data[from:from+n])
	})
}

// walk calls fn for each guest range covering [pos, pos+length) of the
// sequence, stopping at the first short copy (EFAULT).
func (s ioSeq) walk(pos int64, length int, fn func(addr uint64, from, n int) (int, error)) (int, error) {
	done := 0
	for _, v := range s {
		if done == length {
			break
		}
		if pos >= int64(v.len) {
			pos -= int64(v.len)
			continue
		}
		n := int(min(int64(length-done), int64(v.len)-pos))
		m, err := fn(v.base+uint64(pos), done, n)
		done += m
		if err != nil || m != n {
			return done, unix.EFAULT
		}
		pos = 0
	}
	return done, nil
}

// bufPool recycles the sentry-side I/O buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }

// readOnce reads into buf at off, or at the file offset when off < 0.
func readOnce(t *kernel.Task, f *vfs.File, buf []byte, off int64) (int, error) {
	if off < 0 {
		return f.Read(ctx(t), buf)
	}
	return f.PRead(ctx(t), buf, off)
}

// readBlocking is readOnce that waits for data unless nowait or the file
// is non-blocking.
func readBlocking(t *kernel.Task, f *vfs.File, buf []byte, off int64, nowait bool) (int, error) {
	op := func() (int, error) { return readOnce(t, f, buf, off) }
	if nowait {
		return op()
	}
	return t.DoBlocking(f, waiter.ReadableEvents, op)
}

// doRead reads up to total bytes into dst, from off (< 0: the file offset).
// It goes through the sentry in chunks of at most chunkSize; only the first
// chunk may block, so a stream returns what is available once some data has
// arrived, as Linux does. Progress wins over a later error.
func doRead(t *kernel.Task, f *vfs.File, dst ioSeq, total, off int64, nowait bool) (int64, error) {
	if err := verifyArea(f, off, total); err != nil {
		return 0, err
	}
	if total == 0 {
		// Still let the file report EBADF/EISDIR/EINVAL.
		n, err := readOnce(t, f, nil, off)
		return int64(n), err
	}
	bp := getBuf()
	defer putBuf(bp)
	var done int64
	for done < total {
		b := (*bp)[:min(total-done, chunkSize)]
		o := off
		if off >= 0 {
			o = off + done
		}
		got, err := readBlocking(t, f, b, o, nowait || done > 0)
		if got > 0 {
			c, cerr := dst.copyOut(t, done, b[:got])
			if cerr != nil && off < 0 {
				if _, whole := f.Impl().(vfs.Unreader); whole {
					c = 0 // a socket receive copies the piece whole or fails
				}
				unread(t, f, b[c:got])
			}
			done += int64(c)
			if cerr != nil {
				return partial(done, cerr)
			}
		}
		if err != nil {
			return partial(done, err)
		}
		if got < len(b) {
			break
		}
	}
	return done, nil
}

// verifyArea is Linux's rw_verify_area: an I/O whose end, from off (< 0:
// the file offset of a seekable file), would pass the largest loff_t is
// EINVAL, before any file-size limit is looked at.
func verifyArea(f *vfs.File, off, total int64) error {
	if off < 0 {
		if _, stream := f.Impl().(vfs.StreamFile); stream {
			return nil
		}
		off = f.Offset()
	}
	if off+total < 0 {
		return unix.EINVAL
	}
	return nil
}

// unread gives back the bytes b that a read took but could not copy to
// the guest: in Linux a read faulting on its buffer consumes only what it
// copied. A seekable file's offset moves back; a vfs.Unreader takes them.
func unread(t *kernel.Task, f *vfs.File, b []byte) {
	if len(b) == 0 {
		return
	}
	if u, ok := f.Impl().(vfs.Unreader); ok {
		u.Unread(ctx(t), b)
		return
	}
	if _, stream := f.Impl().(vfs.StreamFile); stream {
		return
	}
	f.Seek(ctx(t), -int64(len(b)), unix.SEEK_CUR)
}

// partial returns done if anything was transferred, else err.
func partial(done int64, err error) (int64, error) {
	if done > 0 {
		return done, nil
	}
	return 0, err
}

// writeOnce writes buf at off, or at the file offset when off < 0.
func writeOnce(t *kernel.Task, f *vfs.File, buf []byte, off int64, noAppend bool) (int, error) {
	if noAppend {
		return f.WriteNoAppend(ctx(t), buf, off)
	}
	if off < 0 {
		return f.Write(ctx(t), buf)
	}
	return f.PWrite(ctx(t), buf, off)
}

// writeAll writes all of buf (a blocking stream is waited on until it has
// taken everything; a non-blocking one may take less). EPIPE raises SIGPIPE
// on the writer, as pipes and sockets do.
func writeAll(t *kernel.Task, f *vfs.File, buf []byte, off int64, o rwOpts) (int, error) {
	done := 0
	for {
		at := off
		if off >= 0 {
			at = off + int64(done)
		}
		rest := buf[done:]
		op := func() (int, error) { return writeOnce(t, f, rest, at, o.noAppend) }
		var n int
		var err error
		if o.nowait {
			n, err = op()
		} else {
			n, err = t.DoBlocking(f, waiter.WritableEvents, op)
		}
		done += n
		if err == unix.EPIPE {
			sendSignal(t, unix.SIGPIPE)
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if done >= len(buf) || n == 0 {
			return done, nil
		}
	}
}

// isRegular reports whether f is a regular file.
func isRegular(f *vfs.File) bool {
	return f.Location().Dentry.FileType() == unix.S_IFREG
}

// writePos returns where a write at off (< 0: the file offset) lands in a
// regular file, for RLIMIT_FSIZE and seals.
func writePos(t *kernel.Task, f *vfs.File, off int64, o rwOpts) (int64, error) {
	if o.appendMode || (!o.noAppend && f.StatusFlags()&unix.O_APPEND != 0) {
		st, err := f.Stat(ctx(t))
		if err != nil {
			return 0, err
		}
		return int64(st.Size), nil
	}
	if off >= 0 {
		return off, nil
	}
	return f.Offset(), nil
}

// limitWrite applies RLIMIT_FSIZE and memfd seals to a write of total
// bytes, returning how many may be written. Like Linux, a write starting at
// or past the limit raises SIGXFSZ and fails with EFBIG; one crossing it is
// shortened.
func limitWrite(t *kernel.Task, f *vfs.File, off, total int64, o rwOpts) (int64, error) {
	if !isRegular(f) || !f.Writable() {
		return total, nil
	}
	lim := rlimitFSize(t)
	sealed := sealsOf(f) & writeSeals
	if lim < 0 && sealed == 0 {
		return total, nil
	}
	pos, err := writePos(t, f, off, o)
	if err != nil {
		return 0, err
	}
	if err := checkSealsWrite(t, f, sealed, pos, total); err != nil {
		return 0, err
	}
	if lim >= 0 && total > 0 {
		if pos >= lim {
			return 0, errFBig(t)
		}
		total = min(total, lim-pos)
	}
	return total, nil
}

// rwOpts are the per-call options of the write path.
type rwOpts struct {
	nowait     bool // RWF_NOWAIT or SPLICE_F_NONBLOCK
	appendMode bool // RWF_APPEND
	noAppend   bool // RWF_NOAPPEND on an O_APPEND file
	sync       bool // RWF_DSYNC / RWF_SYNC
}

// doWrite writes total bytes from src at off (< 0: the file offset).
func doWrite(t *kernel.Task, f *vfs.File, src ioSeq, total, off int64, o rwOpts) (int64, error) {
	if err := verifyArea(f, off, total); err != nil {
		return 0, err
	}
	total, err := limitWrite(t, f, off, total, o)
	if err != nil {
		return 0, err
	}
	if total == 0 {
		n, err := writeOnce(t, f, nil, off, o.noAppend)
		return int64(n), err
	}
	if err := f.RemovePrivs(ctx(t)); err != nil {
		return 0, err
	}
	if o.appendMode && off >= 0 && !f.IsDir() {
		// RWF_APPEND with an explicit offset appends and leaves the file
		// offset alone: write at the current end.
		if off, err = writePos(t, f, off, rwOpts{appendMode: true}); err != nil {
			return 0, err
		}
	} else if o.appendMode && isRegular(f) && f.StatusFlags()&unix.O_APPEND == 0 {
		// RWF_APPEND at the file offset: move it to the end first.
		if _, err := f.Seek(ctx(t), 0, unix.SEEK_END); err != nil {
			return 0, err
		}
	}
	bp := getBuf()
	defer putBuf(bp)
	var done int64
	for done < total {
		b := (*bp)[:min(total-done, chunkSize)]
		c, cerr := src.copyIn(t, done, b)
		if c == 0 {
			return partial(done, cerr)
		}
		if _, whole := f.Impl().(vfs.WholeSourceWriter); whole && cerr != nil {
			return partial(done, cerr)
		}
		o2 := off
		if off >= 0 {
			o2 = off + done
		}
		n, err := writeAll(t, f, b[:c], o2, o)
		done += int64(n)
		if err != nil {
			return partial(done, err)
		}
		if n < c || cerr != nil {
			break
		}
	}
	if o.sync && done > 0 && isRegular(f) {
		if err := f.Sync(ctx(t)); err != nil {
			return 0, err
		}
	}
	return done, nil
}

// rwFile returns the file of a read/write call.
func rwFile(t *kernel.Task, fd int32) (*vfs.File, error) { return getIOFile(t, fd) }

// Read implements read(2).
func Read(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return readCommon(t, argFD(a[0]), a[1], a[2], -1)
}

// Pread64 implements pread64(2).
func Pread64(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	off := argOff(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	return readCommon(t, argFD(a[0]), a[1], a[2], off)
}

func readCommon(t *kernel.Task, fd int32, addr, count uint64, off int64) (uint64, error) {
	f, err := rwFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if !f.Readable() {
		return 0, unix.EBADF
	}
	seq, total, err := singleSeq(addr, count)
	if err != nil {
		return 0, err
	}
	n, err := doRead(t, f, seq, total, off, false)
	return uint64(n), err
}

// Write implements write(2).
func Write(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return writeCommon(t, argFD(a[0]), a[1], a[2], -1)
}

// Pwrite64 implements pwrite64(2).
func Pwrite64(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	off := argOff(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	return writeCommon(t, argFD(a[0]), a[1], a[2], off)
}

func writeCommon(t *kernel.Task, fd int32, addr, count uint64, off int64) (uint64, error) {
	f, err := rwFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if !f.Writable() {
		return 0, unix.EBADF
	}
	seq, total, err := singleSeq(addr, count)
	if err != nil {
		return 0, err
	}
	n, err := doWrite(t, f, seq, total, off, rwOpts{})
	return uint64(n), err
}

// RWF_* flags of preadv2/pwritev2.
const (
	rwfHipri    = 0x1
	rwfDsync    = 0x2
	rwfSync     = 0x4
	rwfNowait   = 0x8
	rwfAppend   = 0x10
	rwfNoAppend = 0x20
	// RWF_ATOMIC (0x40) and RWF_DONTCACHE (0x80) need support the VFS
	// does not have: EOPNOTSUPP, as Linux answers for files that lack it.
	rwfSupported = rwfHipri | rwfDsync | rwfSync | rwfNowait | rwfAppend | rwfNoAppend
)

// rwfOpts validates RWF_* flags, like Linux's kiocb_set_rw_flags, for an
// I/O on a file in O_APPEND mode or not.
func rwfOpts(flags uint32, fileAppend bool) (rwOpts, error) {
	if flags&^rwfSupported != 0 {
		return rwOpts{}, unix.EOPNOTSUPP
	}
	if flags&rwfAppend != 0 && flags&rwfNoAppend != 0 {
		return rwOpts{}, unix.EINVAL
	}
	return rwOpts{
		nowait:     flags&rwfNowait != 0,
		appendMode: flags&rwfAppend != 0,
		noAppend:   flags&rwfNoAppend != 0 && fileAppend,
		sync:       flags&(rwfDsync|rwfSync) != 0,
	}, nil
}

// vecCall is the common part of the vector calls.
func vecCall(t *kernel.Task, a *kernel.SyscallArgs, off int64, flags uint32, write bool) (uint64, error) {
	f, err := rwFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if (write && !f.Writable()) || (!write && !f.Readable()) {
		return 0, unix.EBADF
	}
	seq, total, err := copyInIovecs(t, a[1], argInt(a[2]))
	if err != nil {
		return 0, err
	}
	// Linux transfers nothing and checks no flags when the vectors are
	// empty, and looks at the flags only after the range checks.
	if total == 0 {
		return 0, nil
	}
	if err := verifyArea(f, off, total); err != nil {
		return 0, err
	}
	o, err := rwfOpts(flags, f.StatusFlags()&unix.O_APPEND != 0)
	if err != nil {
		return 0, err
	}
	if _, refuses := f.Impl().(vfs.NowaitRefuser); refuses && o.nowait {
		return 0, unix.EOPNOTSUPP
	}
	var n int64
	if write {
		n, err = doWrite(t, f, seq, total, off, o)
	} else {
		n, err = doRead(t, f, seq, total, off, o.nowait)
	}
	return uint64(n), err
}

// Readv implements readv(2).
func Readv(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return vecCall(t, a, -1, 0, false)
}

// Writev implements writev(2).
func Writev(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return vecCall(t, a, -1, 0, true)
}

// vecOffset decodes the offset of preadv/pwritev. On x86-64 the (pos_l,
// pos_h) pair is just pos_l: Linux's pos_from_hilo shifts pos_h out.
func vecOffset(a *kernel.SyscallArgs) int64 { return argOff(a[3]) }

// Preadv implements preadv(2).
func Preadv(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	off := vecOffset(a)
	if off < 0 {
		return 0, unix.EINVAL
	}
	return vecCall(t, a, off, 0, false)
}

// Pwritev implements pwritev(2).
func Pwritev(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	off := vecOffset(a)
	if off < 0 {
		return 0, unix.EINVAL
	}
	return vecCall(t, a, off, 0, true)
}

// v2Offset decodes the offset of preadv2/pwritev2: -1 means the file
// offset, any other negative value is EINVAL.
func v2Offset(a *kernel.SyscallArgs) (int64, error) {
	off := vecOffset(a)
	if off < -1 {
		return 0, unix.EINVAL
	}
	return off, nil
}

// Preadv2 implements preadv2(2).
func Preadv2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	off, err := v2Offset(a)
	if err != nil {
		return 0, err
	}
	return vecCall(t, a, off, argFlags(a[5]), false)
}

// Pwritev2 implements pwritev2(2).
func Pwritev2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	off, err := v2Offset(a)
	if err != nil {
		return 0, err
	}
	return vecCall(t, a, off, argFlags(a[5]), true)
}

// Lseek implements lseek(2).
func Lseek(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	whence := argUint(a[2])
	if whence > unix.SEEK_HOLE {
		return 0, unix.EINVAL
	}
	n, err := f.Seek(ctx(t), argOff(a[1]), int(whence))
	return uint64(n), err
}
