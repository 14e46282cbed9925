package linux

// Seccomp constants that x/sys/unix lacks.
const (
	// SYS_SECCOMP is the si_code of a SIGSYS sent by SECCOMP_RET_TRAP.
	SYS_SECCOMP = 1
	// MAX_ERRNO caps the errno a SECCOMP_RET_ERRNO filter returns.
	MAX_ERRNO = 4095
)
