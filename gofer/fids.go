//go:build linux

package gofer

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// fidEntry is one client-visible handle: an O_PATH|O_NOFOLLOW host FD.
//
// It is reference counted because requests run concurrently: a Clunk racing
// with another request on the same fid must not close the FD (which the
// kernel could then reuse for an unrelated file) while that request uses it.
type fidEntry struct {
	fd       int
	mount    int
	readOnly bool
	fileType uint32 // S_IFMT bits; an inode never changes type
	refs     atomic.Int32
}

func (f *fidEntry) decRef() {
	if f.refs.Add(-1) == 0 {
		unix.Close(f.fd)
	}
}

// fidTable maps fid numbers to entries. Fid numbers are never reused, so a
// stale fid from the client can only fail with EBADF, never alias a new file.
type fidTable struct {
	mu   sync.RWMutex
	m    map[uint64]*fidEntry
	next uint64
}

// add takes ownership of e (one reference for the table, plus extra for
// the caller, taken before e is visible to other requests) and returns its fid.
func (t *fidTable) add(e *fidEntry, extra int32) uint64 {
	e.refs.Store(1 + extra)
	t.mu.Lock()
	t.next++
	id := t.next
	t.m[id] = e
	t.mu.Unlock()
	return id
}

// get returns the entry with an extra reference the caller must drop.
func (t *fidTable) get(id uint64) (*fidEntry, error) {
	t.mu.RLock()
	e, ok := t.m[id]
	if ok {
		e.refs.Add(1)
	}
	t.mu.RUnlock()
	if !ok {
		return nil, unix.EBADF
	}
	return e, nil
}

func (t *fidTable) remove(id uint64) error {
	t.mu.Lock()
	e, ok := t.m[id]
	delete(t.m, id)
	t.mu.Unlock()
	if !ok {
		return unix.EBADF
	}
	e.decRef()
	return nil
}

func (t *fidTable) closeAll() {
	t.mu.Lock()
	m := t.m
	t.m = make(map[uint64]*fidEntry)
	t.mu.Unlock()
	for _, e := range m {
		e.decRef()
	}
}

func (t *fidTable) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}
