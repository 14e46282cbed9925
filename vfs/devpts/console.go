package devpts

import (
	"fmt"
	"strconv"

	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// console is a terminal of the host shown as a replica of this devpts (the
// sandbox's stdio terminal, like a container's /dev/pts/0 under runc):
// its entry has the attributes of a replica, and opening it opens that
// terminal.
type console struct {
	inode *replicaInode
	open  func(ctx vfs.Context, flags uint32) (vfs.FileImpl, error)
}

func (fs *Filesystem) console(idx uint32) *console {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.consoles[idx]
}

// Terminals adds host terminals to the devpts instance mounted at mnt
// (vfs/host.ShowTerminalsIn).
type Terminals struct {
	v   *vfs.VFS
	fs  *Filesystem
	mnt vfs.Location
}

// TerminalsAt returns the Terminals of the devpts mount whose root is mnt.
func TerminalsAt(v *vfs.VFS, mnt vfs.Location) (*Terminals, error) {
	if !mnt.Ok() {
		return nil, fmt.Errorf("devpts: no mount")
	}
	fs, ok := mnt.Dentry.Filesystem().Impl().(*Filesystem)
	if !ok || mnt.Dentry != fs.vfsfs.Root() {
		return nil, fmt.Errorf("devpts: not the root of a devpts mount")
	}
	return &Terminals{v: v, fs: fs, mnt: mnt}, nil
}

// AddTerminal makes a replica entry at the lowest free index whose opens
// call open. It returns the entry's location (with a reference) and a
// function that removes the entry and frees the index.
func (t *Terminals) AddTerminal(ctx vfs.Context, open func(vfs.Context, uint32) (vfs.FileImpl, error)) (vfs.Location, func(), error) {
	fs := t.fs
	fs.mu.Lock()
	idx, err := fs.freeIndexLocked()
	if err != nil {
		fs.mu.Unlock()
		return vfs.Location{}, nil, err
	}
	fs.used[idx] = true
	fs.consoles[idx] = &console{inode: newReplicaInode(ctx, idx), open: open}
	fs.mu.Unlock()
	name := strconv.Itoa(int(idx))
	root := fs.vfsfs.Root()
	root.Invalidate(name)
	remove := func() {
		fs.mu.Lock()
		delete(fs.consoles, idx)
		delete(fs.used, idx)
		fs.mu.Unlock()
		root.Invalidate(name)
	}
	loc, err := t.v.GetLocation(ctx, t.mnt, t.mnt, name, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		remove()
		return vfs.Location{}, nil, fmt.Errorf("devpts: entry %s: %w", name, err)
	}
	return loc, remove, nil
}
