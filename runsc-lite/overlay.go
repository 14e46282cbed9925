package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

// Media of the root overlay's upper layer (--overlay).
const (
	// mediumMemory keeps the layer's file data in the sentry's memory
	// file (the default).
	mediumMemory = "memory"
	// mediumSelf keeps it in an unnamed file in the container's rootfs
	// directory, on the disk the container's image is on (OCI only).
	mediumSelf = "self"
	// mediumDir keeps it in an unnamed file in a host directory.
	mediumDir = "dir"
)

// maxOverlayFileSize bounds --overlay-size for a host file: the sentry maps
// the whole file, so the limit is address space, not disk.
const maxOverlayFileSize = 4 << 40

// overlayOptions say where the root overlay's upper layer keeps its file
// data (--overlay MEDIUM) and how much it may hold (--overlay-size SIZE).
// The zero value is the default: memory, half the host's RAM.
type overlayOptions struct {
	medium string // mediumMemory (or ""), mediumSelf or mediumDir
	dir    string // for mediumDir: absolute, cleaned
	size   int64  // bytes; 0: boot.DefaultOverlaySize
}

// overlayUsage is the help text of --overlay.
const overlayUsage = "`MEDIUM` holding the file data of the root overlay's upper layer: memory, " +
	"dir:DIR (an unnamed file in host directory DIR: disk, not RAM) or self (OCI containers: an unnamed file in the bundle's rootfs)"

// overlaySizeUsage is the help text of --overlay-size.
const overlaySizeUsage = "limit the root overlay's file data to `SIZE` bytes (suffix K, M, G or T; " +
	"default: half the host's memory); writes beyond fail with ENOSPC"

// mediumValue is the flag.Value of --overlay.
type mediumValue struct{ o *overlayOptions }

func (v mediumValue) String() string {
	if v.o == nil {
		return ""
	}
	switch v.o.medium {
	case "", mediumMemory:
		return mediumMemory
	case mediumDir:
		return mediumDir + ":" + v.o.dir
	}
	return v.o.medium
}

func (v mediumValue) Set(s string) error {
	switch {
	case s == mediumMemory || s == mediumSelf:
		v.o.medium, v.o.dir = s, ""
	case strings.HasPrefix(s, mediumDir+":"):
		dir := strings.TrimPrefix(s, mediumDir+":")
		if dir == "" {
			return errors.New("dir: needs a directory")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		v.o.medium, v.o.dir = mediumDir, abs
	default:
		return errors.New("must be memory, self or dir:DIR")
	}
	return nil
}

// sizeValue is the flag.Value of --overlay-size.
type sizeValue struct{ p *int64 }

func (v sizeValue) String() string {
	if v.p == nil || *v.p == 0 {
		return ""
	}
	return strconv.FormatInt(*v.p, 10)
}

func (v sizeValue) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

// parseByteSize parses a positive byte count with an optional binary suffix
// (K, M, G, T; case-insensitive).
func parseByteSize(s string) (int64, error) {
	num, shift := s, 0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		case 't', 'T':
			shift = 40
		}
		if shift != 0 {
			num = s[:n-1]
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || num[0] == '+' {
		return 0, errors.New("want a positive number of bytes, with K, M, G or T for KiB, MiB, GiB or TiB")
	}
	if n > (1<<62)>>shift {
		return 0, errors.New("too large")
	}
	return n << shift, nil
}

// check validates the options before anything is started. oci says
// whether they are for a container (self needs its rootfs).
func (o overlayOptions) check(oci bool) error {
	switch o.medium {
	case "", mediumMemory:
		if o.size > boot.MemoryFileSize {
			return fmt.Errorf("--overlay-size %s: the memory medium holds at most %s", formatSize(o.size), formatSize(boot.MemoryFileSize))
		}
		return nil
	case mediumSelf:
		if !oci {
			return errors.New("--overlay self is for OCI containers (create, run); use dir:DIR")
		}
	case mediumDir:
		fi, err := os.Stat(o.dir)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--overlay dir:%s: no such directory", o.dir)
		}
		if err != nil {
			return fmt.Errorf("--overlay dir:%s: %w", o.dir, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("--overlay dir:%s: not a directory", o.dir)
		}
	}
	if o.size > maxOverlayFileSize {
		return fmt.Errorf("--overlay-size %s: a host file holds at most %s", formatSize(o.size), formatSize(maxOverlayFileSize))
	}
	return nil
}

// open applies the options to cfg and returns the host file for the
// sandbox (nil for memory): an unnamed file in the medium's directory
// (rootfs for self), sized to the limit. The caller closes it once the
// sandbox has it.
func (o overlayOptions) open(cfg *boot.Config, rootfs string) (*os.File, error) {
	cfg.OverlaySize = o.size
	dir := o.dir
	switch o.medium {
	case "", mediumMemory:
		return nil, nil
	case mediumSelf:
		dir = rootfs
	}
	size := o.size
	if size == 0 {
		size = boot.DefaultOverlaySize()
	}
	f, err := sandbox.OpenOverlayFile(dir, size)
	if err != nil {
		return nil, fmt.Errorf("--overlay %s: %w", mediumValue{&o}, err)
	}
	cfg.OverlaySize, cfg.OverlayFile = size, true
	return f, nil
}

// formatSize writes n with the largest binary suffix that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		shift  uint
		suffix string
	}{{40, "T"}, {30, "G"}, {20, "M"}, {10, "K"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
