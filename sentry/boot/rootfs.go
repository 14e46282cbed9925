package boot

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/gofer"
	pb "github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/goferfs"
	"github.com/runsc-lite/runsc-lite/vfs/overlay"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// mountRoot builds the root file system (the gofer's mount 0, read-only,
// below an in-memory upper layer) and mounts each volume at its guest path.
func (s *sandbox) mountRoot(cfg *Config, goferFD int) error {
	client, err := gofer.NewClient(goferFD)
	if err != nil {
		return fmt.Errorf("gofer client: %w", err)
	}
	s.gofer = client
	lower, err := s.goferMount(0, true)
	if err != nil {
		return err
	}
	// The upper layer holds everything the guest writes to the root: like a
	// Linux tmpfs it may use at most half the machine's memory (ENOSPC
	// after that), not the whole memory file.
	upper, err := tmpfs.New(s.vfs, s.mf, tmpfs.Options{RootMode: 0o755, MaxBytes: s.tmpfsLimit})
	if err != nil {
		return err
	}
	root, err := overlay.New(s.vfs, upper, lower)
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if err := s.setupNamespace(root); err != nil {
		return err
	}
	ctx := rootCtx()
	r := s.ns.Root()
	// Volumes and synthesised file systems are mounted parents first, as
	// Docker orders a container's mounts, so that one below another's
	// mount point (a bind of /sys/fs/cgroup with a sysfs at /sys, a
	// volume inside a tmpfs) is not hidden by it. Mounts at the same
	// depth keep their order, volumes first.
	type step struct {
		dest  string
		mount func() error
	}
	var steps []step
	for i, vol := range cfg.Volumes {
		steps = append(steps, step{vol.GuestPath, func() error {
			fs, err := s.goferMount(i+1, vol.ReadOnly)
			if err != nil {
				return fmt.Errorf("volume %s: %w", vol.GuestPath, err)
			}
			if err := s.mkdirAll(r, vol.GuestPath); err != nil {
				return fmt.Errorf("volume %s: %w", vol.GuestPath, err)
			}
			flags := uint32(0)
			if vol.ReadOnly {
				flags = vfs.MountReadOnly
			}
			if _, err := s.vfs.Mount(ctx, r, r, vol.GuestPath, fs, flags); err != nil {
				return fmt.Errorf("mount volume %s: %w", vol.GuestPath, err)
			}
			return nil
		}})
	}
	for _, m := range cfg.Mounts {
		steps = append(steps, step{m.Destination, func() error {
			if err := s.mountSynthetic(m); err != nil {
				return fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
			}
			return nil
		}})
	}
	depth := func(p string) int { return strings.Count(path.Clean("/"+p), "/") }
	sort.SliceStable(steps, func(i, j int) bool { return depth(steps[i].dest) < depth(steps[j].dest) })
	for _, st := range steps {
		if err := st.mount(); err != nil {
			return err
		}
	}
	for _, f := range cfg.Files {
		if err := s.writeFile(f); err != nil {
			return fmt.Errorf("file %s: %w", f.Path, err)
		}
	}
	if cfg.CreateCwd && cfg.Cwd != "" {
		if err := s.mkdirAll(r, cfg.Cwd); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("working directory %s: %w", cfg.Cwd, err)
		}
	}
	if cfg.RootReadOnly {
		// Last: the mount points above were made in the upper layer.
		r.Mount.SetFlags(r.Mount.Flags() | vfs.MountReadOnly)
	}
	return nil
}

// goferMount attaches gofer mount idx with directfs: the gofer hands over
// the mount's root directory FD and the sentry walks it itself.
func (s *sandbox) goferMount(idx int, readOnly bool) (*vfs.Filesystem, error) {
	_, _, dirFD, err := s.gofer.Attach(idx)
	if err != nil {
		return nil, fmt.Errorf("attach gofer mount %d: %w", idx, err)
	}
	return goferfs.NewDirect(s.vfs, dirFD, goferfs.Options{ReadOnly: readOnly})
}

// writeFile creates f in the root file system (the overlay's upper layer,
// or whatever is mounted there).
func (s *sandbox) writeFile(f File) error {
	ctx := rootCtx()
	r := s.ns.Root()
	if err := s.mkdirAll(r, path.Dir(f.Path)); err != nil {
		return err
	}
	file, err := s.vfs.OpenAt(ctx, r, r, f.Path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, f.Mode&0o7777)
	if err != nil {
		return err
	}
	defer file.DecRef(ctx)
	if _, err := file.Write(ctx, f.Data); err != nil {
		return err
	}
	return nil
}

// refreshFiles writes files again before init runs (the start request's
// single-file bind mounts, read again from the host after the creation
// hooks). A read-only root is made writable for the moment: no guest code
// runs yet.
func (s *sandbox) refreshFiles(files []*pb.File) error {
	if len(files) == 0 {
		return nil
	}
	m := s.ns.Root().Mount
	if flags := m.Flags(); flags&vfs.MountReadOnly != 0 {
		m.SetFlags(flags &^ vfs.MountReadOnly)
		defer m.SetFlags(flags)
	}
	for _, f := range files {
		p := f.GetPath()
		if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
			return fmt.Errorf("file %q: not a clean absolute path", p)
		}
		if err := s.writeFile(File{Path: p, Data: f.GetData(), Mode: f.GetMode() & 0o7777}); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
	}
	return nil
}
