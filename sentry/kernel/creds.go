package kernel

import "github.com/runsc-lite/runsc-lite/vfs"

// Credentials are a task's identity. They are immutable once installed:
// changes make a copy (Fork) and install it with Task.SetCreds.
type Credentials struct {
	RealUID, EffectiveUID, SavedUID, FSUID uint32
	RealGID, EffectiveGID, SavedGID, FSGID uint32
	Groups                                 []uint32
	Permitted, Effective, Inheritable      uint64
	Bounding, Ambient                      uint64
	KeepCaps                               bool

	vfsCreds *vfs.Credentials
}

// allCaps has every capability Linux 6.x defines (0..40).
const allCaps = uint64(1)<<41 - 1

// RootCreds returns the credentials of uid/gid with full capabilities when
// uid is 0.
func NewCreds(uid, gid uint32, groups []uint32) *Credentials {
	c := &Credentials{
		RealUID: uid, EffectiveUID: uid, SavedUID: uid, FSUID: uid,
		RealGID: gid, EffectiveGID: gid, SavedGID: gid, FSGID: gid,
		Groups: groups, Bounding: allCaps,
	}
	if uid == 0 {
		c.Permitted, c.Effective = allCaps, allCaps
	}
	c.finish()
	return c
}

// Fork returns a mutable copy; call Finish before installing it.
func (c *Credentials) Fork() *Credentials {
	n := *c
	n.Groups = append([]uint32(nil), c.Groups...)
	n.vfsCreds = nil
	return &n
}

// Finish computes derived state after a change.
func (c *Credentials) finish() {
	c.vfsCreds = &vfs.Credentials{UID: c.FSUID, GID: c.FSGID, RealUID: c.RealUID, RealGID: c.RealGID,
		Groups: c.Groups, Caps: c.Effective, PermittedCaps: c.Permitted}
}

// Finish computes derived state after a change.
func (c *Credentials) Finish() { c.finish() }

// VFS returns the credentials used for file access.
func (c *Credentials) VFS() *vfs.Credentials { return c.vfsCreds }

// HasCap reports whether cap is in the effective set.
func (c *Credentials) HasCap(cp int) bool { return c.Effective&(1<<uint(cp)) != 0 }

// Credentials makes a Task a vfs.Context.
func (t *Task) Credentials() *vfs.Credentials { return t.Creds().vfsCreds }

// CopyIn/CopyOut with uintptr addresses make a Task a vfs.MemoryIO.
type taskMemory struct{ t *Task }

// VFSContext returns the task as a vfs.Context that can also reach guest
// memory (for ioctls).
func (t *Task) VFSContext() vfs.Context { return taskMemory{t} }

func (m taskMemory) Credentials() *vfs.Credentials { return m.t.Credentials() }

// ThreadGroupID implements socket.Process: the sender's PID for the
// credentials a plain write(2) on a socket carries.
func (m taskMemory) ThreadGroupID() int32 { return m.t.ThreadGroup().ID() }

func (m taskMemory) CopyIn(addr uintptr, dst []byte) (int, error) {
	return m.t.mm.CopyIn(uint64(addr), dst)
}

func (m taskMemory) CopyOut(addr uintptr, src []byte) (int, error) {
	return m.t.mm.CopyOut(uint64(addr), src)
}
