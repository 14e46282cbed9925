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
	UID, GID uint32   // guest credentials of the first process

	// Network is "none" (private namespace, loopback only) or "host".
	Network string
	// Platform names the platform ("systrap").
	Platform string
	// Strace logs every guest syscall with decoded arguments to the debug log.
	Strace bool
	// DebugLog is a directory for the sentry's log; empty means stderr
	// logging only of fatal errors.
	DebugLog string
	// Volumes are gofer mounts 1..n (mount 0 is the root file system).
	Volumes []Volume
	// Directfs makes the sentry open host files itself from directory FDs
	// given by the gofer (the default); off, every open is a gofer RPC.
	Directfs bool
	// StdioTTY reports, per stdio FD, whether it is a terminal.
	StdioTTY [3]bool
}

// Volume is a host directory served by the gofer and mounted at GuestPath.
type Volume struct {
	GuestPath string
	ReadOnly  bool
}

// IO carries the host file descriptors the sentry is given.
type IO struct {
	GoferFD int    // unix socket to the gofer
	Stdio   [3]int // host FDs that become guest FDs 0, 1, 2
}
