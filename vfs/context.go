package vfs

import (
	"golang.org/x/sys/unix"
)

// Context is what the VFS needs from its caller: the credentials of the
// calling task. A Context may also implement MemoryIO (guest memory access,
// used by ioctls). The package knows nothing else about tasks.
type Context interface {
	Credentials() *Credentials
}

// MemoryIO is optionally implemented by a Context to give file
// implementations access to the caller's memory (ioctl arguments).
type MemoryIO interface {
	// CopyIn reads len(dst) bytes at guest address addr.
	CopyIn(addr uintptr, dst []byte) (int, error)
	// CopyOut writes src at guest address addr.
	CopyOut(addr uintptr, src []byte) (int, error)
}

// CopyOut writes src to guest memory through ctx, or returns EFAULT if ctx
// has no memory.
func CopyOut(ctx Context, addr uintptr, src []byte) error {
	m, ok := ctx.(MemoryIO)
	if !ok {
		return unix.EFAULT
	}
	n, err := m.CopyOut(addr, src)
	if err != nil {
		return err
	}
	if n != len(src) {
		return unix.EFAULT
	}
	return nil
}

// CopyIn reads len(dst) bytes from guest memory through ctx, or returns
// EFAULT if ctx has no memory.
func CopyIn(ctx Context, addr uintptr, dst []byte) error {
	m, ok := ctx.(MemoryIO)
	if !ok {
		return unix.EFAULT
	}
	n, err := m.CopyIn(addr, dst)
	if err != nil {
		return err
	}
	if n != len(dst) {
		return unix.EFAULT
	}
	return nil
}

// Credentials are the identity used for file access checks.
type Credentials struct {
	// UID and GID are the filesystem user and group IDs (fsuid, fsgid).
	UID, GID uint32
	// RealUID and RealGID are used by Access without AT_EACCESS.
	RealUID, RealGID uint32
	// Groups are the supplementary groups.
	Groups []uint32
	// Caps is the effective capability set: bit 1<<CAP_xxx.
	Caps uint64
	// PermittedCaps is the permitted set, which access(2) uses in place
	// of the effective set when the real user is root.
	PermittedCaps uint64
}

// AllCaps is a capability set with every capability.
const AllCaps = ^uint64(0)

// HasCap reports whether c has capability cp (unix.CAP_*).
func (c *Credentials) HasCap(cp int) bool { return c.Caps&(1<<uint(cp)) != 0 }

// InGroup reports whether gid is c's fsgid or one of its supplementary
// groups.
func (c *Credentials) InGroup(gid uint32) bool {
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// RootCredentials returns credentials of uid 0 with every capability.
func RootCredentials() *Credentials { return &Credentials{Caps: AllCaps, PermittedCaps: AllCaps} }

// UserCredentials returns credentials of an unprivileged user.
func UserCredentials(uid, gid uint32, groups ...uint32) *Credentials {
	return &Credentials{UID: uid, GID: gid, RealUID: uid, RealGID: gid, Groups: groups}
}

type simpleContext struct{ c *Credentials }

func (s simpleContext) Credentials() *Credentials { return s.c }

// NewContext returns a Context with the given credentials and no memory
// (for kernel-internal operations and tests).
func NewContext(c *Credentials) Context { return simpleContext{c} }

// Access modes for permission checks (the MAY_* values of Linux).
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// GenericCheckPermissions implements Linux's generic_permission plus the
// CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH overrides. ats is a mask of MayRead,
// MayWrite and MayExec; mode is st_mode (with file type), uid/gid the owner.
func GenericCheckPermissions(c *Credentials, ats uint32, mode uint32, uid, gid uint32) error {
	perms := mode & 0o7
	if c.UID == uid {
		perms = (mode >> 6) & 0o7
	} else if c.InGroup(gid) {
		perms = (mode >> 3) & 0o7
	}
	if ats&perms == ats {
		return nil
	}
	isDir := mode&unix.S_IFMT == unix.S_IFDIR
	if c.HasCap(unix.CAP_DAC_OVERRIDE) {
		if ats&MayExec == 0 || isDir || mode&0o111 != 0 {
			return nil
		}
	}
	if c.HasCap(unix.CAP_DAC_READ_SEARCH) {
		if ats&MayWrite == 0 && (ats&MayExec == 0 || isDir) {
			return nil
		}
	}
	return unix.EACCES
}

// isOwner reports whether c owns a file with owner uid or has CAP_FOWNER.
func isOwner(c *Credentials, uid uint32) bool {
	return c.UID == uid || c.HasCap(unix.CAP_FOWNER)
}
