// Package boot builds a sentry kernel from a configuration and runs the
// guest's first process to completion. It is called by `runsc-lite boot`
// inside the sandbox's sentry process.
package boot

// Config describes one sandbox as the CLI hands it to the sentry process.
type Config struct {
	Argv     []string // guest command and arguments (Argv[0] resolved against PATH in Env)
	Env      []string // guest environment
	Cwd      string   // guest working directory (absolute)
	Hostname string   // guest hostname
	// Domainname is the guest's NIS domain name (empty: "(none)").
	Domainname string
	UID, GID   uint32 // guest credentials of the first process

	// Network is "none" (private namespace, loopback only) or "host".
	Network string
	// NetSysctl are net.* sysctls (dotted names) that `runsc-lite boot`
	// writes in the sandbox's host network namespace before confinement
	// (an OCI bundle's linux.sysctl; never with Network "host").
	NetSysctl map[string]string
	// IPCSysctl are the guest IPC namespace's tunables (names as under
	// /proc/sys/kernel: shmmax, msgmnb, sem...), from linux.sysctl.
	IPCSysctl map[string]string
	// UnprivilegedPortStart is net.ipv4.ip_unprivileged_port_start of the
	// sandbox's network namespace: guests without CAP_NET_BIND_SERVICE
	// cannot bind a lower port (the sentry keeps that capability for the
	// host sockets it owns). `runsc-lite boot` reads it; zero lets every
	// guest bind any port.
	UnprivilegedPortStart int
	// Platform names the platform ("systrap").
	Platform string
	// Strace logs every guest syscall with decoded arguments to the debug log.
	Strace bool
	// DebugLog is the file the sentry logs to (appended to, made if
	// missing); empty means stderr logging only of fatal errors.
	DebugLog string
	// Volumes are gofer mounts 1..n (mount 0 is the root file system).
	Volumes []Volume
	// Directfs makes the sentry open host files itself from directory FDs
	// given by the gofer (the default); off, every open is a gofer RPC.
	Directfs bool
	// StdioTTY reports, per stdio FD, whether it is a terminal.
	StdioTTY [3]bool
	// OverlaySize limits the file data of the root's upper layer, in
	// bytes: beyond it, writes fail with ENOSPC. 0 means the default,
	// DefaultOverlaySize.
	OverlaySize int64
	// OverlayFile puts the upper layer's file data in the host file
	// IO.OverlayFD instead of the memory file, so that it costs disk,
	// not memory.
	OverlayFile bool

	// The rest is set by the OCI runtime (runsc-lite create/run).

	// Groups are the first process's supplementary groups.
	Groups []uint32
	// Caps, if set, are the first process's capability sets (default:
	// all for uid 0, none otherwise).
	Caps *Caps
	// NoNewPrivileges sets the first process's no_new_privs bit.
	NoNewPrivileges bool
	// Rlimits override the default resource limits.
	Rlimits []Rlimit
	// RootReadOnly makes the root mount read-only.
	RootReadOnly bool
	// CreateCwd makes Cwd (in the root's upper layer) if it is missing,
	// as runc does for a container's working directory.
	CreateCwd bool
	// Mounts are file systems the sentry synthesises (tmpfs, sysfs,
	// mqueue...), mounted after the volumes.
	Mounts []Mount
	// MaxTasks, if positive, bounds the guest's tasks (threads): clone
	// fails with EAGAIN beyond it (an OCI pids limit).
	MaxTasks int
}

// Caps are capability sets as bit masks (bit N is capability N).
type Caps struct {
	Effective, Permitted, Inheritable, Bounding, Ambient uint64
}

// Rlimit is one resource limit (Type is an RLIMIT_* number).
type Rlimit struct {
	Type       int
	Soft, Hard uint64
}

// Mount is a file system made by the sentry at Destination. Type is
// tmpfs, mqueue, sysfs, proc or devpts (the last two are always mounted
// at /proc and /dev/pts; elsewhere they get a fresh instance).
type Mount struct {
	Destination string
	Type        string
	ReadOnly    bool
	// NoSuid, NoDev and NoExec are the mount's nosuid, nodev and noexec
	// options, shown in /proc/mounts and statfs's flags (noexec and nodev
	// are enforced; the sentry never runs set-user-ID programs as such).
	NoSuid, NoDev, NoExec bool
	// Size (bytes) and Mode (permission bits, 0 = 01777) of a tmpfs.
	Size int64
	Mode uint32
}

// Volume is a host directory served by the gofer and mounted at GuestPath.
type Volume struct {
	GuestPath string
	ReadOnly  bool
	// File marks a single-file volume: the gofer serves it as a
	// directory holding only gofer.VolumeFile, which the sentry mounts
	// over a file at GuestPath.
	File bool
}

// IO carries the host file descriptors the sentry is given.
type IO struct {
	GoferFD int    // unix socket to the gofer
	Stdio   [3]int // host FDs that become guest FDs 0, 1, 2
	// ControlFD, if not negative, is a listening control socket (package
	// sentry/control): the first process then waits for a start request,
	// and exec, signal and ps requests are served.
	ControlFD int
	// OverlayFD is, with Config.OverlayFile, a regular host file for the
	// root's upper layer: unnamed (O_TMPFILE), so that nothing is left
	// behind, and as long as the layer's limit (Config.OverlaySize, or
	// the file's size when that is 0).
	OverlayFD int
}
