package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// InotifyInit implements inotify_init(2).
func InotifyInit(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return newInotify(t, 0)
}

// InotifyInit1 implements inotify_init1(2).
func InotifyInit1(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return newInotify(t, argFlags(a[0]))
}

func newInotify(t *kernel.Task, flags uint32) (uint64, error) {
	if flags&^(unix.IN_NONBLOCK|unix.IN_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	v := t.Kernel().VFS()
	in := v.NewAnonInode(ctx(t), 0o600)
	loc := v.NewAnonLocation("anon_inode:inotify", in, 0)
	f := v.NewFile(loc, v.NewInotify(), unix.O_RDONLY|flags&unix.IN_NONBLOCK)
	loc.DecRef()
	fd, err := t.NewFD(f, flags&unix.IN_CLOEXEC != 0)
	f.DecRef(ctx(t))
	if err != nil {
		return 0, err
	}
	return uint64(fd), nil
}

// inotifyOf returns the inotify instance open as fd: EBADF if fd is not
// open, EINVAL if it is not an inotify descriptor. The caller drops the
// file reference.
func inotifyOf(t *kernel.Task, fd int32) (*vfs.File, *vfs.Inotify, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	in, ok := f.Impl().(*vfs.Inotify)
	if !ok {
		f.DecRef(ctx(t))
		return nil, nil, unix.EINVAL
	}
	return f, in, nil
}

// InotifyAddWatch implements inotify_add_watch(2).
func InotifyAddWatch(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	mask := argUint(a[2])
	if mask&unix.IN_ALL_EVENTS == 0 || mask&unix.IN_MASK_ADD != 0 && mask&unix.IN_MASK_CREATE != 0 {
		return 0, unix.EINVAL
	}
	f, in, err := inotifyOf(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	var flags uint32
	if mask&unix.IN_DONT_FOLLOW != 0 {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	p, path, err := atPath(t, atFDCWD, a[1], 0)
	if err != nil {
		return 0, err
	}
	defer p.release(t)
	v := t.Kernel().VFS()
	loc, err := v.GetLocation(ctx(t), p.root, p.start, path, int(flags))
	if err != nil {
		return 0, err
	}
	defer loc.DecRef()
	if mask&unix.IN_ONLYDIR != 0 && !loc.Dentry.IsDir() {
		return 0, unix.ENOTDIR
	}
	if err := v.CheckPermission(ctx(t), loc, vfs.MayRead); err != nil {
		return 0, err
	}
	wd, err := in.AddWatch(loc, mask)
	return uint64(wd), err
}

// InotifyRmWatch implements inotify_rm_watch(2).
func InotifyRmWatch(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	f, in, err := inotifyOf(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	return 0, in.RmWatch(argInt(a[1]))
}
