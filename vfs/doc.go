// Package vfs is the sentry's virtual file system: the mount tree, the
// dentry cache, path resolution (symlinks, "..", mount crossing, chroot
// roots) with Linux's permission checks and errno values, open file
// descriptions (File), and the entry points the syscall layer calls
// (OpenAt, Stat, Mkdir, Rename, ...). Filesystems (tmpfs, overlay, goferfs,
// ...) plug in through the Inode/DirInode and FileImpl interfaces. The
// package knows nothing of tasks: callers pass a Context giving credentials.
//
// Typical use:
//
//	v := vfs.New()
//	fs, _ := tmpfs.New(v, mf, tmpfs.Options{})
//	ns := v.NewMountNamespace(fs, 0)
//	root := ns.Root()
//	f, err := v.OpenAt(ctx, root, root, "/etc/passwd", unix.O_RDONLY, 0)
package vfs
