package mm

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// PageCache keeps pages of files that are not themselves in the memory file
// (host files), so that every process mapping the same file page privately
// shares one copy until it writes.
type PageCache struct {
	mf       *memfile.File
	mu       sync.Mutex
	files    map[any]map[int64]int64 // key -> page index -> memory-file offset
	pages    int
	maxPages int
}

// NewPageCache creates a cache holding at most maxPages pages.
func NewPageCache(mf *memfile.File, maxPages int) *PageCache {
	return &PageCache{mf: mf, files: make(map[any]map[int64]int64), maxPages: maxPages}
}

// clusterPages is how many pages around a missed one (an aligned window,
// the same as a file fault-around's) the cache reads at once, into contiguous
// memory-file pages, so that mapping them later is one host mmap.
const clusterPages = 32

// Page returns the memory-file offset of the page at file offset off (page
// aligned) of the file identified by key, reading it with read on a miss.
// The caller gets its own reference. key must change when the file's
// contents change (include size and modification time).
func (c *PageCache) Page(key any, off int64, size int64, read func(p []byte, off int64) (int, error)) (int64, error) {
	if off >= size {
		return 0, unix.EFAULT
	}
	idx := off / memfile.PageSize
	c.mu.Lock()
	pgs := c.files[key]
	if p, ok := pgs[idx]; ok {
		c.mf.IncRef(p)
		c.mu.Unlock()
		return p, nil
	}
	// Read the whole window when none of it is cached yet (the first
	// touch of this part of the file), else just the page.
	first := idx &^ (clusterPages - 1)
	last := min(first+clusterPages, (size+memfile.PageSize-1)/memfile.PageSize)
	for i := first; i < last; i++ {
		if _, ok := pgs[i]; ok {
			first, last = idx, idx+1
			break
		}
	}
	c.mu.Unlock()

	n := int(last - first)
	base, err := c.mf.AllocateRun(n)
	if err != nil {
		if n == 1 {
			return 0, unix.ENOMEM
		}
		first, last, n = idx, idx+1, 1
		if base, err = c.mf.AllocateRun(1); err != nil {
			return 0, unix.ENOMEM
		}
	}
	buf := c.mf.Bytes(base, int64(n)*memfile.PageSize)
	got, _ := read(buf, first*memfile.PageSize)
	clear(buf[got:])
	// A page is good when the read covered it or reached the end of the
	// file inside it; a short read for any other reason leaves the rest
	// uncached.
	end := first*memfile.PageSize + int64(got)
	good := func(pi int64) bool {
		return (pi+1)*memfile.PageSize <= end || (end >= size && pi*memfile.PageSize < size)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages+n > c.maxPages {
		c.evictLocked()
	}
	pgs = c.files[key]
	if pgs == nil {
		pgs = make(map[int64]int64)
		c.files[key] = pgs
	}
	ret := int64(-1)
	for i := 0; i < n; i++ {
		p, pi := base+int64(i)*memfile.PageSize, first+int64(i)
		old, cached := pgs[pi]
		switch {
		case cached:
			// Lost a race with another reader: keep the cached page.
			c.mf.DecRef(p)
			p = old
			if pi == idx {
				c.mf.IncRef(p) // the caller's reference
			}
		case !good(pi):
			c.mf.DecRef(p)
			continue
		default:
			// The run's reference becomes the cache's.
			pgs[pi] = p
			c.pages++
			if pi == idx {
				c.mf.IncRef(p) // the caller's reference
			}
		}
		if pi == idx {
			ret = p
		}
	}
	if ret < 0 {
		return 0, unix.EIO
	}
	return ret, nil
}

// evictLocked drops every cached page (pages still mapped stay alive
// through their mappers' references). Crude, but bounded and simple.
func (c *PageCache) evictLocked() {
	for k, pgs := range c.files {
		for _, p := range pgs {
			c.mf.DecRef(p)
		}
		delete(c.files, k)
	}
	c.pages = 0
}
