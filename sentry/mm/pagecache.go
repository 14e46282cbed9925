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
	if pgs, ok := c.files[key]; ok {
		if p, ok := pgs[idx]; ok {
			c.mf.IncRef(p)
			c.mu.Unlock()
			return p, nil
		}
	}
	c.mu.Unlock()

	p, err := c.mf.Allocate()
	if err != nil {
		return 0, unix.ENOMEM
	}
	buf := c.mf.Page(p)
	n, err := read(buf, off)
	if err != nil && n == 0 && off < size {
		c.mf.DecRef(p)
		return 0, unix.EIO
	}
	clear(buf[n:])

	c.mu.Lock()
	defer c.mu.Unlock()
	pgs := c.files[key]
	if pgs == nil {
		pgs = make(map[int64]int64)
		c.files[key] = pgs
	}
	if old, ok := pgs[idx]; ok {
		// Lost a race with another reader: use the cached page.
		c.mf.DecRef(p)
		c.mf.IncRef(old)
		return old, nil
	}
	if c.pages >= c.maxPages {
		c.evictLocked()
		// evictLocked dropped pgs from c.files: a page put there would
		// keep the cache's reference forever (a leaked memory-file page
		// per eviction).
		pgs = make(map[int64]int64)
		c.files[key] = pgs
	}
	pgs[idx] = p
	c.pages++
	c.mf.IncRef(p) // the cache's reference
	return p, nil
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
