package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ConfineOptions configures Confine.
type ConfineOptions struct {
	// HostMountNS is the inode number of the launcher's mount namespace
	// (MountNamespace()). Confine refuses to run in that namespace: it
	// would mount over a host directory. Zero skips the check.
	HostMountNS uint64
	// FileCapabilities keeps the file capabilities (FileCapabilities)
	// besides KeptCapabilities: with directfs the sentry opens, creates,
	// chowns and chmods host files itself, from the directory FDs the
	// gofer gave it, on behalf of guests whose permissions it has
	// checked; a guest root must get root's access to a volume.
	FileCapabilities bool
	// Dirs are candidate existing directories over which the empty root
	// is mounted (inside the private mount namespace, so nothing appears
	// on the host); the first that exists is used. Empty means
	// DefaultConfineDirs.
	Dirs []string
}

// DefaultConfineDirs are the directories Confine mounts its empty root on.
var DefaultConfineDirs = []string{"/tmp", "/mnt", "/run", "/"}

// Confine locks the calling process (the sentry) down. It must run in a
// mount namespace of its own and before any guest code runs; afterwards
// the process
//
//   - has an empty, read-only tmpfs as its root and working directory
//     (pivot_root, falling back to chroot), so no host path is reachable;
//   - has no capabilities on any thread but CAP_NET_BIND_SERVICE and,
//     with opts.FileCapabilities, FileCapabilities (effective and
//     permitted; see KeptCapabilities): empty bounding, ambient and
//     inheritable sets. The seccomp allowlist has no path-based or
//     handle-based open (open_by_handle_at), so the file capabilities
//     reach only the host files the gofer handed over;
//   - has no_new_privs set;
//   - runs under the seccomp allowlist of seccomp_allowlist.go on every
//     thread (TSYNC), with EPERM for everything else.
//
// It needs a non-cgo build (syscall.AllThreadsSyscall).
func Confine(opts ConfineOptions) error {
	// Compile the filter first: nothing below may allocate much or fail
	// for reasons unrelated to the host.
	prog, err := buildFilter(sentryAllowlist, deniedIoctls)
	if err != nil {
		return err
	}
	if opts.HostMountNS != 0 {
		ns, err := MountNamespace()
		if err != nil {
			return fmt.Errorf("confine: %w", err)
		}
		if ns == opts.HostMountNS {
			return errors.New("confine: refusing to run in the host's mount namespace")
		}
	}
	if err := emptyRoot(opts.Dirs); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	keep := uint64(KeptCapabilities)
	if opts.FileCapabilities {
		keep |= FileCapabilities
	}
	if err := dropCapabilities(keep); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	// no_new_privs on this thread only: installing the filter with TSYNC
	// sets it on every thread it synchronises (kernel/seccomp.c), one
	// stop-the-world fewer.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("confine: prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if err := installFilter(prog); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	return nil
}

// MountNamespace returns the inode number of the caller's mount namespace.
func MountNamespace() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &st); err != nil {
		return 0, fmt.Errorf("stat /proc/self/ns/mnt: %w", err)
	}
	return st.Ino, nil
}

// emptyRoot makes an empty read-only tmpfs the root and working directory
// of the process.
func emptyRoot(dirs []string) error {
	if len(dirs) == 0 {
		dirs = DefaultConfineDirs
	}
	// Nothing we mount may propagate to the host's mount namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	dir := ""
	for _, d := range dirs {
		if fi, err := os.Lstat(d); err == nil && fi.IsDir() {
			dir = d
			break
		}
	}
	if dir == "" {
		return fmt.Errorf("none of %v is a directory", dirs)
	}
	const flags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("runsc-lite-root", dir, "tmpfs", flags, "size=4k,nr_inodes=4,mode=0555"); err != nil {
		return fmt.Errorf("mounting empty root on %s: %w", dir, err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s: %w", dir, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one;
	// detaching it leaves the tmpfs as the only mount of the namespace.
	if err := unix.PivotRoot(".", "."); err == nil {
		if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
			return fmt.Errorf("detaching old root: %w", err)
		}
	} else if err != unix.EINVAL {
		return fmt.Errorf("pivot_root %s: %w", dir, err)
	}
	// After a successful pivot_root this is a no-op; when pivot_root is
	// impossible (the host root is an initramfs) it is the confinement.
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", dir, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// KeptCapabilities are the capabilities the sentry keeps (a bit mask):
// CAP_NET_BIND_SERVICE, because a guest's bind(2) of an inet socket is a
// bind of a host socket the sentry owns, and a guest allowed a port below
// net.ipv4.ip_unprivileged_port_start (root, or a holder of the capability)
// must get it. The sentry itself refuses such ports to other guests
// (package hostinet).
const KeptCapabilities = 1 << unix.CAP_NET_BIND_SERVICE

// FileCapabilities are what a directfs sentry needs to act on host files
// as the guest's root may (the gofer keeps the same set).
const FileCapabilities = 1<<unix.CAP_CHOWN | 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH |
	1<<unix.CAP_FOWNER | 1<<unix.CAP_FSETID

// DropBoundingSet empties the capability bounding set of every thread. It
// is part of Confine, and may be called well before it: the bounding set
// only limits what later execve calls (the platform's stub master, which
// then starts with no capabilities) and capset can gain, never what the
// process holds, so it does not get in the way of setting up. It costs a
// stop-the-world per capability (syscall.AllThreadsSyscall), which is
// better spent while the sentry waits for its gofer and cgroup than on
// Confine's path.
func DropBoundingSet() error {
	for c := 0; c < 64; c++ {
		in, _, errno := unix.Syscall(unix.SYS_PRCTL, unix.PR_CAPBSET_READ, uintptr(c), 0)
		if errno == unix.EINVAL {
			break // past CAP_LAST_CAP
		}
		if errno == 0 && in == 0 {
			// Dropped already, on every thread: threads made since
			// inherit the set of the thread that made them.
			continue
		}
		if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil {
			return fmt.Errorf("prctl(PR_CAPBSET_DROP, %d): %w", c, err)
		}
	}
	return nil
}

// dropCapabilities empties every capability set of every thread but for
// keep (capabilities 0-31) in the effective and permitted sets.
func dropCapabilities(keep uint64) error {
	// The bounding set first: dropping from it needs CAP_SETPCAP.
	if err := DropBoundingSet(); err != nil {
		return err
	}
	// Emptying the permitted and inheritable sets empties the ambient set
	// too (capset keeps ambient within permitted and inheritable).
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	data[0].Effective, data[0].Permitted = uint32(keep), uint32(keep)
	if err := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// allThreads runs a system call on every thread of the Go runtime:
// credentials and no_new_privs are per thread in Linux.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	if errno == syscall.ENOTSUP {
		return errors.New("per-process credential changes need a build without cgo (CGO_ENABLED=0)")
	}
	if errno != 0 {
		return errno
	}
	return nil
}
