package mm

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// sharedAnon backs a MAP_SHARED|MAP_ANONYMOUS mapping, like Linux's
// shmem_zero_setup: its pages belong to the mapping object, which fork
// shares, not to one address space. Without it a page first touched after
// fork was allocated separately by parent and child, and writes by one were
// never seen by the other.
type sharedAnon struct {
	mf *memfile.File

	mu    sync.Mutex
	refs  int64           // vmas using the object
	pages map[int64]int64 // page index -> memory-file offset, one reference each
}

// NewSharedMemory returns memory that every mapping of it shares (System V
// shared memory), with no references: each user takes its own.
func NewSharedMemory(mf *memfile.File) Mappable { return newSharedAnon(mf) }

func newSharedAnon(mf *memfile.File) *sharedAnon {
	return &sharedAnon{mf: mf, pages: make(map[int64]int64)}
}

// Page implements Mappable: the page is allocated on first use.
func (s *sharedAnon) Page(off int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages == nil {
		return 0, unix.EFAULT // released
	}
	idx := off / pageSize
	p, ok := s.pages[idx]
	if !ok {
		var err error
		if p, err = s.mf.Allocate(); err != nil {
			return 0, unix.ENOMEM
		}
		s.pages[idx] = p
	}
	s.mf.IncRef(p)
	return p, nil
}

// IncRef implements Mappable.
func (s *sharedAnon) IncRef() {
	s.mu.Lock()
	s.refs++
	s.mu.Unlock()
}

// DecRef implements Mappable; the last reference frees the pages (address
// spaces that still map some hold their own references).
func (s *sharedAnon) DecRef() {
	s.mu.Lock()
	s.refs--
	if s.refs > 0 {
		s.mu.Unlock()
		return
	}
	pages := s.pages
	s.pages = nil
	s.mu.Unlock()
	for _, p := range pages {
		s.mf.DecRef(p)
	}
}

// Punch implements Puncher: the pages in the range are freed and read as
// zeroes when next touched.
func (s *sharedAnon) Punch(off, length int64) error {
	s.mu.Lock()
	var freed []int64
	first, end := off/pageSize, (off+length+pageSize-1)/pageSize
	for idx, p := range s.pages {
		if idx >= first && idx < end {
			freed = append(freed, p)
			delete(s.pages, idx)
		}
	}
	s.mu.Unlock()
	for _, p := range freed {
		s.mf.DecRef(p)
	}
	return nil
}
