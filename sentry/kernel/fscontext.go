package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// FSContext is a task's root, working directory and umask (shared with
// CLONE_FS).
type FSContext struct {
	mu    sync.Mutex
	root  vfs.Location
	cwd   vfs.Location
	umask uint32
	refs  int
}

// NewFSContext takes references on root and cwd.
func NewFSContext(root, cwd vfs.Location, umask uint32) *FSContext {
	root.IncRef()
	cwd.IncRef()
	return &FSContext{root: root, cwd: cwd, umask: umask, refs: 1}
}

// Fork copies the context.
func (f *FSContext) Fork() *FSContext {
	f.mu.Lock()
	defer f.mu.Unlock()
	return NewFSContext(f.root, f.cwd, f.umask)
}

func (f *FSContext) incRef() {
	f.mu.Lock()
	f.refs++
	f.mu.Unlock()
}

func (f *FSContext) decRef() {
	f.mu.Lock()
	f.refs--
	if f.refs > 0 {
		f.mu.Unlock()
		return
	}
	root, cwd := f.root, f.cwd
	f.root, f.cwd = vfs.Location{}, vfs.Location{}
	f.mu.Unlock()
	root.DecRef()
	cwd.DecRef()
}

// Root returns the root with a new reference.
func (f *FSContext) Root() vfs.Location {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.root.IncRef()
	return f.root
}

// Cwd returns the working directory with a new reference.
func (f *FSContext) Cwd() vfs.Location {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cwd.IncRef()
	return f.cwd
}

// SetCwd changes the working directory, taking a new reference.
func (f *FSContext) SetCwd(l vfs.Location) {
	l.IncRef()
	f.mu.Lock()
	old := f.cwd
	f.cwd = l
	f.mu.Unlock()
	old.DecRef()
}

// SetRoot changes the root, taking a new reference.
func (f *FSContext) SetRoot(l vfs.Location) {
	l.IncRef()
	f.mu.Lock()
	old := f.root
	f.root = l
	f.mu.Unlock()
	old.DecRef()
}

// Umask returns the umask.
func (f *FSContext) Umask() uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.umask
}

// SwapUmask sets the umask and returns the old one.
func (f *FSContext) SwapUmask(m uint32) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.umask
	f.umask = m & 0o777
	return old
}
