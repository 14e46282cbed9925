//go:build linux

package gofer

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// SetupConfig describes the files a gofer process may serve.
type SetupConfig struct {
	// Rootfs is the host directory of the sandbox root. It is always
	// served read-only (writes land in the sentry's overlay).
	Rootfs string
	// Volumes are extra host directories or regular files, served as
	// mounts 1, 2, ...: a file as a directory holding only VolumeFile.
	Volumes []Mount
	// KeepPseudoFS keeps proc, sysfs, devtmpfs, cgroup and similar kernel
	// file systems mounted below Rootfs. By default they are detached: the
	// sentry synthesises its own, and the host's would leak host state
	// (e.g. /proc/1/root) to the sandbox.
	KeepPseudoFS bool
	// SeccompErrno makes syscalls outside the allowlist fail with EPERM
	// instead of killing the process: for debugging a missing entry.
	SeccompErrno bool
}

// Paths of the served directories inside the gofer's new root.
const (
	rootfsDir  = "/root"
	volumesDir = "/m"
)

// VolumeFile is the one entry of the directory that serves a single-file
// volume: the host file is mounted over an empty file of that name on the
// gofer's own root, so nothing else of the host is reachable beside it.
const VolumeFile = "file"

// Mounts returns the mounts to Serve once Setup has run: their paths inside
// the gofer's new root, in the order Setup mounted them.
func (cfg SetupConfig) Mounts() []Mount {
	mounts := []Mount{{HostPath: rootfsDir, ReadOnly: true}}
	for i, v := range cfg.Volumes {
		mounts = append(mounts, Mount{HostPath: volumePath(i), ReadOnly: v.ReadOnly})
	}
	return mounts
}

func volumePath(i int) string {
	return volumesDir + "/" + strconv.Itoa(i+1)
}

// Setup confines the calling process to the files of cfg. It must run in a
// process of its own, started by the launcher in new mount, PID, IPC and
// UTS namespaces, as root, and built with CGO_ENABLED=0 (capabilities are
// per thread and are changed on every runtime thread with
// syscall.AllThreadsSyscall, which cgo disables).
//
// Steps: make all mounts private; build a new root on a small tmpfs holding
// only Rootfs (at /root, read-only) and the volumes (at /m/1, /m/2, ...), all
// nodev and nosuid; pivot_root into it and detach the old root; keep an FD
// of a private /proc/self/fd for reopening files; drop every capability but
// the file ones the server needs; set no_new_privs; install a seccomp
// allowlist on all threads. Then call ServeFD(fd, cfg.Mounts()).
func Setup(cfg SetupConfig) error {
	if cfg.Rootfs == "" {
		return fmt.Errorf("gofer: setup: no rootfs")
	}
	if err := setupRoot(cfg); err != nil {
		return fmt.Errorf("gofer: setup: %w", err)
	}
	// Files are created with exactly the mode the sentry asks for.
	unix.Umask(0)
	if err := dropCapabilities(); err != nil {
		return fmt.Errorf("gofer: setup: %w", err)
	}
	// no_new_privs on this thread only: installing the filter with TSYNC
	// sets it on every thread it synchronises (kernel/seccomp.c), one
	// stop-the-world fewer.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("gofer: setup: no_new_privs: %w", err)
	}
	if err := installSeccomp(cfg.SeccompErrno); err != nil {
		return fmt.Errorf("gofer: setup: %w", err)
	}
	return nil
}

// SetupAndServe runs Setup and then serves cfg's mounts on the connected
// SOCK_SEQPACKET socket sock until the sentry closes it.
func SetupAndServe(cfg SetupConfig, sock int) error {
	if err := Setup(cfg); err != nil {
		return err
	}
	return ServeFD(sock, cfg.Mounts())
}

// cloneTree returns a detached recursive copy of the mount tree at path
// with attrs set on every mount in it. Cloning before the new root exists
// means the host paths are resolved once, in the old root, whatever the
// new root later hides.
func cloneTree(path string, attrs uint64) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return -1, fmt.Errorf("open_tree %q: %w", path, err)
	}
	attr := unix.MountAttr{Attr_set: attrs}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("mount_setattr %q: %w", path, err)
	}
	return fd, nil
}

func setupRoot(cfg SetupConfig) error {
	// Nothing we mount may propagate back to the host's namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	const common = unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID
	trees := make([]int, 0, 1+len(cfg.Volumes))
	defer func() {
		for _, fd := range trees {
			unix.Close(fd)
		}
	}()
	fd, err := cloneTree(cfg.Rootfs, common|unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return err
	}
	trees = append(trees, fd)
	for _, v := range cfg.Volumes {
		attrs := uint64(common)
		if v.ReadOnly {
			attrs |= unix.MOUNT_ATTR_RDONLY
		}
		fd, err := cloneTree(v.HostPath, attrs)
		if err != nil {
			return err
		}
		trees = append(trees, fd)
	}

	// The new root is a tmpfs mounted over the temp dir: in our private
	// namespace that hides nothing that matters and leaves no trace on
	// the host.
	newRoot := os.TempDir()
	if err := os.MkdirAll(newRoot, 0o755); err != nil {
		return fmt.Errorf("new root: %w", err)
	}
	if err := unix.Mount("gofer-root", newRoot, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", newRoot, err)
	}
	targets := []string{rootfsDir}
	for i := range cfg.Volumes {
		targets = append(targets, volumePath(i))
	}
	for i, target := range targets {
		dst := filepath.Join(newRoot, target)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", dst, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(trees[i], &st); err != nil {
			return fmt.Errorf("stat of mount %d: %w", i, err)
		}
		switch typ := st.Mode & unix.S_IFMT; {
		case typ == unix.S_IFREG && i > 0:
			dst = filepath.Join(dst, VolumeFile)
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o644)
			if err != nil {
				return fmt.Errorf("mount point for a file volume: %w", err)
			}
			f.Close()
		case typ != unix.S_IFDIR:
			return fmt.Errorf("mount %d (%s) is neither a directory nor a regular file", i, target)
		}
		if err := unix.MoveMount(trees[i], "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("move_mount to %s: %w", dst, err)
		}
	}
	if !cfg.KeepPseudoFS {
		if err := detachPseudoFS(filepath.Join(newRoot, rootfsDir)); err != nil {
			return err
		}
	}
	if err := unix.Mount("", newRoot, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("remount new root read-only: %w", err)
	}
	// A procfs of our own PID namespace, only for the FD of /proc/self/fd
	// the server reopens files through. It is mounted over the old root's
	// /proc (in our private namespace), so detaching the old root detaches
	// it too: every unmount waits for an RCU grace period, and one is
	// enough.
	procFD, err := openProcSelfFD("/proc")
	if err != nil {
		return err
	}
	procSelfFDForServer = procFD
	return pivot(newRoot)
}

// openProcSelfFD mounts a procfs of our PID namespace on dir and opens its
// self/fd. The procfs is read-only and holds the processes only
// (subset=pid, Linux 5.8): from that FD, ".." reaches no /proc/sys or
// other host-wide file.
func openProcSelfFD(dir string) (int, error) {
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY
	err := unix.Mount("proc", dir, "proc", flags, "subset=pid")
	if err == unix.EINVAL {
		err = unix.Mount("proc", dir, "proc", flags, "") // an older kernel
	}
	if err != nil {
		return -1, fmt.Errorf("mount proc on %s: %w", dir, err)
	}
	fd, err := unix.Open(filepath.Join(dir, "self/fd"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s/self/fd: %w", dir, err)
	}
	return fd, nil
}

// pivot makes newRoot the root and detaches the old one, so no host path
// outside the new root can be named any more.
func pivot(newRoot string) error {
	if err := unix.Chdir(newRoot); err != nil {
		return fmt.Errorf("chdir %s: %w", newRoot, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one,
	// so no put_old directory is needed; unmounting "." then drops it.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}
