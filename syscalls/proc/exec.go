package proc

import (
	"crypto/rand"
	"encoding/binary"
	"path"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/loader"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/syscalls/mem"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// Limits on execve arguments, as Linux's MAX_ARG_STRLEN and a total of a
// quarter of the default stack limit.
const (
	maxArgStrlen = 32 * 4096
	maxArgTotal  = 2 << 20
	maxArgCount  = 0x7fffffff / 8
)

// ProcessInfo is the per-process state this package keeps in
// ThreadGroup.Ext (read by procfs through ExePath).
type ProcessInfo struct {
	Exe string
}

// ExePath returns the path of the process's executable.
func (p *ProcessInfo) ExePath() string { return p.Exe }

// Execve implements execve(2).
func Execve(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	p, err := t.CopyInString(a[0], unix.PathMax)
	if err != nil {
		return 0, err
	}
	return execAt(t, unix.AT_FDCWD, p, a[1], a[2], 0)
}

// Execveat implements execveat(2).
func Execveat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	p, err := t.CopyInString(a[1], unix.PathMax)
	if err != nil {
		return 0, err
	}
	flags := int(a[4])
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	return execAt(t, int32(a[0]), p, a[2], a[3], flags)
}

// copyInStrings reads a NULL-terminated array of string pointers.
func copyInStrings(t *kernel.Task, addr uint64, total *int) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	for i := 0; ; i++ {
		if i >= maxArgCount {
			return nil, unix.E2BIG
		}
		var b [8]byte
		if _, err := t.CopyIn(addr+uint64(i)*8, b[:]); err != nil {
			return nil, unix.EFAULT
		}
		p := binary.LittleEndian.Uint64(b[:])
		if p == 0 {
			return out, nil
		}
		s, err := t.CopyInString(p, maxArgStrlen)
		if err == unix.ENAMETOOLONG {
			return nil, unix.E2BIG
		}
		if err != nil {
			return nil, err
		}
		*total += len(s) + 1 + 8
		if *total > maxArgTotal {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

func execAt(t *kernel.Task, dirfd int32, p string, argvAddr, envAddr uint64, flags int) (uint64, error) {
	total := 0
	argv, err := copyInStrings(t, argvAddr, &total)
	if err != nil {
		return 0, err
	}
	envv, err := copyInStrings(t, envAddr, &total)
	if err != nil {
		return 0, err
	}
	k := t.Kernel()
	ctx := t.VFSContext()
	root := t.FS.Root()
	defer root.DecRef()
	start := t.FS.Cwd()
	defer start.DecRef()
	if dirfd != unix.AT_FDCWD && (len(p) == 0 || p[0] != '/') {
		f, err := t.GetFile(dirfd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef(ctx)
		if p == "" {
			if flags&unix.AT_EMPTY_PATH == 0 {
				return 0, unix.ENOENT
			}
			full, err := k.VFS().PathOf(root, f.Location())
			if err != nil {
				return 0, err
			}
			p = full
		} else {
			start.DecRef()
			start = f.Location()
			start.IncRef()
		}
	}
	if p == "" {
		return 0, unix.ENOENT
	}
	img, err := Load(k, t.VFSContext(), root, start, p, argv, envv, t.Creds(), t.ThreadGroup().GetLimit(unix.RLIMIT_STACK).Cur)
	if err != nil {
		return 0, err
	}
	if err := t.BeginExec(); err != nil {
		img.MM.Release()
		return 0, err
	}
	if err := t.AttachExecAddressSpace(img.MM); err != nil {
		img.MM.Release()
		return 0, err
	}
	t.UnshareFiles()
	t.SetCreds(execCreds(t.Creds()))
	t.ThreadGroup().Ext = &ProcessInfo{Exe: img.Exe}
	t.CommitExec(img.MM, img.Entry, img.Stack, img.Name)
	return 0, nil
}

// Image is a program loaded into a fresh address space, ready for
// CommitExec or CreateInit.
type Image struct {
	MM           *mm.MM
	Entry, Stack uint64
	Name         string // comm: the executable's base name
	Exe          string // executable path for /proc/PID/exe
}

// Load loads the program at p (relative to start) with argv and envv into a
// new address space, as execve does before its point of no return.
// stackLimit is the process's RLIMIT_STACK.
func Load(k *kernel.Kernel, ctx vfs.Context, root, start vfs.Location, p string, argv, envv []string, creds *kernel.Credentials, stackLimit uint64) (*Image, error) {
	// Detached: execve attaches a platform address space (possibly the old
	// image's) only once loading succeeded.
	m := mm.NewDetached(k.BackingFiles, k.Platform)
	var rnd [16]byte
	rand.Read(rnd[:])
	res, err := loader.Load(m, loader.Args{Path: p, Argv: argv, Envv: envv,
		Open:   func(name string) (loader.File, error) { return OpenExec(k, ctx, root, start, name) },
		Creds:  [4]uint32{creds.RealUID, creds.EffectiveUID, creds.RealGID, creds.EffectiveGID},
		Random: rnd, HWCap: HWCap(), HWCap2: 2, VDSO: k.MapVDSO, StackLimit: stackLimit})
	if err != nil {
		m.Release()
		return nil, err
	}
	defer res.Exe.Release()
	if ef, ok := res.Exe.(*execFile); ok {
		if err := ef.denyWriteWhileRunning(m); err != nil {
			m.Release()
			return nil, err
		}
	}
	img := &Image{MM: m, Entry: res.Entry, Stack: res.Stack, Name: path.Base(res.ExecPath), Exe: res.Exe.Name()}
	if len(argv) == 0 {
		img.Name = path.Base(p)
	}
	return img, nil
}

// HWCap is the AT_HWCAP value: the CPUID(1).EDX feature bits.
func HWCap() uint64 { return hwcap }

var hwcap = cpuid1EDX()

// execFile is an opened executable.
type execFile struct {
	f     *vfs.File
	k     *kernel.Kernel
	ctx   vfs.Context
	mp    mm.Mappable
	st    vfs.Statx
	name  string
	allow func() // ends the denial of write access taken by OpenExec
}

// OpenExec opens name for execution relative to start.
func OpenExec(k *kernel.Kernel, ctx vfs.Context, root, start vfs.Location, name string) (loader.File, error) {
	v := k.VFS()
	f, err := v.OpenAt(ctx, root, start, name, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat(ctx)
	if err != nil {
		f.DecRef(ctx)
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.DecRef(ctx)
		return nil, unix.EACCES
	}
	if err := v.CheckPermission(ctx, f.Location(), vfs.MayExec); err != nil {
		f.DecRef(ctx)
		return nil, err
	}
	if f.Location().Mount.Flags()&vfs.MountNoExec != 0 {
		f.DecRef(ctx)
		return nil, unix.EACCES
	}
	// Like Linux's open_exec: ETXTBSY if the file is open for writing,
	// and no opening it for writing while it is being loaded.
	allow, err := v.DenyWrite(f)
	if err != nil {
		f.DecRef(ctx)
		return nil, err
	}
	mp, err := mem.FileMappable(k, f)
	if err != nil {
		allow()
		f.DecRef(ctx)
		return nil, err
	}
	full, _ := v.PathOf(root, f.Location())
	return &execFile{f: f, k: k, ctx: ctx, mp: mp, st: st, name: full, allow: allow}, nil
}

// denyWriteWhileRunning denies write access to the executable for as long
// as m is in use (Linux's mm->exe_file).
func (e *execFile) denyWriteWhileRunning(m *mm.MM) error {
	allow, err := e.k.VFS().DenyWrite(e.f)
	if err != nil {
		return err
	}
	m.SetExeRelease(allow)
	return nil
}

func (e *execFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		r, err := e.f.PRead(e.ctx, p[n:], off+int64(n))
		n += r
		if err != nil || r == 0 {
			return n, err
		}
	}
	return n, nil
}

func (e *execFile) Mappable() mm.Mappable { return e.mp }

func (e *execFile) Name() string { return e.name }

func (e *execFile) DevIno() (uint64, uint64) {
	return uint64(e.st.Dev_major)<<8 | uint64(e.st.Dev_minor), e.st.Ino
}

func (e *execFile) Release() {
	e.allow()
	e.mp.DecRef()
	e.f.DecRef(e.ctx)
}

// execCreds returns the credentials after execve by capabilities(7)'s
// rules for a program without file capabilities or set-ID bits (the
// sentry honours neither): root (real or effective UID 0) is permitted
// its bounding and inheritable sets, effective too if its effective UID
// is 0; everyone keeps the ambient set, which is all others keep.
func execCreds(c *kernel.Credentials) *kernel.Credentials {
	n := c.Fork()
	n.KeepCaps = false // execve clears PR_SET_KEEPCAPS
	n.Permitted = 0
	root := c.RealUID == 0 || c.EffectiveUID == 0
	if root {
		n.Permitted = c.Bounding | c.Inheritable
	}
	n.Permitted |= c.Ambient
	n.Effective = c.Ambient
	if c.EffectiveUID == 0 {
		n.Effective = n.Permitted
	}
	n.Finish()
	return n
}
