package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// writeAccess is Linux's i_writecount for every inode at once: per inode,
// the number of open files that may write it (positive) or of running
// executables that deny writing it (negative). A file cannot be opened for
// writing while it runs, nor run while it is open for writing (ETXTBSY).
type writeAccess struct {
	mu sync.Mutex
	n  map[Inode]int
}

// get takes write access to in: ETXTBSY while it is denied.
func (w *writeAccess) get(in Inode) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n[in] < 0 {
		return unix.ETXTBSY
	}
	w.addLocked(in, 1)
	return nil
}

// denied reports whether writing in is denied.
func (w *writeAccess) denied(in Inode) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n[in] < 0
}

// deny denies write access to in: ETXTBSY while a writer holds it.
func (w *writeAccess) deny(in Inode) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n[in] > 0 {
		return unix.ETXTBSY
	}
	w.addLocked(in, -1)
	return nil
}

func (w *writeAccess) add(in Inode, delta int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addLocked(in, delta)
}

func (w *writeAccess) addLocked(in Inode, delta int) {
	if w.n == nil {
		w.n = make(map[Inode]int)
	}
	n := w.n[in] + delta
	if n == 0 {
		delete(w.n, in)
		return
	}
	w.n[in] = n
}

// DenyWrite denies opening f's file for writing until allow is called
// (exactly once), as exec does for the program it runs. It fails with
// ETXTBSY if the file is open for writing.
func (v *VFS) DenyWrite(f *File) (allow func(), err error) {
	in := f.loc.Dentry.inode
	if err := v.writers.deny(in); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { v.writers.add(in, 1) }) }, nil
}
