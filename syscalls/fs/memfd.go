package fs

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// memfd_create makes an O_TMPFILE regular file in a private, Sealable
// tmpfs instance (one per VFS, mounted nowhere). File seals (F_ADD_SEALS)
// live in the tmpfs inode (tmpfs.Seals) and are enforced by this package's
// write, truncate, fallocate and chmod paths.

// memfdNameMax is MFD_NAME_MAX_LEN (NAME_MAX minus "memfd:").
const memfdNameMax = 249

const memfdFlags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING | unix.MFD_HUGETLB |
	unix.MFD_NOEXEC_SEAL | unix.MFD_EXEC | unix.MFD_HUGE_MASK<<unix.MFD_HUGE_SHIFT

// memfdMounts maps each VFS to its memfd tmpfs root.
var (
	memfdMu     sync.Mutex
	memfdMounts = map[*vfs.VFS]vfs.Location{}
)

// memfdRoot returns the root of t's VFS's memfd filesystem.
func memfdRoot(t *kernel.Task) (vfs.Location, error) {
	v := t.Kernel().VFS()
	memfdMu.Lock()
	defer memfdMu.Unlock()
	if l, ok := memfdMounts[v]; ok {
		return l, nil
	}
	fs, err := tmpfs.New(v, t.Kernel().MemFile, tmpfs.Options{RootMode: 0o1777, Sealable: true})
	if err != nil {
		return vfs.Location{}, err
	}
	l := v.NewInternalMount(fs)
	memfdMounts[v] = l
	return l, nil
}

// checkMemfdFlags validates memfd_create flags.
func checkMemfdFlags(flags uint32) error {
	if flags&^uint32(memfdFlags) != 0 {
		return unix.EINVAL
	}
	if flags&unix.MFD_HUGETLB == 0 && flags&(unix.MFD_HUGE_MASK<<unix.MFD_HUGE_SHIFT) != 0 {
		return unix.EINVAL
	}
	if flags&unix.MFD_HUGETLB != 0 {
		// No huge pages in the memory file: as on a host without them.
		return unix.EINVAL
	}
	if flags&unix.MFD_EXEC != 0 && flags&unix.MFD_NOEXEC_SEAL != 0 {
		return unix.EINVAL
	}
	return nil
}

// MemfdCreate implements memfd_create(2).
func MemfdCreate(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	flags := argFlags(a[1])
	if err := checkMemfdFlags(flags); err != nil {
		return 0, err
	}
	name, err := t.CopyInString(a[0], memfdNameMax+1)
	if err == unix.ENAMETOOLONG {
		return 0, unix.EINVAL
	}
	if err != nil {
		return 0, unix.EFAULT
	}
	root, err := memfdRoot(t)
	if err != nil {
		return 0, err
	}
	mode := uint32(0o777)
	seals := uint32(unix.F_SEAL_SEAL)
	if flags&unix.MFD_ALLOW_SEALING != 0 {
		seals = 0
	}
	if flags&unix.MFD_NOEXEC_SEAL != 0 {
		// Implies MFD_ALLOW_SEALING.
		mode = 0o666
		seals = unix.F_SEAL_EXEC
	}
	f, err := t.Kernel().VFS().OpenAt(ctx(t), root, root, "/", unix.O_TMPFILE|unix.O_RDWR|linux.O_LARGEFILE, mode)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	t.Kernel().VFS().NameTmpfile(f.Location(), "memfd:"+name)
	if seals != 0 {
		if err := tmpfs.SealsOf(f).Add(seals); err != nil {
			return 0, err
		}
	}
	fd, err := t.NewFD(f, flags&unix.MFD_CLOEXEC != 0)
	return uint64(fd), err
}

// writeSeals are the seals that restrict writes or size changes.
const writeSeals = unix.F_SEAL_WRITE | unix.F_SEAL_FUTURE_WRITE | unix.F_SEAL_GROW | unix.F_SEAL_SHRINK

// sealsOf returns f's seals (0 for a file that cannot have any).
func sealsOf(f *vfs.File) uint32 {
	if s := tmpfs.SealsOf(f); s != nil {
		return s.Get()
	}
	return 0
}

// checkSealsWrite refuses a write of n bytes at pos that the seals forbid.
func checkSealsWrite(t *kernel.Task, f *vfs.File, seals uint32, pos, n int64) error {
	if seals == 0 || n == 0 {
		return nil
	}
	if seals&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0 {
		return unix.EPERM
	}
	if seals&unix.F_SEAL_GROW != 0 {
		st, err := f.Stat(ctx(t))
		if err != nil {
			return err
		}
		if pos+n > int64(st.Size) {
			return unix.EPERM
		}
	}
	return nil
}

// checkSealsResize refuses a size change to size that the seals forbid.
func checkSealsResize(t *kernel.Task, f *vfs.File, size int64) error {
	seals := sealsOf(f)
	if seals&(unix.F_SEAL_GROW|unix.F_SEAL_SHRINK) == 0 {
		return nil
	}
	st, err := f.Stat(ctx(t))
	if err != nil {
		return err
	}
	if (size > int64(st.Size) && seals&unix.F_SEAL_GROW != 0) || (size < int64(st.Size) && seals&unix.F_SEAL_SHRINK != 0) {
		return unix.EPERM
	}
	return nil
}

// allSeals are the seals F_ADD_SEALS accepts.
const allSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE |
	unix.F_SEAL_FUTURE_WRITE | unix.F_SEAL_EXEC

// fcntlSeals implements F_ADD_SEALS and F_GET_SEALS; files that cannot
// have seals (only tmpfs files can, as Linux's shmem files) are EINVAL.
func fcntlSeals(t *kernel.Task, f *vfs.File, cmd int32, arg uint64) (uint64, error) {
	if cmd != fGetSeals && !f.Writable() {
		return 0, unix.EPERM // before anything else, as on Linux
	}
	s := tmpfs.SealsOf(f)
	if s == nil {
		return 0, unix.EINVAL
	}
	if cmd == fGetSeals {
		return uint64(s.Get()), nil
	}
	add := uint32(arg)
	if add&^allSeals != 0 {
		return 0, unix.EINVAL
	}
	// F_SEAL_EXEC also forbids chmod of the exec bits; Fchmod checks it.
	return 0, s.Add(add)
}

// MapShared is asked by mmap before it maps f shared; maxWrite says whether
// the mapping may ever be written (now or after mprotect). Only a sealed
// file (tmpfs.Seals.MapShared) restricts or counts the mapping.
func MapShared(f *vfs.File, write, maxWrite bool) (mayWrite bool, release func(), err error) {
	s := tmpfs.SealsOf(f)
	if s == nil {
		return maxWrite, func() {}, nil
	}
	return s.MapShared(write, maxWrite)
}
