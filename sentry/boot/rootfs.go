package boot

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/gofer"
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
	// The upper layer holds everything the guest writes to the root, in
	// the memory file or a host file (Config.OverlayFile), up to its limit
	// (ENOSPC after that): by default, like a Linux tmpfs, half the
	// machine's memory, not the whole memory file.
	upper, err := tmpfs.New(s.vfs, s.upper, tmpfs.Options{RootMode: 0o755, MaxBytes: s.upperLimit})
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
			if err := s.mountVolume(i+1, vol); err != nil {
				return fmt.Errorf("volume %s: %w", vol.GuestPath, err)
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

// goferMount attaches gofer mount idx. With directfs the gofer hands over
// the mount's root directory FD and the sentry walks it itself; without,
// every operation on it is an RPC to the gofer.
func (s *sandbox) goferMount(idx int, readOnly bool) (*vfs.Filesystem, error) {
	fid, st, dirFD, err := s.gofer.Attach(idx)
	if err != nil {
		return nil, fmt.Errorf("attach gofer mount %d: %w", idx, err)
	}
	opts := goferfs.Options{ReadOnly: readOnly}
	if s.directfs {
		return goferfs.NewDirect(s.vfs, dirFD, opts)
	}
	if dirFD >= 0 {
		unix.Close(dirFD)
	}
	return goferfs.NewRPC(s.vfs, s.gofer, fid, st, opts)
}

// mountVolume mounts gofer mount idx at vol.GuestPath, making the mount
// point in the upper layer if it is missing (as runc does in the
// container's root). A single-file volume is served as a directory holding
// only gofer.VolumeFile: that file is mounted over a file.
func (s *sandbox) mountVolume(idx int, vol Volume) error {
	ctx := rootCtx()
	r := s.ns.Root()
	fs, err := s.goferMount(idx, vol.ReadOnly)
	if err != nil {
		return err
	}
	flags := uint32(0)
	if vol.ReadOnly {
		flags = vfs.MountReadOnly
	}
	if !vol.File {
		if err := s.mkdirAll(r, vol.GuestPath); err != nil {
			return err
		}
		_, err := s.vfs.Mount(ctx, r, r, vol.GuestPath, fs, flags)
		return err
	}
	served := s.vfs.NewInternalMount(fs)
	src, err := s.vfs.GetLocation(ctx, served, served, gofer.VolumeFile, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("the gofer's file: %w", err)
	}
	defer src.DecRef()
	if err := s.mkdirAll(r, path.Dir(vol.GuestPath)); err != nil {
		return err
	}
	// O_RDONLY: an existing file of the image is not copied up.
	point, err := s.vfs.OpenAt(ctx, r, r, vol.GuestPath, unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("mount point: %w", err)
	}
	point.DecRef(ctx)
	_, err = s.vfs.BindMount(ctx, src, r, r, vol.GuestPath, flags, false)
	return err
}
