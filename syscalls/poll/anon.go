package poll

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// newAnonFile makes an anonymous-inode file ("anon_inode:[name]") with the
// given implementation and open flags. Like Linux's anon_inode files its
// st_mode has no file type bits and permissions 0600.
func newAnonFile(v *vfs.VFS, ctx vfs.Context, name string, impl vfs.FileImpl, flags uint32) *vfs.File {
	in := v.NewAnonInode(ctx, 0o600)
	loc := v.NewAnonLocation("anon_inode:["+name+"]", in, 0)
	return v.NewFile(loc, impl, flags)
}

// noSeek gives anonymous files Linux's noop_llseek: the offset never
// changes.
type noSeek struct{}

func (noSeek) Seek(_ vfs.Context, _ int64, _ int, cur int64) (int64, error) { return cur, nil }

func (noSeek) PRead(vfs.Context, []byte, int64) (int, error)  { return 0, unix.EINVAL }
func (noSeek) PWrite(vfs.Context, []byte, int64) (int, error) { return 0, unix.EINVAL }

// bgCtx is the context used to drop file references outside any syscall
// (readiness checks of nested epoll sets).
var bgCtx = vfs.NewContext(vfs.RootCredentials())
