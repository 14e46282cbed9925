package procfs

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// filesOf returns the FD table of t's process.
func filesOf(t *kernel.Task) *kernel.FDTable {
	files, _ := liveTask(t).FilesAndFS()
	return files
}

// fdList returns the open descriptors of ref's process.
func fdList(ref *taskRef) ([]int32, error) {
	t := ref.task()
	if t == nil {
		return nil, unix.ENOENT
	}
	files := filesOf(t)
	if files == nil {
		return nil, nil
	}
	return files.FDs(), nil
}

func parseFD(name string) (int32, bool) {
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != name {
		return 0, false
	}
	return int32(n), true
}

// withFile calls fn on fd of ref's process.
func withFile(ref *taskRef, fd int32, fn func(f *vfs.File, cloexec bool)) error {
	t := ref.task()
	if t == nil {
		return unix.ENOENT
	}
	files := filesOf(t)
	if files == nil {
		return unix.ENOENT
	}
	if err := files.WithFile(fd, fn); err != nil {
		return unix.ENOENT
	}
	return nil
}

// newFDDir builds /proc/PID/fd: one magic link per descriptor.
func (fs *FS) newFDDir(ref *taskRef, key string, parentIno uint64) *dirNode {
	d := fs.newDir(key, parentIno, 0o500, ref, nil)
	d.list = func(vfs.Context) ([]child, error) {
		fds, err := fdList(ref)
		if err != nil {
			return nil, err
		}
		out := make([]child, 0, len(fds))
		for _, fd := range fds {
			c := childOf(strconv.Itoa(int(fd)), fs.newFDLink(ref, key, fd))
			c.off = 2 + int64(fd)
			out = append(out, c)
		}
		return out, nil
	}
	d.lookup = func(ctx vfs.Context, name string) (vfs.Inode, error) {
		fd, ok := parseFD(name)
		if !ok {
			return nil, unix.ENOENT
		}
		if err := withFile(ref, fd, func(*vfs.File, bool) {}); err != nil {
			return nil, err
		}
		return fs.newFDLink(ref, key, fd), nil
	}
	return d
}

// newFDLink makes /proc/PID/fd/N. Its mode reflects the access mode (like
// Linux: lr-x------ for read-only, l-wx------ for write-only, lrwx------).
func (fs *FS) newFDLink(ref *taskRef, key string, fd int32) *magicLinkNode {
	var mode uint32
	withFile(ref, fd, func(f *vfs.File, _ bool) {
		if f.Readable() || f.IsPath() {
			mode |= 0o500
		}
		if f.Writable() {
			mode |= 0o300
		}
	})
	if mode == 0 {
		mode = 0o700
	}
	l := fs.newMagicLink(key+"/"+strconv.Itoa(int(fd)), mode, ref,
		func(ctx vfs.Context) (string, error) {
			loc, err := fdLocation(ref, fd)
			if err != nil {
				return "", err
			}
			defer loc.DecRef()
			return fs.pathOf(ctx, ref.task(), loc)
		},
		func(ctx vfs.Context) (vfs.Location, error) { return fdLocation(ref, fd) })
	l.valid = func(vfs.Context) bool { return withFile(ref, fd, func(*vfs.File, bool) {}) == nil }
	return l
}

// fdLocation returns where fd's file was opened, with a reference.
func fdLocation(ref *taskRef, fd int32) (vfs.Location, error) {
	var loc vfs.Location
	err := withFile(ref, fd, func(f *vfs.File, _ bool) {
		loc = f.Location()
		loc.IncRef()
	})
	if err != nil {
		return vfs.Location{}, err
	}
	if !loc.Ok() {
		return vfs.Location{}, unix.ENOENT
	}
	return loc, nil
}

// newFdinfoDir builds /proc/PID/fdinfo.
func (fs *FS) newFdinfoDir(ref *taskRef, key string, parentIno uint64) *dirNode {
	d := fs.newDir(key, parentIno, 0o500, ref, nil)
	d.list = func(vfs.Context) ([]child, error) {
		fds, err := fdList(ref)
		if err != nil {
			return nil, err
		}
		out := make([]child, 0, len(fds))
		for _, fd := range fds {
			c := childOf(strconv.Itoa(int(fd)), fs.newFdinfo(ref, key, fd))
			c.off = 2 + int64(fd)
			out = append(out, c)
		}
		return out, nil
	}
	d.lookup = func(ctx vfs.Context, name string) (vfs.Inode, error) {
		fd, ok := parseFD(name)
		if !ok {
			return nil, unix.ENOENT
		}
		if err := withFile(ref, fd, func(*vfs.File, bool) {}); err != nil {
			return nil, err
		}
		return fs.newFdinfo(ref, key, fd), nil
	}
	return d
}

func (fs *FS) newFdinfo(ref *taskRef, key string, fd int32) *regNode {
	r := fs.newReg(key+"/"+strconv.Itoa(int(fd)), 0o400, ref, nil)
	r.valid = func(vfs.Context) bool { return withFile(ref, fd, func(*vfs.File, bool) {}) == nil }
	r.gen = func(ctx vfs.Context) ([]byte, error) {
		var file *vfs.File
		var cloexec bool
		if err := withFile(ref, fd, func(f *vfs.File, c bool) {
			if f.TryIncRef() {
				file, cloexec = f, c
			}
		}); err != nil || file == nil {
			return nil, unix.ENOENT
		}
		defer file.DecRef(ctx)
		flags := file.StatusFlags() | oLargefile
		if cloexec {
			flags |= unix.O_CLOEXEC
		}
		var pos int64
		switch impl := file.Impl().(type) {
		case *seqFile:
			// Never take the offset lock of a procfs file: it is held
			// while that file is read, possibly by this very read.
			if s, ok := ctx.(selfCtx); ok && s.f == impl {
				pos = s.off
			} else {
				pos = impl.pos.Load()
			}
		default:
			pos = file.Offset()
		}
		loc := file.Location()
		var ino uint64
		if loc.Ok() {
			if st, err := loc.Dentry.Inode().Stat(ctx); err == nil {
				ino = st.Ino
			}
		}
		var mnt uint64
		if loc.Mount != nil {
			mnt = loc.Mount.ID()
		}
		info := formatFdinfo(pos, flags, mnt, ino)
		if x, ok := file.Impl().(FDInfoer); ok {
			info += x.FDInfo()
		}
		return []byte(info), nil
	}
	return r
}

// FDInfoer is a file implementation with lines of its own in
// /proc/PID/fdinfo/N (eventfd-count, ...).
type FDInfoer interface {
	FDInfo() string
}

// oLargefile is the kernel's O_LARGEFILE on x86-64 (always set on 64-bit
// files; unix.O_LARGEFILE is 0 there).
const oLargefile = 0o100000
