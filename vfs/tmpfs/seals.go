package tmpfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// Seals are the file seals of a tmpfs regular file (fcntl F_ADD_SEALS and
// F_GET_SEALS). Linux keeps them on every shmem inode: a file of a
// Sealable instance (memfd_create's) starts with none, any other with
// F_SEAL_SEAL, so that nothing can be added to it.
type Seals struct {
	mu sync.Mutex
	// set is written under mu; readers that need no consistency with
	// writers load it alone.
	set atomic.Uint32
	// writers counts the shared mappings that may write the file (mu):
	// F_SEAL_WRITE is EBUSY while there are any.
	writers int64
}

// SealsOf returns the seals of f's file, or nil if it is not a tmpfs
// regular file. A file of an overlay is the overlay's even when its upper
// layer is a tmpfs, as on Linux, where only shmem files have seals.
func SealsOf(f *vfs.File) *Seals {
	if _, ok := f.Location().Dentry.Inode().(*regInode); !ok {
		return nil
	}
	rf, ok := f.Impl().(*regFile)
	if !ok {
		return nil
	}
	return &rf.r.seals
}

// Get returns the seals.
func (s *Seals) Get() uint32 { return s.set.Load() }

// Add adds seals: EPERM once F_SEAL_SEAL is set, EBUSY for F_SEAL_WRITE
// while a shared mapping may write the file.
func (s *Seals) Add(add uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.set.Load()
	if old&unix.F_SEAL_SEAL != 0 {
		return unix.EPERM
	}
	if add&unix.F_SEAL_WRITE != 0 && s.writers > 0 {
		return unix.EBUSY
	}
	s.set.Store(old | add)
	return nil
}

// MapShared is asked before the file is mapped shared; maxWrite says
// whether the mapping may ever be written (now or after mprotect). A file
// sealed against writes refuses a writable mapping (EPERM) and makes a
// read-only one unable to become writable (mayWrite false). A mapping that
// may write is counted until release is called, for F_SEAL_WRITE's EBUSY.
func (s *Seals) MapShared(write, maxWrite bool) (mayWrite bool, release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set.Load()&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0 {
		if write {
			return false, nil, unix.EPERM
		}
		return false, func() {}, nil
	}
	if !maxWrite {
		return false, func() {}, nil
	}
	s.writers++
	return true, func() {
		s.mu.Lock()
		s.writers--
		s.mu.Unlock()
	}, nil
}
