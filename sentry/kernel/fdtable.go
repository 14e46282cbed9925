package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// FDTable maps guest file descriptors to open files.
type FDTable struct {
	mu    sync.Mutex
	fds   []fdEntry
	refs  int
	limit func() uint64 // RLIMIT_NOFILE of the caller
}

type fdEntry struct {
	file    *vfs.File
	cloexec bool
}

// NewFDTable returns an empty table.
func NewFDTable() *FDTable { return &FDTable{refs: 1} }

// Fork copies the table (fork without CLONE_FILES).
func (f *FDTable) Fork() *FDTable {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := &FDTable{refs: 1, fds: make([]fdEntry, len(f.fds))}
	for i, e := range f.fds {
		if e.file != nil {
			e.file.IncRef()
		}
		n.fds[i] = e
	}
	return n
}

func (f *FDTable) incRef() {
	f.mu.Lock()
	f.refs++
	f.mu.Unlock()
}

// decRef drops a task's reference; the last one closes everything.
func (f *FDTable) decRef(ctx vfs.Context) {
	f.mu.Lock()
	f.refs--
	if f.refs > 0 {
		f.mu.Unlock()
		return
	}
	fds := f.fds
	f.fds = nil
	f.mu.Unlock()
	for _, e := range fds {
		if e.file != nil {
			e.file.DecRef(ctx)
		}
	}
}

// Get returns the file at fd with a new reference, and its close-on-exec
// flag.
func (f *FDTable) Get(fd int32) (*vfs.File, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd < 0 || int(fd) >= len(f.fds) || f.fds[fd].file == nil {
		return nil, false, unix.EBADF
	}
	e := f.fds[fd]
	e.file.IncRef()
	return e.file, e.cloexec, nil
}

// NewFD installs file at the lowest free descriptor >= min, taking a new
// reference. limit is RLIMIT_NOFILE.
func (f *FDTable) NewFD(file *vfs.File, min int32, cloexec bool, limit uint64) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if min < 0 {
		return 0, unix.EINVAL
	}
	for fd := int(min); ; fd++ {
		if uint64(fd) >= limit {
			return 0, unix.EMFILE
		}
		if fd >= len(f.fds) {
			f.grow(fd + 1)
		}
		if f.fds[fd].file == nil {
			file.IncRef()
			f.fds[fd] = fdEntry{file: file, cloexec: cloexec}
			return int32(fd), nil
		}
	}
}

func (f *FDTable) grow(n int) {
	if n <= len(f.fds) {
		return
	}
	c := max(n, 2*len(f.fds), 16)
	nf := make([]fdEntry, c)
	copy(nf, f.fds)
	f.fds = nf
}

// SetFD installs file at fd (dup2), returning the file it replaced (the
// caller drops that reference outside any lock).
func (f *FDTable) SetFD(fd int32, file *vfs.File, cloexec bool, limit uint64) (*vfs.File, error) {
	if fd < 0 || uint64(fd) >= limit {
		return nil, unix.EBADF
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grow(int(fd) + 1)
	old := f.fds[fd].file
	file.IncRef()
	f.fds[fd] = fdEntry{file: file, cloexec: cloexec}
	return old, nil
}

// Remove clears fd and returns its file (the caller drops the reference).
func (f *FDTable) Remove(fd int32) (*vfs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd < 0 || int(fd) >= len(f.fds) || f.fds[fd].file == nil {
		return nil, unix.EBADF
	}
	file := f.fds[fd].file
	f.fds[fd] = fdEntry{}
	return file, nil
}

// SetCloexec changes fd's close-on-exec flag.
func (f *FDTable) SetCloexec(fd int32, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd < 0 || int(fd) >= len(f.fds) || f.fds[fd].file == nil {
		return unix.EBADF
	}
	f.fds[fd].cloexec = on
	return nil
}

// CloseOnExec closes every close-on-exec descriptor.
func (f *FDTable) CloseOnExec(ctx vfs.Context) {
	f.mu.Lock()
	var doomed []*vfs.File
	for i, e := range f.fds {
		if e.file != nil && e.cloexec {
			doomed = append(doomed, e.file)
			f.fds[i] = fdEntry{}
		}
	}
	f.mu.Unlock()
	for _, file := range doomed {
		file.DecRef(ctx)
	}
}

// CloseRange closes [first, last] (close_range without flags); with cloexec
// it sets the flag instead.
func (f *FDTable) CloseRange(ctx vfs.Context, first, last uint32, cloexec bool) {
	f.mu.Lock()
	var doomed []*vfs.File
	for i := int(first); i < len(f.fds) && uint32(i) <= last; i++ {
		if f.fds[i].file == nil {
			continue
		}
		if cloexec {
			f.fds[i].cloexec = true
			continue
		}
		doomed = append(doomed, f.fds[i].file)
		f.fds[i] = fdEntry{}
	}
	f.mu.Unlock()
	for _, file := range doomed {
		file.DecRef(ctx)
	}
}

// FDs returns the open descriptors in order (for /proc/PID/fd).
func (f *FDTable) FDs() []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int32
	for i, e := range f.fds {
		if e.file != nil {
			out = append(out, int32(i))
		}
	}
	return out
}
