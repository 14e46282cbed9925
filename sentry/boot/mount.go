package boot

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/devpts"
	"github.com/runsc-lite/runsc-lite/vfs/host"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// setupNamespace makes rootFS the root of a mount namespace and mounts the
// synthesised file systems on it.
func (s *sandbox) setupNamespace(rootFS *vfs.Filesystem) error {
	ctx := rootCtx()
	s.ns = s.vfs.NewMountNamespace(rootFS, 0)
	root := s.ns.Root()
	for _, m := range s.standardMounts() {
		if err := s.mkdirAll(root, m.path); err != nil {
			return fmt.Errorf("mkdir %s: %w", m.path, err)
		}
		fs, err := m.make()
		if err != nil {
			return fmt.Errorf("%s: %w", m.path, err)
		}
		if _, err := s.vfs.Mount(ctx, root, root, m.path, fs, m.flags); err != nil {
			return fmt.Errorf("mount %s: %w", m.path, err)
		}
	}
	// The host terminals the guest gets (stdio of init and of exec'd
	// processes) are replicas of /dev/pts, as a container's are.
	pts, err := s.vfs.GetLocation(ctx, root, root, "/dev/pts", 0)
	if err != nil {
		return fmt.Errorf("/dev/pts: %w", err)
	}
	terms, err := devpts.TerminalsAt(s.vfs, pts)
	if err != nil {
		return err
	}
	host.ShowTerminalsIn(s.vfs, terms)
	return nil
}

type stdMount struct {
	path  string
	flags uint32
	make  func() (*vfs.Filesystem, error)
}

func (s *sandbox) standardMounts() []stdMount {
	return []stdMount{
		// Flags as a Linux distribution mounts them (and as df and
		// findmnt show them).
		{"/proc", vfs.MountNoExec | vfs.MountNoSuid | vfs.MountNoDev, func() (*vfs.Filesystem, error) { return newProcFS(s), nil }},
		{"/dev", vfs.MountNoSuid, func() (*vfs.Filesystem, error) { return newDevFS(s) }},
		{"/dev/pts", vfs.MountNoExec | vfs.MountNoSuid, func() (*vfs.Filesystem, error) { return devpts.New(s.vfs) }},
		{"/dev/shm", vfs.MountNoExec | vfs.MountNoSuid | vfs.MountNoDev, func() (*vfs.Filesystem, error) {
			return tmpfs.New(s.vfs, s.mf, tmpfs.Options{RootMode: 0o1777, MaxBytes: s.tmpfsLimit})
		}},
	}
}

// mkdirAll creates the directories of p that are missing (in the overlay's
// upper layer: the host never sees them).
func (s *sandbox) mkdirAll(root vfs.Location, p string) error {
	ctx := rootCtx()
	cur := ""
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		cur += "/" + part
		err := s.vfs.Mkdir(ctx, root, root, cur, 0o755)
		if err != nil && err != unix.EEXIST {
			return err
		}
	}
	return nil
}

// mountSynthetic mounts one file system the sentry makes itself. proc at
// /proc and devpts at /dev/pts are there already (standardMounts), as is
// /dev (devfs, whatever the bundle asks for).
func (s *sandbox) mountSynthetic(m Mount) error {
	ctx := rootCtx()
	root := s.ns.Root()
	var fs *vfs.Filesystem
	var err error
	flags := uint32(0)
	if m.ReadOnly {
		flags |= vfs.MountReadOnly
	}
	if m.NoSuid {
		flags |= vfs.MountNoSuid
	}
	if m.NoDev {
		flags |= vfs.MountNoDev
	}
	if m.NoExec {
		flags |= vfs.MountNoExec
	}
	switch m.Type {
	case "proc":
		if m.Destination == "/proc" {
			return nil
		}
		fs = newProcFS(s)
	case "devpts":
		if m.Destination == "/dev/pts" {
			return nil
		}
		fs, err = devpts.New(s.vfs)
	case "tmpfs":
		if m.Destination == "/dev" {
			return nil
		}
		// Over /dev/shm this stacks on the standard one: the bundle's
		// size wins.
		fs, err = s.newTmpfs(m.Size, m.Mode)
	case "mqueue":
		fs, err = s.newTmpfs(0, 0o1777)
	case "sysfs":
		fs = newSysFS(s, m.ReadOnly)
	case "cgroup", "cgroup2":
		return nil
	default:
		return fmt.Errorf("unsupported file system type %q", m.Type)
	}
	if err != nil {
		return err
	}
	if err := s.mkdirAll(root, m.Destination); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	_, err = s.vfs.Mount(ctx, root, root, m.Destination, fs, flags)
	return err
}

func (s *sandbox) newTmpfs(size int64, mode uint32) (*vfs.Filesystem, error) {
	if size <= 0 || size > s.tmpfsLimit {
		size = s.tmpfsLimit
	}
	if mode == 0 {
		mode = 0o1777
	}
	return tmpfs.New(s.vfs, s.mf, tmpfs.Options{RootMode: mode, MaxBytes: size})
}
