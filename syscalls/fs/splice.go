package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// The in-kernel copies (sendfile, splice, copy_file_range) move data
// through a sentry buffer: read a chunk, write it, repeat. When the source
// is read at its file offset and is seekable, it is read with PRead and the
// offset advanced by what was actually written, so a short write consumes
// nothing extra. A stream source (a pipe) cannot be peeked, so a short write
// to a non-blocking destination loses the rest of that chunk; the chunk is
// bounded by the pipe's capacity to keep that rare.

// copyEnd is one side of a copy: a file and an offset (< 0: the file
// offset).
type copyEnd struct {
	f   *vfs.File
	off int64
}

func isStream(f *vfs.File) bool {
	_, ok := f.Impl().(vfs.StreamFile)
	return ok
}

func pipeOf(f *vfs.File) *pipe.Endpoint {
	e, _ := f.Impl().(*pipe.Endpoint)
	return e
}

// copyData copies up to n bytes from in to out and returns how many were
// written. nonblock makes both sides non-blocking (SPLICE_F_NONBLOCK);
// otherwise only the first read may wait for data.
func copyData(t *kernel.Task, in, out copyEnd, n int64, nonblock bool) (int64, error) {
	n, err := limitWrite(t, out.f, out.off, n, rwOpts{})
	if err != nil || n == 0 {
		return 0, err
	}
	if p := pipeOf(in.f); p != nil {
		n = min(n, p.PipeSize())
	}
	bp := getBuf()
	defer putBuf(bp)
	seekIn := in.off < 0 && !isStream(in.f)
	var done int64
	for done < n {
		b := (*bp)[:min(n-done, chunkSize)]
		readAt := in.off
		switch {
		case seekIn:
			readAt = in.f.Offset()
		case in.off >= 0:
			readAt = in.off + done
		}
		got, err := readBlocking(t, in.f, b, readAt, nonblock || done > 0)
		if got == 0 {
			return partial(done, err)
		}
		outAt := out.off
		if out.off >= 0 {
			outAt = out.off + done
		}
		w, werr := writeAll(t, out.f, b[:got], outAt, rwOpts{nowait: nonblock})
		if seekIn && w > 0 {
			if _, err := in.f.Seek(ctx(t), int64(w), unix.SEEK_CUR); err != nil {
				return partial(done, err)
			}
		}
		done += int64(w)
		if werr != nil {
			return partial(done, werr)
		}
		if w < got || got < len(b) {
			break
		}
	}
	return done, nil
}

// rwPair gets the source (readable) and destination (writable) files.
func rwPair(t *kernel.Task, infd, outfd int32) (*vfs.File, *vfs.File, error) {
	in, err := getIOFile(t, infd)
	if err != nil {
		return nil, nil, err
	}
	out, err := getIOFile(t, outfd)
	if err != nil {
		in.DecRef(ctx(t))
		return nil, nil, err
	}
	if !in.Readable() || !out.Writable() {
		in.DecRef(ctx(t))
		out.DecRef(ctx(t))
		return nil, nil, unix.EBADF
	}
	return in, out, nil
}

// copyInOffset reads a loff_t argument; negative offsets are EINVAL.
func copyInOffset(t *kernel.Task, addr uint64) (int64, error) {
	b := make([]byte, 8)
	if err := copyIn(t, addr, b); err != nil {
		return 0, err
	}
	off := int64(le.Uint64(b))
	if off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}

func copyOutOffset(t *kernel.Task, addr uint64, off int64) error {
	b := make([]byte, 8)
	le.PutUint64(b, uint64(off))
	return copyOut(t, addr, b)
}

// Sendfile implements sendfile(2).
func Sendfile(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	outfd, infd, offAddr, count := argFD(a[0]), argFD(a[1]), a[2], a[3]
	in, out, err := rwPair(t, infd, outfd)
	if err != nil {
		return 0, err
	}
	defer in.DecRef(ctx(t))
	defer out.DecRef(ctx(t))
	if out.StatusFlags()&unix.O_APPEND != 0 {
		return 0, unix.EINVAL
	}
	src := copyEnd{f: in, off: -1}
	if offAddr != 0 {
		if isStream(in) {
			return 0, unix.ESPIPE
		}
		if src.off, err = copyInOffset(t, offAddr); err != nil {
			return 0, err
		}
	}
	// Linux reads the source with splice_read into a pipe: a pipe cannot
	// be read that way, and any other stream (a socket) only into a pipe.
	if pipeOf(in) != nil || (isStream(in) && pipeOf(out) == nil) {
		return 0, unix.EINVAL
	}
	n, err := copyData(t, src, copyEnd{f: out, off: -1}, int64(min(count, maxRWCount)), false)
	if err != nil {
		return 0, err
	}
	if offAddr != 0 {
		if err := copyOutOffset(t, offAddr, src.off+n); err != nil {
			return 0, err
		}
	}
	return uint64(n), nil
}

// checkCopyFileRangeFiles applies copy_file_range's file checks, in
// Linux's order.
func checkCopyFileRangeFiles(in, out *vfs.File) error {
	if in.IsDir() || out.IsDir() {
		return unix.EISDIR
	}
	if !isRegular(in) || !isRegular(out) {
		return unix.EINVAL
	}
	// Since Linux 5.19 a copy between two file systems is EXDEV (unless
	// the file system type copies across them itself, which none here do).
	if in.Location().Dentry.Filesystem() != out.Location().Dentry.Filesystem() {
		return unix.EXDEV
	}
	if out.StatusFlags()&unix.O_APPEND != 0 {
		return unix.EBADF
	}
	return nil
}

// CopyFileRange implements copy_file_range(2).
func CopyFileRange(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	infd, inOffAddr, outfd, outOffAddr, length, flags := argFD(a[0]), a[1], argFD(a[2]), a[3], a[4], argUint(a[5])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	in, out, err := rwPair(t, infd, outfd)
	if err != nil {
		return 0, err
	}
	defer in.DecRef(ctx(t))
	defer out.DecRef(ctx(t))
	if err := checkCopyFileRangeFiles(in, out); err != nil {
		return 0, err
	}
	src, dst := copyEnd{f: in, off: -1}, copyEnd{f: out, off: -1}
	if inOffAddr != 0 {
		if src.off, err = copyInOffset(t, inOffAddr); err != nil {
			return 0, err
		}
	}
	if outOffAddr != 0 {
		if dst.off, err = copyInOffset(t, outOffAddr); err != nil {
			return 0, err
		}
	}
	n := int64(min(length, maxRWCount))
	if n == 0 {
		return 0, nil
	}
	if err := checkSameFileOverlap(t, src, dst, n); err != nil {
		return 0, err
	}
	done, err := copyData(t, src, dst, n, false)
	if err != nil {
		return 0, err
	}
	if inOffAddr != 0 {
		if err := copyOutOffset(t, inOffAddr, src.off+done); err != nil {
			return 0, err
		}
	}
	if outOffAddr != 0 {
		if err := copyOutOffset(t, outOffAddr, dst.off+done); err != nil {
			return 0, err
		}
	}
	return uint64(done), nil
}

// checkSameFileOverlap refuses (EINVAL) a copy within one file whose
// ranges overlap.
func checkSameFileOverlap(t *kernel.Task, src, dst copyEnd, n int64) error {
	ki, err := lockKey(t, src.f)
	if err != nil {
		return err
	}
	ko, err := lockKey(t, dst.f)
	if err != nil {
		return err
	}
	if ki != ko {
		return nil
	}
	so, do := src.off, dst.off
	if so < 0 {
		so = src.f.Offset()
	}
	if do < 0 {
		do = dst.f.Offset()
	}
	if so < do+n && do < so+n {
		return unix.EINVAL
	}
	return nil
}

// splice flags.
const (
	spliceFNonblock = 0x2
	spliceFAll      = 0xf
)

// spliceOffset decodes one offset argument of splice: a pipe takes none
// (ESPIPE), a file may have one if it is seekable.
func spliceOffset(t *kernel.Task, f *vfs.File, addr uint64) (int64, error) {
	if addr == 0 {
		return -1, nil
	}
	if pipeOf(f) != nil || isStream(f) {
		return 0, unix.ESPIPE
	}
	return copyInOffset(t, addr)
}

// Splice implements splice(2); one side must be a pipe.
func Splice(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	infd, inOffAddr, outfd, outOffAddr, length, flags := argFD(a[0]), a[1], argFD(a[2]), a[3], a[4], argUint(a[5])
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	in, out, err := rwPair(t, infd, outfd)
	if err != nil {
		return 0, err
	}
	defer in.DecRef(ctx(t))
	defer out.DecRef(ctx(t))
	if pipeOf(in) == nil && pipeOf(out) == nil {
		return 0, unix.EINVAL
	}
	if samePipe(in, out) {
		return 0, unix.EINVAL
	}
	if out.StatusFlags()&unix.O_APPEND != 0 && pipeOf(out) == nil {
		return 0, unix.EINVAL
	}
	src, dst := copyEnd{f: in}, copyEnd{f: out}
	if src.off, err = spliceOffset(t, in, inOffAddr); err != nil {
		return 0, err
	}
	if dst.off, err = spliceOffset(t, out, outOffAddr); err != nil {
		return 0, err
	}
	n := int64(min(length, maxRWCount))
	if n == 0 {
		return 0, nil
	}
	if p := pipeOf(out); p != nil {
		n = min(n, p.PipeSize())
	}
	done, err := copyData(t, src, dst, n, flags&spliceFNonblock != 0)
	if err != nil {
		return 0, err
	}
	if inOffAddr != 0 {
		if err := copyOutOffset(t, inOffAddr, src.off+done); err != nil {
			return 0, err
		}
	}
	if outOffAddr != 0 {
		if err := copyOutOffset(t, outOffAddr, dst.off+done); err != nil {
			return 0, err
		}
	}
	return uint64(done), nil
}

// samePipe reports whether in and out are ends of one pipe.
func samePipe(in, out *vfs.File) bool {
	pi, po := pipeOf(in), pipeOf(out)
	return pi != nil && po != nil && pi.Pipe() == po.Pipe()
}

// Tee implements tee(2): it copies what the input pipe holds (up to length
// bytes) into the output pipe without consuming it. Like Linux it waits
// for data in the input and for room in the output, then copies what fits.
func Tee(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	infd, outfd, length, flags := argFD(a[0]), argFD(a[1]), a[2], argUint(a[3])
	if flags&^spliceFAll != 0 {
		return 0, unix.EINVAL
	}
	in, out, err := rwPair(t, infd, outfd)
	if err != nil {
		return 0, err
	}
	defer in.DecRef(ctx(t))
	defer out.DecRef(ctx(t))
	pin := pipeOf(in)
	if pin == nil || pipeOf(out) == nil || samePipe(in, out) {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	nonblock := flags&spliceFNonblock != 0
	buf := make([]byte, min(int64(min(length, maxRWCount)), pin.PipeSize(), pipeOf(out).PipeSize()))
	peek := func() (int, error) { return pin.Peek(buf) }
	var n int
	if nonblock {
		n, err = peek()
	} else {
		n, err = t.DoBlocking(in, waiter.ReadableEvents, peek)
	}
	if n == 0 {
		return 0, err
	}
	write := func() (int, error) { return out.Write(ctx(t), buf[:n]) }
	if nonblock {
		n, err = write()
	} else {
		n, err = t.DoBlocking(out, waiter.WritableEvents, write)
	}
	if err == unix.EPIPE {
		sendSignal(t, unix.SIGPIPE)
	}
	if err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// Readahead implements readahead(2): there is no page cache to warm, so
// after validation it does nothing.
func Readahead(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if !isRegular(f) {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// Fadvise64 implements fadvise64(2): advice is only validated.
func Fadvise64(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	length, advice := argOff(a[2]), argInt(a[3])
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if pipeOf(f) != nil || f.Location().Dentry.FileType() == unix.S_IFIFO {
		return 0, unix.ESPIPE
	}
	if advice < unix.FADV_NORMAL || advice > unix.FADV_NOREUSE || length < 0 {
		return 0, unix.EINVAL
	}
	return 0, nil
}
