package overlay

import (
	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

const copyChunk = 64 << 10

// copyUpLocked gives n an upper inode, copying its parents up first and
// then the file: data (unless skipData), mode, owner, times, symlink
// target, xattrs. fs.mu is held.
func (n *node) copyUpLocked(ctx vfs.Context, skipData bool) error {
	if n.upper != nil {
		return nil
	}
	if n.parent == nil {
		return unix.EIO // the root always has an upper inode
	}
	p := n.parent
	if err := p.copyUpLocked(ctx, false); err != nil {
		return err
	}
	pu := p.upper.(vfs.DirInode)
	// Another node for the same path (e.g. from a tree copy) may already
	// have copied it up.
	if c, err := pu.Lookup(ctx, n.name); err == nil && !isWhiteout(ctx, c) {
		n.upper = c
		return nil
	}
	st, err := n.lower.Stat(ctx)
	if err != nil {
		return err
	}
	opts := vfs.CreateOptions{Mode: uint32(st.Mode), UID: st.Uid, GID: st.Gid, Rdev: unix.Mkdev(st.Rdev_major, st.Rdev_minor)}
	var up vfs.Inode
	switch n.ftype {
	case unix.S_IFDIR:
		up, err = pu.Mkdir(ctx, n.name, opts)
	case unix.S_IFLNK:
		var target string
		target, err = n.lower.(vfs.SymlinkInode).Readlink(ctx)
		if err == nil {
			up, err = pu.Symlink(ctx, n.name, target, opts)
		}
	default:
		up, err = pu.Create(ctx, n.name, opts)
		if err == nil && n.ftype == unix.S_IFREG && !skipData {
			if err = copyData(ctx, n.lower, up, int64(st.Size)); err != nil {
				pu.Unlink(ctx, n.name, up)
			}
		}
	}
	if err != nil {
		return err
	}
	if lx, ok := n.lower.(vfs.XattrInode); ok {
		if ux, ok := up.(vfs.XattrInode); ok {
			if names, err := lx.ListXattr(ctx); err == nil {
				for _, name := range names {
					if v, err := lx.GetXattr(ctx, name); err == nil {
						ux.SetXattr(ctx, name, v, 0)
					}
				}
			}
		}
	}
	mask := uint32(unix.STATX_UID | unix.STATX_GID | unix.STATX_ATIME | unix.STATX_MTIME)
	if n.ftype != unix.S_IFLNK {
		mask |= unix.STATX_MODE
	}
	if err := up.SetStat(ctx, &vfs.SetStatOptions{Mask: mask, Mode: uint32(st.Mode) & 0o7777, UID: st.Uid, GID: st.Gid, Atime: st.Atime, Mtime: st.Mtime}); err != nil {
		return err
	}
	n.upper = up
	return nil
}

// copyData copies size bytes from the lower file to the new upper file,
// leaving all-zero chunks as holes.
func copyData(ctx vfs.Context, from, to vfs.Inode, size int64) error {
	lf, err := from.Open(ctx, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer lf.Release(ctx)
	uf, err := to.Open(ctx, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer uf.Release(ctx)
	buf := make([]byte, copyChunk)
	var off int64
	for {
		n, err := lf.PRead(ctx, buf, off)
		if n > 0 {
			if !allZero(buf[:n]) {
				if _, werr := uf.PWrite(ctx, buf[:n], off); werr != nil {
					return werr
				}
			}
			off += int64(n)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	if off < size {
		off = size
	}
	return to.SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: uint64(off)})
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Bounds on what a rename of a directory from the lower layer copies up
// (copyUpTreeLocked): one system call must not copy a whole image
// directory (/usr) into memory while it holds fs.mu. Beyond them the
// rename fails with EXDEV, as every such rename does on Linux's overlayfs
// without redirect_dir (Docker's overlay2): mv and other programs then copy
// and remove.
const (
	maxTreeEntries = 1024
	maxTreeBytes   = 1 << 20
)

// treeFitsLocked reports whether copying n's tree up stays within
// maxTreeEntries and maxTreeBytes of what is not up already; it stops
// walking as soon as it does not.
func (n *node) treeFitsLocked(ctx vfs.Context) (bool, error) {
	entries, bytes := 0, uint64(0)
	var walk func(n *node) (bool, error)
	walk = func(n *node) (bool, error) {
		if n.upper == nil {
			entries++
			if n.ftype == unix.S_IFREG {
				st, err := n.lower.Stat(ctx)
				if err != nil {
					return false, err
				}
				bytes += st.Size
			}
		}
		if entries > maxTreeEntries || bytes > maxTreeBytes {
			return false, nil
		}
		if n.ftype != unix.S_IFDIR || n.lowerDir() == nil {
			return true, nil
		}
		ents, err := n.mergedLocked(ctx)
		if err != nil {
			return false, err
		}
		for _, e := range ents {
			c, err := n.lookupLocked(ctx, e.Name)
			if err != nil {
				return false, err
			}
			if ok, err := walk(c); !ok || err != nil {
				return ok, err
			}
		}
		return true, nil
	}
	return walk(n)
}

// copyUpTreeLocked copies n and, for a directory, everything below it up,
// so the upper directory can stand alone (rename of a lower directory).
func (n *node) copyUpTreeLocked(ctx vfs.Context) error {
	if err := n.copyUpLocked(ctx, false); err != nil {
		return err
	}
	if n.ftype != unix.S_IFDIR || n.lowerDir() == nil {
		return nil
	}
	ents, err := n.mergedLocked(ctx)
	if err != nil {
		return err
	}
	for _, e := range ents {
		c, err := n.lookupLocked(ctx, e.Name)
		if err != nil {
			return err
		}
		if err := c.copyUpTreeLocked(ctx); err != nil {
			return err
		}
	}
	return nil
}

// listDir returns the entries of a layer directory, without "." and "..".
func listDir(ctx vfs.Context, dir vfs.Inode) ([]vfs.Dirent, error) {
	f, err := dir.Open(ctx, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer f.Release(ctx)
	df, ok := f.(vfs.DirFile)
	if !ok {
		return nil, unix.ENOTDIR
	}
	var out []vfs.Dirent
	err = df.IterDirents(ctx, 0, func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			out = append(out, d)
		}
		return true
	})
	return out, err
}

// mergedLocked returns the visible entries of directory n (no "." or
// ".."), with the inode numbers Stat reports.
func (n *node) mergedLocked(ctx vfs.Context) ([]vfs.Dirent, error) {
	var out []vfs.Dirent
	seen := map[string]int{} // name -> index in out, or -1 for a whiteout
	if n.upper != nil {
		ents, err := listDir(ctx, n.upper)
		if err != nil {
			return nil, err
		}
		ud := n.upper.(vfs.DirInode)
		for _, e := range ents {
			if e.Type == unix.DT_CHR {
				if c, err := ud.Lookup(ctx, e.Name); err == nil && isWhiteout(ctx, c) {
					seen[e.Name] = -1
					continue
				}
			}
			e.Ino += upperInoBase
			seen[e.Name] = len(out)
			out = append(out, e)
		}
	}
	if ld := n.lowerDir(); ld != nil {
		ents, err := listDir(ctx, ld)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if i, ok := seen[e.Name]; ok {
				if i >= 0 && out[i].Type == e.Type {
					out[i].Ino = e.Ino
				}
				continue
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// dirFile is an open overlay directory: a snapshot of the merged entries,
// taken at the first read and again after a rewind to offset 0.
type dirFile struct {
	vfs.FileImplBase
	n    *node
	ents []vfs.Dirent
}

// IterDirents implements vfs.DirFile.
func (f *dirFile) IterDirents(ctx vfs.Context, off int64, cb func(vfs.Dirent) bool) error {
	n := f.n
	if f.ents == nil || off == 0 {
		n.fs.mu.Lock()
		ents, err := n.mergedLocked(ctx)
		pino := n.ino
		if n.parent != nil {
			pino = n.parent.ino
		}
		n.fs.mu.Unlock()
		if err != nil {
			return err
		}
		all := make([]vfs.Dirent, 0, len(ents)+2)
		all = append(all, vfs.Dirent{Name: ".", Ino: n.ino, Type: unix.DT_DIR}, vfs.Dirent{Name: "..", Ino: pino, Type: unix.DT_DIR})
		all = append(all, ents...)
		for i := range all {
			all[i].NextOff = int64(i + 1)
		}
		f.ents = all
	}
	for i := off; i >= 0 && i < int64(len(f.ents)); i++ {
		if !cb(f.ents[i]) {
			return nil
		}
	}
	return nil
}

// Seek implements vfs.FileImpl.
func (f *dirFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	switch whence {
	case unix.SEEK_SET, unix.SEEK_CUR:
		return vfs.GenericSeek(off, whence, cur, -1)
	}
	return 0, unix.EINVAL
}
