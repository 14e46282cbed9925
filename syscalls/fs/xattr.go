package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// Extended attribute limits.
const (
	xattrNameMax = 255
	xattrSizeMax = vfs.XattrSizeMax
	xattrListMax = 65536
)

// copyInXattrName reads an attribute name: empty or longer than
// XATTR_NAME_MAX is ERANGE, as in Linux.
func copyInXattrName(t *kernel.Task, addr uint64) (string, error) {
	name, err := t.CopyInString(addr, xattrNameMax+1)
	if err == unix.ENAMETOOLONG {
		return "", unix.ERANGE
	}
	if err != nil {
		return "", unix.EFAULT
	}
	if name == "" {
		return "", unix.ERANGE
	}
	return name, nil
}

// xattrTarget is the file an xattr call works on: a path (followed or not)
// or a descriptor.
type xattrTarget struct {
	t      *kernel.Task
	file   *vfs.File
	p      *pathAt
	path   string
	follow bool
}

func (x *xattrTarget) release() {
	if x.file != nil {
		x.file.DecRef(ctx(x.t))
	}
	if x.p != nil {
		x.p.release(x.t)
	}
}

func (x *xattrTarget) flags() int {
	if x.follow {
		return 0
	}
	return unix.AT_SYMLINK_NOFOLLOW
}

// pathTarget resolves the path argument of [l]{get,set,list,remove}xattr.
func pathTarget(t *kernel.Task, addr uint64, follow bool) (*xattrTarget, error) {
	p, path, err := atPath(t, atFDCWD, addr, 0)
	if err != nil {
		return nil, err
	}
	return &xattrTarget{t: t, p: p, path: path, follow: follow}, nil
}

// fdTarget gets the descriptor of f{get,set,list,remove}xattr.
func fdTarget(t *kernel.Task, fd int32) (*xattrTarget, error) {
	f, err := getIOFile(t, fd)
	if err != nil {
		return nil, err
	}
	return &xattrTarget{t: t, file: f}, nil
}

func (x *xattrTarget) get(name string) ([]byte, error) {
	if x.file != nil {
		return x.file.GetXattr(ctx(x.t), name)
	}
	return x.t.Kernel().VFS().GetXattr(ctx(x.t), x.p.root, x.p.start, x.path, x.flags(), name)
}

func (x *xattrTarget) set(name string, value []byte, flags int) error {
	if x.file != nil {
		return x.file.SetXattr(ctx(x.t), name, value, flags)
	}
	return x.t.Kernel().VFS().SetXattr(ctx(x.t), x.p.root, x.p.start, x.path, x.flags(), name, value, flags)
}

func (x *xattrTarget) list() ([]string, error) {
	if x.file != nil {
		return x.file.ListXattr(ctx(x.t))
	}
	return x.t.Kernel().VFS().ListXattr(ctx(x.t), x.p.root, x.p.start, x.path, x.flags())
}

func (x *xattrTarget) remove(name string) error {
	if x.file != nil {
		return x.file.RemoveXattr(ctx(x.t), name)
	}
	return x.t.Kernel().VFS().RemoveXattr(ctx(x.t), x.p.root, x.p.start, x.path, x.flags(), name)
}

// getxattr: with size 0 the value's length; ERANGE if it does not fit.
func getxattr(x *xattrTarget, err error, nameAddr, buf, size uint64) (uint64, error) {
	if err != nil {
		return 0, err
	}
	defer x.release()
	name, err := copyInXattrName(x.t, nameAddr)
	if err != nil {
		return 0, err
	}
	v, err := x.get(name)
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return uint64(len(v)), nil
	}
	if uint64(len(v)) > min(size, xattrSizeMax) {
		return 0, unix.ERANGE
	}
	return uint64(len(v)), copyOut(x.t, buf, v)
}

// Getxattr implements getxattr(2).
func Getxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], true)
	return getxattr(x, err, a[1], a[2], a[3])
}

// Lgetxattr implements lgetxattr(2).
func Lgetxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], false)
	return getxattr(x, err, a[1], a[2], a[3])
}

// Fgetxattr implements fgetxattr(2).
func Fgetxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := fdTarget(t, argFD(a[0]))
	return getxattr(x, err, a[1], a[2], a[3])
}

// setxattr: values above XATTR_SIZE_MAX are E2BIG.
func setxattr(x *xattrTarget, err error, nameAddr, valAddr, size uint64, flags int32) (uint64, error) {
	if err != nil {
		return 0, err
	}
	defer x.release()
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return 0, unix.EINVAL
	}
	name, err := copyInXattrName(x.t, nameAddr)
	if err != nil {
		return 0, err
	}
	if size > xattrSizeMax {
		return 0, unix.E2BIG
	}
	v := make([]byte, size)
	if err := copyIn(x.t, valAddr, v); err != nil {
		return 0, err
	}
	return 0, x.set(name, v, int(flags))
}

// Setxattr implements setxattr(2).
func Setxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], true)
	return setxattr(x, err, a[1], a[2], a[3], argInt(a[4]))
}

// Lsetxattr implements lsetxattr(2).
func Lsetxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], false)
	return setxattr(x, err, a[1], a[2], a[3], argInt(a[4]))
}

// Fsetxattr implements fsetxattr(2).
func Fsetxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := fdTarget(t, argFD(a[0]))
	return setxattr(x, err, a[1], a[2], a[3], argInt(a[4]))
}

// encodeXattrList joins names as a NUL-separated list.
func encodeXattrList(names []string) []byte {
	var b []byte
	for _, n := range names {
		b = append(b, n...)
		b = append(b, 0)
	}
	return b
}

// listxattr: with size 0 the list's length; ERANGE if it does not fit,
// E2BIG if it exceeds XATTR_LIST_MAX.
func listxattr(x *xattrTarget, err error, buf, size uint64) (uint64, error) {
	if err != nil {
		return 0, err
	}
	defer x.release()
	names, err := x.list()
	if err != nil {
		return 0, err
	}
	b := encodeXattrList(names)
	if len(b) > xattrListMax {
		return 0, unix.E2BIG
	}
	if size == 0 {
		return uint64(len(b)), nil
	}
	if uint64(len(b)) > min(size, xattrListMax) {
		return 0, unix.ERANGE
	}
	return uint64(len(b)), copyOut(x.t, buf, b)
}

// Listxattr implements listxattr(2).
func Listxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], true)
	return listxattr(x, err, a[1], a[2])
}

// Llistxattr implements llistxattr(2).
func Llistxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], false)
	return listxattr(x, err, a[1], a[2])
}

// Flistxattr implements flistxattr(2).
func Flistxattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := fdTarget(t, argFD(a[0]))
	return listxattr(x, err, a[1], a[2])
}

func removexattr(x *xattrTarget, err error, nameAddr uint64) (uint64, error) {
	if err != nil {
		return 0, err
	}
	defer x.release()
	name, err := copyInXattrName(x.t, nameAddr)
	if err != nil {
		return 0, err
	}
	return 0, x.remove(name)
}

// Removexattr implements removexattr(2).
func Removexattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], true)
	return removexattr(x, err, a[1])
}

// Lremovexattr implements lremovexattr(2).
func Lremovexattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := pathTarget(t, a[0], false)
	return removexattr(x, err, a[1])
}

// Fremovexattr implements fremovexattr(2).
func Fremovexattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	x, err := fdTarget(t, argFD(a[0]))
	return removexattr(x, err, a[1])
}
