// Package mem implements the memory-management system calls: mmap, munmap,
// mprotect, mremap, brk, madvise, msync, mincore and the mlock family.
package mem

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/syscalls/fs"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/devfs"
)

// Syscalls returns the memory system calls.
func Syscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_MMAP:       {Name: "mmap", Fn: Mmap},
		unix.SYS_MUNMAP:     {Name: "munmap", Fn: Munmap},
		unix.SYS_MPROTECT:   {Name: "mprotect", Fn: Mprotect},
		unix.SYS_MREMAP:     {Name: "mremap", Fn: Mremap},
		unix.SYS_BRK:        {Name: "brk", Fn: Brk},
		unix.SYS_MADVISE:    {Name: "madvise", Fn: Madvise},
		unix.SYS_MSYNC:      {Name: "msync", Fn: Msync},
		unix.SYS_MINCORE:    {Name: "mincore", Fn: Mincore},
		unix.SYS_MLOCK:      {Name: "mlock", Fn: mlock},
		unix.SYS_MLOCK2:     {Name: "mlock2", Fn: mlock2},
		unix.SYS_MUNLOCK:    {Name: "munlock", Fn: munlock},
		unix.SYS_MLOCKALL:   {Name: "mlockall", Fn: mlockall},
		unix.SYS_MUNLOCKALL: {Name: "munlockall", Fn: munlockall},
	}
}

func protToAccess(prot uint64) platform.Access {
	return platform.Access{Read: prot&linux.PROT_READ != 0, Write: prot&linux.PROT_WRITE != 0,
		Execute: prot&linux.PROT_EXEC != 0}
}

// legacyMapFlags are the flags MAP_SHARED_VALIDATE accepts (Linux's
// LEGACY_MAP_MASK); any other flag is EOPNOTSUPP with it.
const legacyMapFlags = linux.MAP_SHARED | linux.MAP_PRIVATE | linux.MAP_FIXED | linux.MAP_ANONYMOUS | linux.MAP_DENYWRITE |
	linux.MAP_EXECUTABLE | 0x4000000 /* MAP_UNINITIALIZED */ | linux.MAP_GROWSDOWN | linux.MAP_LOCKED |
	linux.MAP_NORESERVE | linux.MAP_POPULATE | linux.MAP_NONBLOCK | linux.MAP_STACK | linux.MAP_HUGETLB |
	linux.MAP_32BIT | 0xfc000000 /* MAP_HUGE_MASK */

// Mmap implements mmap(2). Unknown PROT_ bits are ignored, as Linux does.
func Mmap(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], a[2], a[3], int32(a[4]), int64(a[5])
	typ := flags & linux.MAP_TYPE
	anon := flags&linux.MAP_ANONYMOUS != 0
	switch {
	case typ == linux.MAP_SHARED_VALIDATE && anon:
		return 0, unix.EINVAL
	case typ == linux.MAP_SHARED_VALIDATE && flags&^uint64(legacyMapFlags) != 0:
		return 0, unix.EOPNOTSUPP
	case typ != linux.MAP_SHARED && typ != linux.MAP_PRIVATE && typ != linux.MAP_SHARED_VALIDATE:
		return 0, unix.EINVAL
	}
	if length == 0 || off < 0 || off&(linux.PageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	o := mm.MapOpts{
		Addr: addr, Length: length, Perm: protToAccess(prot),
		Fixed:     flags&linux.MAP_FIXED != 0,
		NoReplace: flags&linux.MAP_FIXED_NOREPLACE != 0,
		Shared:    typ != linux.MAP_PRIVATE,
		GrowsDown: flags&linux.MAP_GROWSDOWN != 0,
		Populate:  flags&linux.MAP_POPULATE != 0 && flags&linux.MAP_NONBLOCK == 0,
		Offset:    off,
	}
	if lim := t.ThreadGroup().GetLimit(unix.RLIMIT_AS).Cur; lim != unix.RLIM_INFINITY {
		o.MaxVirtual = lim
	}
	if anon {
		o.Offset = 0
		nameSharedAnon(t, &o)
		return t.MM().Map(o)
	}
	f, err := t.GetFile(fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.VFSContext())
	if f.IsPath() {
		return 0, unix.EBADF // O_PATH descriptors refuse all I/O
	}
	release, err := fileMapOpts(t, f, &o)
	if err != nil {
		return 0, err
	}
	defer release()
	return t.MM().Map(o)
}

// fileMapOpts fills in o's backing for a mapping of f and returns what drops
// the reference it took. Only regular files can be mapped; /dev/zero gives
// anonymous memory, as on Linux.
func fileMapOpts(t *kernel.Task, f *vfs.File, o *mm.MapOpts) (func(), error) {
	st, err := f.Stat(t.VFSContext())
	if err != nil {
		return nil, err
	}
	isZero := st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev_major == devfs.MemMajor && st.Rdev_minor == devfs.ZeroMinor
	if st.Mode&unix.S_IFMT != unix.S_IFREG && !isZero {
		return nil, unix.ENODEV
	}
	if !f.Readable() {
		return nil, unix.EACCES
	}
	if o.Shared && o.Perm.Write && !f.Writable() {
		return nil, unix.EACCES
	}
	if isZero {
		o.Offset = 0
		nameSharedAnon(t, o)
		return func() {}, nil
	}
	o.MaxPerm = platform.AnyAccess
	release := func() {}
	if o.Shared {
		o.MaxPerm.Write, release, err = fs.MapShared(f, o.Perm.Write, f.Writable())
		if err != nil {
			return nil, err
		}
	}
	mp, err := newFileMappable(t.Kernel(), f, release)
	if err != nil {
		release()
		return nil, err
	}
	o.File = mp
	o.Dev = uint64(st.Dev_major)<<8 | uint64(st.Dev_minor)
	o.Ino = st.Ino
	mp.root = t.FS.Root()
	return mp.DecRef, nil
}

// nameSharedAnon names shared anonymous memory as Linux's
// shmem_zero_setup does: a deleted /dev/zero on the internal shmem mount
// (device 0:1), with an inode of its own.
func nameSharedAnon(t *kernel.Task, o *mm.MapOpts) {
	if o.Shared {
		o.Name = "/dev/zero (deleted)"
		o.Dev = 1
		o.Ino = t.Kernel().VFS().NewAnonIno()
	}
}

// Munmap implements munmap(2).
func Munmap(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, t.MM().Unmap(a[0], a[1])
}

// Mprotect implements mprotect(2).
func Mprotect(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	prot := a[2]
	if prot&^uint64(linux.PROT_READ|linux.PROT_WRITE|linux.PROT_EXEC|linux.PROT_GROWSDOWN|linux.PROT_GROWSUP) != 0 {
		return 0, unix.EINVAL
	}
	switch prot & (linux.PROT_GROWSDOWN | linux.PROT_GROWSUP) {
	case 0:
		return 0, t.MM().Protect(a[0], a[1], protToAccess(prot))
	case linux.PROT_GROWSDOWN:
		return 0, t.MM().ProtectGrowsDown(a[0], a[1], protToAccess(prot))
	}
	// Both, or PROT_GROWSUP: x86 has no grows-up mappings.
	return 0, unix.EINVAL
}

// Mremap implements mremap(2).
func Mremap(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	flags := int(a[3])
	if flags&^(linux.MREMAP_MAYMOVE|linux.MREMAP_FIXED|linux.MREMAP_DONTUNMAP) != 0 {
		return 0, unix.EINVAL
	}
	pageUp := func(n uint64) uint64 { return (n + linux.PageSize - 1) &^ (linux.PageSize - 1) }
	if flags&linux.MREMAP_DONTUNMAP != 0 && (flags&linux.MREMAP_MAYMOVE == 0 || pageUp(a[1]) != pageUp(a[2])) {
		return 0, unix.EINVAL
	}
	grow := pageUp(a[2])
	if flags&linux.MREMAP_DONTUNMAP == 0 {
		grow -= min(grow, pageUp(a[1]))
	}
	if !asRoom(t, grow) {
		return 0, unix.ENOMEM
	}
	return t.MM().Remap(a[0], a[1], a[2], flags, a[4])
}

// asRoom reports whether the address space may grow by n bytes under
// RLIMIT_AS.
func asRoom(t *kernel.Task, n uint64) bool {
	lim := t.ThreadGroup().GetLimit(unix.RLIMIT_AS).Cur
	return n == 0 || lim == unix.RLIM_INFINITY || t.MM().VirtualSize()+n <= lim
}

// Brk implements brk(2); growing past RLIMIT_AS leaves the break as it is.
func Brk(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	cur := t.MM().Brk(0)
	pageUp := func(n uint64) uint64 { return (n + linux.PageSize - 1) &^ (linux.PageSize - 1) }
	if a[0] > cur && !asRoom(t, pageUp(a[0])-pageUp(cur)) {
		return cur, nil
	}
	return t.MM().Brk(a[0]), nil
}

// adviceOf maps madvise's advice to what the memory manager does about it;
// advice not listed is EINVAL.
var adviceOf = map[uint64]mm.Advice{
	linux.MADV_DONTNEED: mm.AdviceDontNeed, linux.MADV_FREE: mm.AdviceFree,
	linux.MADV_REMOVE: mm.AdviceRemove, linux.MADV_DONTFORK: mm.AdviceDontFork,
	linux.MADV_DOFORK: mm.AdviceDoFork, linux.MADV_WIPEONFORK: mm.AdviceWipeOnFork,
	linux.MADV_KEEPONFORK: mm.AdviceKeepOnFork,
	linux.MADV_NORMAL:     mm.AdviceHint, linux.MADV_RANDOM: mm.AdviceHint,
	linux.MADV_SEQUENTIAL: mm.AdviceHint, linux.MADV_WILLNEED: mm.AdviceHint,
	linux.MADV_MERGEABLE: mm.AdviceHint, linux.MADV_UNMERGEABLE: mm.AdviceHint,
	linux.MADV_HUGEPAGE: mm.AdviceHint, linux.MADV_NOHUGEPAGE: mm.AdviceHint,
	linux.MADV_DONTDUMP: mm.AdviceHint, linux.MADV_DODUMP: mm.AdviceHint,
	linux.MADV_COLD: mm.AdviceHint, linux.MADV_PAGEOUT: mm.AdviceHint,
	linux.MADV_POPULATE_READ: mm.AdviceHint, linux.MADV_POPULATE_WRITE: mm.AdviceHint,
}

// Madvise implements madvise(2).
func Madvise(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	adv, ok := adviceOf[a[2]]
	if !ok {
		return 0, unix.EINVAL
	}
	return 0, t.MM().Advise(a[0], a[1], adv)
}

// Msync implements msync(2): memory-file pages are the file's pages, so
// there is nothing to write back; only the arguments are checked.
func Msync(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, length, flags := a[0], a[1], a[2]
	if addr&(linux.PageSize-1) != 0 || flags&^7 != 0 || (flags&1 != 0 && flags&4 != 0) {
		return 0, unix.EINVAL
	}
	if !t.MM().IsMapped(addr, length) {
		return 0, unix.ENOMEM
	}
	return 0, nil
}

// Mincore implements mincore(2).
func Mincore(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr, length, vec := a[0], a[1], a[2]
	if addr&(linux.PageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	pages := (length + linux.PageSize - 1) / linux.PageSize
	if pages > 1<<24 {
		return 0, unix.ENOMEM
	}
	if !t.MM().IsMapped(addr, pages*linux.PageSize) {
		return 0, unix.ENOMEM
	}
	out := make([]byte, pages)
	for i := range out {
		if t.MM().Resident(addr + uint64(i)*linux.PageSize) {
			out[i] = 1
		}
	}
	if _, err := t.CopyOut(vec, out); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// lockLimit is how many bytes t's address space may lock: RLIMIT_MEMLOCK,
// unless t has CAP_IPC_LOCK. A limit of 0 forbids mlock altogether (EPERM).
func lockLimit(t *kernel.Task) (uint64, error) {
	if t.Creds().HasCap(unix.CAP_IPC_LOCK) {
		return mm.NoLockLimit, nil
	}
	lim := t.ThreadGroup().GetLimit(unix.RLIMIT_MEMLOCK).Cur
	if lim == 0 {
		return 0, unix.EPERM
	}
	if lim == unix.RLIM_INFINITY {
		return mm.NoLockLimit, nil
	}
	return lim, nil
}

func mlock(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, lockRange(t, a[0], a[1], false)
}

func mlock2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	const mlockOnFault = 1
	if a[2]&^mlockOnFault != 0 {
		return 0, unix.EINVAL
	}
	return 0, lockRange(t, a[0], a[1], a[2]&mlockOnFault != 0)
}

func lockRange(t *kernel.Task, addr, length uint64, onFault bool) error {
	lim, err := lockLimit(t)
	if err != nil {
		return err
	}
	return t.MM().Lock(addr, length, true, onFault, lim)
}

func munlock(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, t.MM().Lock(a[0], a[1], false, false, mm.NoLockLimit)
}

func mlockall(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	const mclCurrent, mclFuture, mclOnFault = 1, 2, 4
	flags := a[0]
	if flags&^(mclCurrent|mclFuture|mclOnFault) != 0 || flags&(mclCurrent|mclFuture) == 0 {
		return 0, unix.EINVAL
	}
	lim, err := lockLimit(t)
	if err != nil {
		return 0, err
	}
	return 0, t.MM().LockAll(true, flags&mclCurrent != 0, flags&mclFuture != 0, flags&mclOnFault != 0, lim)
}

func munlockall(t *kernel.Task, _ *kernel.SyscallArgs) (uint64, error) {
	return 0, t.MM().LockAll(false, false, false, false, 0)
}

var _ vfs.Context = (*kernel.Task)(nil)
