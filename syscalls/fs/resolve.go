package fs

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// openat2's RESOLVE_* restrictions are not known to the VFS, so openResolve
// walks the path itself one component at a time (each step is a VFS lookup
// that does not follow symlinks), applying the restrictions as it goes, and
// lets vfs.OpenAt do only the last step. A concurrent rename inside the
// sandbox can race the walk; that cannot escape the sandbox (the VFS never
// leaves the task's root), it only weakens the guest's own guarantee.

// resolveWalk is the state of one restricted walk.
type resolveWalk struct {
	t       *kernel.Task
	v       *vfs.VFS
	root    vfs.Location // the task's root
	resolve uint64
	// stack holds the directories from the anchor (dirfd, the root of a
	// scoped BENEATH/IN_ROOT walk) to the current one, so ".." of a scoped
	// walk is computed here and can never climb above the anchor.
	stack    []vfs.Location
	held     []vfs.Location // references to drop at the end
	symlinks int
}

func (w *resolveWalk) scoped() bool { return w.resolve&(resolveBeneath|resolveInRoot) != 0 }

func (w *resolveWalk) cur() vfs.Location { return w.stack[len(w.stack)-1] }

func (w *resolveWalk) release() {
	for _, l := range w.held {
		l.DecRef()
	}
}

// splitPath splits a path into components, dropping empty ones, and says
// whether it ended with a slash.
func splitPath(p string) ([]string, bool) {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out, strings.HasSuffix(p, "/")
}

// restart moves the walk to the start of an absolute path.
func (w *resolveWalk) restart() error {
	switch {
	case w.resolve&resolveBeneath != 0:
		return unix.EXDEV
	case w.resolve&resolveInRoot != 0:
		w.stack = w.stack[:1]
	default:
		if w.resolve&resolveNoXdev != 0 && w.root.Mount != w.cur().Mount {
			return unix.EXDEV
		}
		w.stack = append(w.stack[:0], w.root)
	}
	return nil
}

// dotdot moves to the parent directory.
func (w *resolveWalk) dotdot() error {
	if w.scoped() {
		if len(w.stack) == 1 {
			if w.resolve&resolveBeneath != 0 {
				return unix.EXDEV
			}
			return nil // IN_ROOT: ".." of the root is the root.
		}
		w.stack = w.stack[:len(w.stack)-1]
		return nil
	}
	return w.step("..")
}

// lookup resolves one component from the current directory without
// following a symlink there.
func (w *resolveWalk) lookup(name string) (vfs.Location, error) {
	l, err := w.v.GetLocation(ctx(w.t), w.root, w.cur(), name, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return vfs.Location{}, err
	}
	w.held = append(w.held, l)
	if w.resolve&resolveNoXdev != 0 && l.Mount != w.cur().Mount {
		return vfs.Location{}, unix.EXDEV
	}
	return l, nil
}

// step descends into name (not a symlink).
func (w *resolveWalk) step(name string) error {
	l, err := w.lookup(name)
	if err != nil {
		return err
	}
	if name == ".." && !w.scoped() {
		w.stack = append(w.stack[:0], l)
		return nil
	}
	w.stack = append(w.stack, l)
	return nil
}

// symlinkTarget checks that the symlink at l may be followed and returns
// its target. Any resolve flag forbids magic links (/proc/self/fd/N...):
// NO_SYMLINKS and NO_MAGICLINKS with ELOOP, the scoped walks with EXDEV as
// Linux does, and NO_XDEV conservatively with EXDEV as well (the VFS jumps
// through them without telling us which mount they land on).
func (w *resolveWalk) symlinkTarget(l vfs.Location, name string) (string, error) {
	if w.resolve&resolveNoSymlinks != 0 {
		return "", unix.ELOOP
	}
	if _, magic := l.Dentry.Inode().(vfs.MagicLinkInode); magic {
		if w.resolve&resolveNoMagiclinks != 0 {
			return "", unix.ELOOP
		}
		return "", unix.EXDEV
	}
	w.symlinks++
	if w.symlinks > vfs.MaxSymlinks {
		return "", unix.ELOOP
	}
	return w.v.Readlink(ctx(w.t), w.root, w.cur(), name)
}

// openResolve opens path relative to dirfd under openat2's RESOLVE_* flags
// (CACHED already handled by the caller; resolve is not zero).
func openResolve(t *kernel.Task, dirfd int32, path string, o openFlags, resolve uint64) (*vfs.File, error) {
	w := &resolveWalk{t: t, v: t.Kernel().VFS(), resolve: resolve}
	defer w.release()
	if path[0] == '/' && resolve&resolveBeneath != 0 {
		return nil, unix.EXDEV
	}
	// The anchor is dirfd (or the cwd) even for an absolute path, which a
	// scoped walk resolves from there.
	p, err := resolveStart(t, dirfd, ".", false)
	if err != nil {
		return nil, err
	}
	defer p.release(t)
	w.root = p.root
	w.stack = []vfs.Location{p.start}
	if path[0] == '/' {
		if err := w.restart(); err != nil {
			return nil, err
		}
	}
	name, trailing, err := w.walk(path, o.flags&unix.O_NOFOLLOW == 0)
	if err != nil {
		return nil, err
	}
	flags := o.flags
	if trailing {
		name += "/"
	} else if name != "." {
		// Never let the VFS follow a symlink that appeared behind our back.
		flags |= unix.O_NOFOLLOW
	}
	return w.v.OpenAt(ctx(t), w.root, w.cur(), name, flags, o.mode)
}

// walk resolves every component of path but the last one to open, which it
// returns ("." when the path ends at a directory), following symlinks
// (the last one only if followLast or the path has a trailing slash).
func (w *resolveWalk) walk(path string, followLast bool) (string, bool, error) {
	comps, trailing := splitPath(path)
	for len(comps) > 0 {
		name := comps[0]
		comps = comps[1:]
		last := len(comps) == 0
		switch name {
		case ".":
			continue
		case "..":
			if err := w.dotdot(); err != nil {
				return "", false, err
			}
			continue
		}
		l, err := w.lookup(name)
		if err == unix.ENOENT && last {
			return name, trailing, nil // the open may create it
		}
		if err != nil {
			return "", false, err
		}
		if !l.Dentry.IsSymlink() || (last && !trailing && !followLast) {
			if last {
				return name, trailing, nil
			}
			w.stack = append(w.stack, l)
			continue
		}
		target, err := w.symlinkTarget(l, name)
		if err != nil {
			return "", false, err
		}
		if target != "" && target[0] == '/' {
			if err := w.restart(); err != nil {
				return "", false, err
			}
		}
		tc, tt := splitPath(target)
		if last {
			trailing = trailing || tt
		}
		comps = append(tc, comps...)
	}
	return ".", false, nil
}
