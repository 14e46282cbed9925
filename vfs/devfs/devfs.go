// Package devfs builds the sandbox's /dev: a tmpfs holding the usual device
// nodes, symlinks and directories, and the character devices behind them
// (null, zero, full, random, urandom, tty, ptmx), registered with the VFS.
package devfs

import (
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

// Device numbers.
const (
	MemMajor     = 1 // null, zero, full, random, urandom
	NullMinor    = 3
	ZeroMinor    = 5
	FullMinor    = 7
	RandomMinor  = 8
	URandomMinor = 9

	TTYAuxMajor  = 5 // tty, console, ptmx
	TTYMinor     = 0
	ConsoleMinor = 1
	PtmxMinor    = 2
)

// MaxBytes is the size limit of the /dev tmpfs (Docker's /dev is a 64 MiB
// tmpfs).
const MaxBytes = 64 << 20

type node struct {
	name   string
	mode   uint32 // with file type
	rdev   uint64
	target string // symlinks
}

// nodes is the content of a new /dev.
var nodes = []node{
	{name: "null", mode: unix.S_IFCHR | 0o666, rdev: unix.Mkdev(MemMajor, NullMinor)},
	{name: "zero", mode: unix.S_IFCHR | 0o666, rdev: unix.Mkdev(MemMajor, ZeroMinor)},
	{name: "full", mode: unix.S_IFCHR | 0o666, rdev: unix.Mkdev(MemMajor, FullMinor)},
	{name: "random", mode: unix.S_IFCHR | 0o666, rdev: unix.Mkdev(MemMajor, RandomMinor)},
	{name: "urandom", mode: unix.S_IFCHR | 0o666, rdev: unix.Mkdev(MemMajor, URandomMinor)},
	{name: "tty", mode: unix.S_IFCHR | 0o666, rdev: unix.Mkdev(TTYAuxMajor, TTYMinor)},
	{name: "ptmx", mode: unix.S_IFCHR | 0o666, rdev: unix.Mkdev(TTYAuxMajor, PtmxMinor)},
	{name: "fd", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd"},
	{name: "stdin", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd/0"},
	{name: "stdout", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd/1"},
	{name: "stderr", mode: unix.S_IFLNK | 0o777, target: "/proc/self/fd/2"},
	{name: "shm", mode: unix.S_IFDIR | 0o1777},
	{name: "pts", mode: unix.S_IFDIR | 0o755},
}

// New registers the devices with v (RegisterDevices) and returns a new
// /dev filesystem to mount at /dev (without MS_NODEV): a tmpfs (data in mf,
// at most MaxBytes) whose root is mode 0755 and which holds null, zero,
// full, random, urandom, tty and ptmx (crw-rw-rw-), the fd, stdin, stdout
// and stderr symlinks to /proc/self/fd, and the directories shm (1777) and
// pts (0755).
func New(v *vfs.VFS, mf *memfile.File) (*vfs.Filesystem, error) {
	RegisterDevices(v)
	fs, err := tmpfs.New(v, mf, tmpfs.Options{RootMode: 0o755, MaxBytes: MaxBytes})
	if err != nil {
		return nil, err
	}
	ctx := vfs.NewContext(vfs.RootCredentials())
	root, ok := fs.Root().Inode().(vfs.DirInode)
	if !ok {
		return nil, unix.ENOTDIR
	}
	for _, n := range nodes {
		opts := vfs.CreateOptions{Mode: n.mode, Rdev: n.rdev}
		switch n.mode & unix.S_IFMT {
		case unix.S_IFDIR:
			d, err := root.Mkdir(ctx, n.name, opts)
			if err != nil {
				return nil, err
			}
			// Make sure the sticky bit survives whatever Mkdir does
			// with the mode.
			if err := d.SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: n.mode & 0o7777}); err != nil {
				return nil, err
			}
		case unix.S_IFLNK:
			if _, err := root.Symlink(ctx, n.name, n.target, opts); err != nil {
				return nil, err
			}
		default:
			if _, err := root.Create(ctx, n.name, opts); err != nil {
				return nil, err
			}
		}
	}
	return fs, nil
}

// RegisterDevices registers the character devices of this package with v,
// so that device nodes with these numbers work wherever they are (devfs,
// tmpfs, the overlay).
func RegisterDevices(v *vfs.VFS) {
	v.RegisterDevice(unix.S_IFCHR, MemMajor, NullMinor, memDevice{newNull})
	v.RegisterDevice(unix.S_IFCHR, MemMajor, ZeroMinor, memDevice{newZero})
	v.RegisterDevice(unix.S_IFCHR, MemMajor, FullMinor, memDevice{newFull})
	v.RegisterDevice(unix.S_IFCHR, MemMajor, RandomMinor, memDevice{newRandom})
	v.RegisterDevice(unix.S_IFCHR, MemMajor, URandomMinor, memDevice{newRandom})
	v.RegisterDevice(unix.S_IFCHR, TTYAuxMajor, TTYMinor, ttyDevice{})
	v.RegisterDevice(unix.S_IFCHR, TTYAuxMajor, PtmxMinor, ptmxDevice{})
}
