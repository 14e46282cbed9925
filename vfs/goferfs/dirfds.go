package goferfs

import (
	"container/list"

	"golang.org/x/sys/unix"
)

// maxOpenDirs bounds the host directory FDs a directfs goferfs keeps open.
// The VFS caches every directory it has looked up; without a bound a guest
// walking a large tree (find /usr) would hold one host FD per directory.
const maxOpenDirs = 1024

// dirFDs tracks which directory inodes hold a host FD. A directory's FD is
// pinned while an operation uses it; unpinned FDs are kept in LRU order and
// the oldest are closed beyond maxOpenDirs. A closed one is reopened through
// its parent (by name, O_NOFOLLOW) and must still be the same directory.
type dirFDs struct {
	lru  *list.List // unpinned inodes with an FD, most recent first
	open int        // directory inodes holding an FD (pinned or not)
	max  int
}

// dir returns in's host directory FD, pinned until done is called.
func (in *inode) dir() (fd int, done func(), err error) {
	fs := in.fs
	fs.fdMu.Lock()
	if in.fd >= 0 {
		fd = in.pinLocked()
		fs.fdMu.Unlock()
		return fd, in.unpin, nil
	}
	fs.fdMu.Unlock()
	if err := in.reopen(); err != nil {
		return -1, nil, err
	}
	return in.dir()
}

func (in *inode) pinLocked() int {
	in.pins++
	if in.lruElem != nil {
		in.fs.dirs.lru.Remove(in.lruElem)
		in.lruElem = nil
	}
	return in.fd
}

func (in *inode) unpin() {
	fs := in.fs
	fs.fdMu.Lock()
	defer fs.fdMu.Unlock()
	in.pins--
	switch {
	case in.pins != 0 || in.fd < 0 || in.parent == nil:
	case in.removed:
		in.closeLocked()
	default:
		in.lruElem = fs.dirs.lru.PushFront(in)
	}
	fs.evictLocked()
}

// removedDir closes the FD of a directory that is gone from the host: no
// name can be looked up or created in it any more (ENOENT, as in Linux),
// so the FD would only sit in the LRU, held for nothing, until
// maxOpenDirs newer directories pushed it out. A guest that creates and
// removes directories would keep maxOpenDirs host FDs of dead directories
// open. in may be any inode (a rename replaces files too).
func (fs *FS) removedDir(in *inode) {
	if in.ftype != unix.S_IFDIR || in.parent == nil {
		return
	}
	fs.fdMu.Lock()
	defer fs.fdMu.Unlock()
	in.removed = true
	if in.fd >= 0 && in.pins == 0 {
		in.closeLocked() // else the last unpin does
	}
}

// closeLocked closes an unpinned directory FD.
func (in *inode) closeLocked() {
	fs := in.fs
	if in.lruElem != nil {
		fs.dirs.lru.Remove(in.lruElem)
		in.lruElem = nil
	}
	unix.Close(in.fd)
	in.fd = -1
	fs.dirs.open--
}

// reopen gives an evicted directory a host FD again.
func (in *inode) reopen() error {
	in.fs.mu.RLock()
	parent, name := in.parent, in.name
	in.fs.mu.RUnlock()
	if parent == nil {
		return unix.EBADF // the root's FD is never closed
	}
	in.fs.fdMu.Lock()
	removed := in.removed
	in.fs.fdMu.Unlock()
	if removed {
		return unix.ENOENT
	}
	pfd, done, err := parent.dir()
	if err != nil {
		return err
	}
	fd, err := unix.Openat(pfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	done()
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != in.id.dev || st.Ino != in.id.ino {
		// Replaced on the host behind the sandbox's back.
		unix.Close(fd)
		return unix.ENOENT
	}
	fs := in.fs
	fs.fdMu.Lock()
	defer fs.fdMu.Unlock()
	if in.fd >= 0 || in.removed {
		unix.Close(fd) // another goroutine reopened it first, or it is gone
		return nil
	}
	in.fd = fd
	fs.dirs.open++
	in.lruElem = fs.dirs.lru.PushFront(in)
	fs.evictLocked()
	return nil
}

// addDir starts tracking a new (non-root) directory inode's FD.
func (fs *FS) addDir(in *inode) {
	if in.parent == nil || fs.dirs.lru == nil {
		return // the root's FD stays open; RPC mode has no directory FDs
	}
	fs.fdMu.Lock()
	defer fs.fdMu.Unlock()
	fs.dirs.open++
	in.lruElem = fs.dirs.lru.PushFront(in)
	fs.evictLocked()
}

// evictLocked closes the least recently used unpinned FDs beyond the bound.
func (fs *FS) evictLocked() {
	for fs.dirs.open > fs.dirs.max && fs.dirs.lru.Len() > 0 {
		e := fs.dirs.lru.Back()
		e.Value.(*inode).closeLocked()
	}
}
