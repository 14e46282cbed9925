package proc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

func identitySyscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_GETPID: {Name: "getpid", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) { return uint64(t.ThreadGroup().ID()), nil }},
		unix.SYS_GETTID: {Name: "gettid", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) { return uint64(t.TID()), nil }},
		unix.SYS_GETPPID: {Name: "getppid", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) {
			return uint64(t.ThreadGroup().PPID()), nil
		}},
		unix.SYS_GETUID: {Name: "getuid", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) { return uint64(t.Creds().RealUID), nil }},
		unix.SYS_GETEUID: {Name: "geteuid", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) {
			return uint64(t.Creds().EffectiveUID), nil
		}},
		unix.SYS_GETGID: {Name: "getgid", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) { return uint64(t.Creds().RealGID), nil }},
		unix.SYS_GETEGID: {Name: "getegid", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) {
			return uint64(t.Creds().EffectiveGID), nil
		}},
		unix.SYS_GETRESUID: {Name: "getresuid", Fn: Getresuid},
		unix.SYS_GETRESGID: {Name: "getresgid", Fn: Getresgid},
		unix.SYS_SETUID:    {Name: "setuid", Fn: Setuid},
		unix.SYS_SETGID:    {Name: "setgid", Fn: Setgid},
		unix.SYS_SETREUID:  {Name: "setreuid", Fn: Setreuid},
		unix.SYS_SETREGID:  {Name: "setregid", Fn: Setregid},
		unix.SYS_SETRESUID: {Name: "setresuid", Fn: Setresuid},
		unix.SYS_SETRESGID: {Name: "setresgid", Fn: Setresgid},
		unix.SYS_SETFSUID:  {Name: "setfsuid", Fn: Setfsuid},
		unix.SYS_SETFSGID:  {Name: "setfsgid", Fn: Setfsgid},
		unix.SYS_GETGROUPS: {Name: "getgroups", Fn: Getgroups},
		unix.SYS_SETGROUPS: {Name: "setgroups", Fn: Setgroups},
		unix.SYS_CAPGET:    {Name: "capget", Fn: Capget},
		unix.SYS_CAPSET:    {Name: "capset", Fn: Capset},
		unix.SYS_GETPGRP: {Name: "getpgrp", Fn: func(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) {
			return uint64(t.ThreadGroup().PGID()), nil
		}},
		unix.SYS_GETPGID: {Name: "getpgid", Fn: func(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
			id, err := t.Kernel().GetPGIDOf(t.ThreadGroup(), int32(a[0]))
			return uint64(id), err
		}},
		unix.SYS_SETPGID: {Name: "setpgid", Fn: func(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
			return 0, t.Kernel().SetPGID(t.ThreadGroup(), int32(a[0]), int32(a[1]))
		}},
		unix.SYS_GETSID: {Name: "getsid", Fn: func(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
			id, err := t.Kernel().GetSIDOf(t.ThreadGroup(), int32(a[0]))
			return uint64(id), err
		}},
		unix.SYS_SETSID: {Name: "setsid", Fn: func(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
			id, err := t.Kernel().Setsid(t.ThreadGroup())
			return uint64(id), err
		}},
	}
}

const capSetUID, capSetGID, capSetPCap = 7, 6, 8

func putU32s(t *kernel.Task, addrs []uint64, vals []uint32) error {
	for i, a := range addrs {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], vals[i])
		if _, err := t.CopyOut(a, b[:]); err != nil {
			return unix.EFAULT
		}
	}
	return nil
}

// Getresuid implements getresuid(2).
func Getresuid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	c := t.Creds()
	return 0, putU32s(t, a[:3], []uint32{c.RealUID, c.EffectiveUID, c.SavedUID})
}

// Getresgid implements getresgid(2).
func Getresgid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	c := t.Creds()
	return 0, putU32s(t, a[:3], []uint32{c.RealGID, c.EffectiveGID, c.SavedGID})
}

// setres is the common core of the set*uid family: -1 means unchanged; an
// unprivileged caller may only use its current real, effective or saved
// IDs.
func setres(t *kernel.Task, r, e, s int64, gid bool) error {
	c := t.Creds()
	cur := [3]uint32{c.RealUID, c.EffectiveUID, c.SavedUID}
	capNeeded := capSetUID
	if gid {
		cur = [3]uint32{c.RealGID, c.EffectiveGID, c.SavedGID}
		capNeeded = capSetGID
	}
	priv := c.HasCap(capNeeded)
	allowed := func(v int64) bool {
		return v == -1 || priv || uint32(v) == cur[0] || uint32(v) == cur[1] || uint32(v) == cur[2]
	}
	for _, v := range []int64{r, e, s} {
		if v < -1 || v > 0xfffffffe {
			return unix.EINVAL
		}
		if !allowed(v) {
			return unix.EPERM
		}
	}
	n := c.Fork()
	set := func(dst *uint32, v int64) {
		if v != -1 {
			*dst = uint32(v)
		}
	}
	if gid {
		set(&n.RealGID, r)
		set(&n.EffectiveGID, e)
		set(&n.SavedGID, s)
		n.FSGID = n.EffectiveGID
	} else {
		oldRoot := c.RealUID == 0 || c.EffectiveUID == 0 || c.SavedUID == 0
		set(&n.RealUID, r)
		set(&n.EffectiveUID, e)
		set(&n.SavedUID, s)
		n.FSUID = n.EffectiveUID
		// Capability rules of setuid(7) for root transitions.
		if oldRoot && n.RealUID != 0 && n.EffectiveUID != 0 && n.SavedUID != 0 && !n.KeepCaps {
			n.Permitted, n.Effective, n.Ambient = 0, 0, 0
		}
		if c.EffectiveUID == 0 && n.EffectiveUID != 0 {
			n.Effective = 0
		}
		if c.EffectiveUID != 0 && n.EffectiveUID == 0 {
			n.Effective = n.Permitted
		}
	}
	n.Finish()
	t.SetCreds(n)
	return nil
}

// Setuid implements setuid(2).
func Setuid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	uid := int64(uint32(a[0]))
	if uint32(a[0]) == 0xffffffff {
		return 0, unix.EINVAL
	}
	if t.Creds().HasCap(capSetUID) {
		return 0, setres(t, uid, uid, uid, false)
	}
	return 0, setres(t, -1, uid, -1, false)
}

// Setgid implements setgid(2).
func Setgid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	gid := int64(uint32(a[0]))
	if uint32(a[0]) == 0xffffffff {
		return 0, unix.EINVAL
	}
	if t.Creds().HasCap(capSetGID) {
		return 0, setres(t, gid, gid, gid, true)
	}
	return 0, setres(t, -1, gid, -1, true)
}

func id32(v uint64) int64 {
	if uint32(v) == 0xffffffff {
		return -1
	}
	return int64(uint32(v))
}

// Setreuid implements setreuid(2).
func Setreuid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, setre(t, a, false)
}

// Setregid implements setregid(2).
func Setregid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, setre(t, a, true)
}

// setre implements setreuid/setregid: the saved ID follows the effective
// one when the real ID is set or the effective one changes to something
// other than the real ID.
func setre(t *kernel.Task, a *kernel.SyscallArgs, gid bool) error {
	r, e := id32(a[0]), id32(a[1])
	c := t.Creds()
	real, eff := c.RealUID, c.EffectiveUID
	if gid {
		real, eff = c.RealGID, c.EffectiveGID
	}
	s := int64(-1)
	if r != -1 || (e != -1 && uint32(e) != real) {
		s = int64(eff)
		if e != -1 {
			s = e
		}
	}
	return setres(t, r, e, s, gid)
}

// Setresuid implements setresuid(2).
func Setresuid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, setres(t, id32(a[0]), id32(a[1]), id32(a[2]), false)
}

// Setresgid implements setresgid(2).
func Setresgid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, setres(t, id32(a[0]), id32(a[1]), id32(a[2]), true)
}

// Setfsuid implements setfsuid(2): it always returns the previous fsuid.
func Setfsuid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return uint64(setfs(t, uint32(a[0]), false)), nil
}

// Setfsgid implements setfsgid(2): it always returns the previous fsgid.
func Setfsgid(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return uint64(setfs(t, uint32(a[0]), true)), nil
}

// capFSSet are the capabilities that follow the fsuid (Linux's CAP_FS_SET):
// CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, LINUX_IMMUTABLE,
// MKNOD and MAC_OVERRIDE.
const capFSSet = 1<<unix.CAP_CHOWN | 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH |
	1<<unix.CAP_FOWNER | 1<<unix.CAP_FSETID | 1<<unix.CAP_LINUX_IMMUTABLE | 1<<unix.CAP_MKNOD |
	1<<unix.CAP_MAC_OVERRIDE

// setfs changes the fsuid (or fsgid) to v when allowed and returns the old
// value.
func setfs(t *kernel.Task, v uint32, gid bool) uint32 {
	c := t.Creds()
	ids := [4]uint32{c.FSUID, c.RealUID, c.EffectiveUID, c.SavedUID}
	capNeeded := capSetUID
	if gid {
		ids = [4]uint32{c.FSGID, c.RealGID, c.EffectiveGID, c.SavedGID}
		capNeeded = capSetGID
	}
	old := ids[0]
	if v == 0xffffffff || !(c.HasCap(capNeeded) || v == ids[1] || v == ids[2] || v == ids[3]) {
		return old
	}
	n := c.Fork()
	if gid {
		n.FSGID = v
	} else {
		n.FSUID = v
		// Leaving fsuid 0 drops the file-system capabilities from the
		// effective set; returning to it raises the permitted ones.
		switch {
		case old == 0 && v != 0:
			n.Effective &^= capFSSet
		case old != 0 && v == 0:
			n.Effective |= n.Permitted & capFSSet
		}
	}
	n.Finish()
	t.SetCreds(n)
	return old
}

// Getgroups implements getgroups(2).
func Getgroups(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	g := t.Creds().Groups
	size := int32(a[0])
	if size < 0 {
		return 0, unix.EINVAL
	}
	if size == 0 {
		return uint64(len(g)), nil
	}
	if int(size) < len(g) {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*len(g))
	for i, v := range g {
		binary.LittleEndian.PutUint32(b[i*4:], v)
	}
	if _, err := t.CopyOut(a[1], b); err != nil {
		return 0, unix.EFAULT
	}
	return uint64(len(g)), nil
}

// Setgroups implements setgroups(2).
func Setgroups(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	n := int64(a[0])
	if n < 0 || n > 65536 {
		return 0, unix.EINVAL
	}
	if !t.Creds().HasCap(capSetGID) {
		return 0, unix.EPERM
	}
	b := make([]byte, 4*n)
	if _, err := t.CopyIn(a[1], b); err != nil && n > 0 {
		return 0, unix.EFAULT
	}
	groups := make([]uint32, n)
	for i := range groups {
		groups[i] = binary.LittleEndian.Uint32(b[i*4:])
	}
	c := t.Creds().Fork()
	c.Groups = groups
	c.Finish()
	t.SetCreds(c)
	return 0, nil
}

// Capget implements capget(2) (versions 1, 2 and 3).
func Capget(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	var hdr [8]byte
	if _, err := t.CopyIn(a[0], hdr[:]); err != nil {
		return 0, unix.EFAULT
	}
	version := binary.LittleEndian.Uint32(hdr[:])
	words := 2
	switch version {
	case unix.LINUX_CAPABILITY_VERSION_1:
		words = 1
	case unix.LINUX_CAPABILITY_VERSION_2, unix.LINUX_CAPABILITY_VERSION_3:
	default:
		binary.LittleEndian.PutUint32(hdr[:], unix.LINUX_CAPABILITY_VERSION_3)
		t.CopyOut(a[0], hdr[:4])
		if a[1] == 0 {
			return 0, nil
		}
		return 0, unix.EINVAL
	}
	pid := int32(binary.LittleEndian.Uint32(hdr[4:]))
	target := t
	if pid != 0 {
		target = t.Kernel().TaskByTID(pid)
		if target == nil {
			return 0, unix.ESRCH
		}
	}
	if a[1] == 0 {
		return 0, nil
	}
	c := target.Creds()
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		binary.LittleEndian.PutUint32(b[i*12:], uint32(c.Effective>>(32*i)))
		binary.LittleEndian.PutUint32(b[i*12+4:], uint32(c.Permitted>>(32*i)))
		binary.LittleEndian.PutUint32(b[i*12+8:], uint32(c.Inheritable>>(32*i)))
	}
	if _, err := t.CopyOut(a[1], b); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// Capset implements capset(2) for the calling thread.
func Capset(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	var hdr [8]byte
	if _, err := t.CopyIn(a[0], hdr[:]); err != nil {
		return 0, unix.EFAULT
	}
	version := binary.LittleEndian.Uint32(hdr[:])
	words := 2
	switch version {
	case unix.LINUX_CAPABILITY_VERSION_1:
		words = 1
	case unix.LINUX_CAPABILITY_VERSION_2, unix.LINUX_CAPABILITY_VERSION_3:
	default:
		return 0, unix.EINVAL
	}
	if pid := int32(binary.LittleEndian.Uint32(hdr[4:])); pid != 0 && pid != t.TID() {
		return 0, unix.EPERM
	}
	b := make([]byte, 12*words)
	if _, err := t.CopyIn(a[1], b); err != nil {
		return 0, unix.EFAULT
	}
	var eff, perm, inh uint64
	for i := 0; i < words; i++ {
		eff |= uint64(binary.LittleEndian.Uint32(b[i*12:])) << (32 * i)
		perm |= uint64(binary.LittleEndian.Uint32(b[i*12+4:])) << (32 * i)
		inh |= uint64(binary.LittleEndian.Uint32(b[i*12+8:])) << (32 * i)
	}
	c := t.Creds()
	if perm&^c.Permitted != 0 || eff&^perm != 0 {
		return 0, unix.EPERM
	}
	if !c.HasCap(capSetPCap) && inh&^(c.Inheritable|c.Permitted) != 0 {
		return 0, unix.EPERM
	}
	if inh&^(c.Inheritable|c.Bounding) != 0 {
		return 0, unix.EPERM
	}
	n := c.Fork()
	n.Effective, n.Permitted, n.Inheritable = eff, perm, inh
	// The ambient set stays within permitted and inheritable.
	n.Ambient &= perm & inh
	n.Finish()
	t.SetCreds(n)
	return 0, nil
}
