package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

// loadBundle reads and checks dir/config.json; dir is made absolute.
func loadBundle(dir string) (string, *specs.Spec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.IsDir() {
		return "", nil, fmt.Errorf("bundle %s is not a directory", abs)
	}
	b, err := os.ReadFile(filepath.Join(abs, "config.json"))
	if err != nil {
		return "", nil, fmt.Errorf("bundle %s: reading config.json: %w", abs, errors.Unwrap(err))
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return "", nil, fmt.Errorf("bundle %s: config.json: %v", abs, err)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return "", nil, fmt.Errorf("bundle %s: config.json has no root.path", abs)
	}
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return "", nil, fmt.Errorf("bundle %s: config.json has no process.args", abs)
	}
	return abs, &spec, nil
}

// rootfsPath is the bundle's root file system, absolute.
func rootfsPath(bundle string, spec *specs.Spec) (string, error) {
	p := spec.Root.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(bundle, p)
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return "", fmt.Errorf("root file system %s is not a directory", p)
	}
	return p, nil
}

// sandboxConfig turns a bundle's spec into the sentry's configuration and
// the gofer's mounts (the root file system first, then bind mounts).
func sandboxConfig(g *globalFlags, rootfs string, spec *specs.Spec) (*boot.Config, []sandbox.GoferMount, error) {
	p := spec.Process
	cfg := &boot.Config{
		Argv:       p.Args,
		Env:        p.Env,
		Cwd:        p.Cwd,
		Hostname:   spec.Hostname,
		Domainname: spec.Domainname,
		UID:        p.User.UID,
		GID:        p.User.GID,
		Groups:     p.User.AdditionalGids,
		Platform:   g.platform,
		Strace:     g.strace,
		Directfs:   true,
		Network:    "host",

		NoNewPrivileges: p.NoNewPrivileges,
		RootReadOnly:    spec.Root.Readonly,
		CreateCwd:       true,
	}
	if cfg.Cwd == "" {
		cfg.Cwd = "/"
	}
	if !filepath.IsAbs(cfg.Cwd) {
		return nil, nil, fmt.Errorf("process.cwd %q is not absolute", cfg.Cwd)
	}
	switch g.network {
	case "host", "none":
		cfg.Network = g.network
	}
	if spec.Linux != nil {
		if r := spec.Linux.Resources; r != nil && r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit > 0 {
			// Enforced by the sentry on guest tasks; the host cgroup
			// gets room for the sandbox's own threads (hostPidsLimit).
			cfg.MaxTasks = int(*r.Pids.Limit)
		}
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace && g.network == "sandbox" {
				// Joined (path) or new: either way not the host's.
				cfg.Network = "none"
			}
		}
		sysctls, err := sandbox.SplitSysctls(spec.Linux.Sysctl, cfg.Network == "host")
		if err != nil {
			return nil, nil, err
		}
		cfg.NetSysctl, cfg.IPCSysctl = sysctls.Net, sysctls.IPC
		if sysctls.Hostname != "" {
			cfg.Hostname = sysctls.Hostname
		}
		if sysctls.Domainname != "" {
			cfg.Domainname = sysctls.Domainname
		}
		for _, k := range sysctls.Ignored {
			logWarning(fmt.Sprintf("sysctl %s is not applied: runsc-lite does not support it", k))
		}
	}
	if p.Capabilities != nil {
		cfg.Caps = &boot.Caps{
			Effective:   capMask(p.Capabilities.Effective),
			Permitted:   capMask(p.Capabilities.Permitted),
			Inheritable: capMask(p.Capabilities.Inheritable),
			Bounding:    capMask(p.Capabilities.Bounding),
			Ambient:     capMask(p.Capabilities.Ambient),
		}
	}
	for _, r := range p.Rlimits {
		n, ok := rlimitNumbers[r.Type]
		if !ok {
			return nil, nil, fmt.Errorf("unknown rlimit %q", r.Type)
		}
		cfg.Rlimits = append(cfg.Rlimits, boot.Rlimit{Type: n, Soft: r.Soft, Hard: r.Hard})
	}
	mounts := []sandbox.GoferMount{{HostPath: rootfs, ReadOnly: true}}
	for _, m := range spec.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return nil, nil, fmt.Errorf("mount destination %q is not absolute", m.Destination)
		}
		dest := filepath.Clean(m.Destination)
		ro := hasOption(m.Options, "ro")
		typ := m.Type
		if typ == "" || typ == "none" || hasOption(m.Options, "bind") || hasOption(m.Options, "rbind") {
			typ = "bind"
		}
		switch typ {
		case "bind":
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(filepath.Dir(rootfs), src)
			}
			fi, err := os.Stat(src)
			if err != nil {
				return nil, nil, fmt.Errorf("bind mount %s: %w", dest, err)
			}
			// A single file (Docker's /etc/hosts, /etc/resolv.conf,
			// /etc/hostname) is a volume too: its writes reach the host.
			if !fi.IsDir() && !fi.Mode().IsRegular() {
				return nil, nil, fmt.Errorf("bind mount %s: %s is neither a directory nor a regular file", dest, src)
			}
			mounts = append(mounts, sandbox.GoferMount{HostPath: src, ReadOnly: ro})
			cfg.Volumes = append(cfg.Volumes, boot.Volume{GuestPath: dest, ReadOnly: ro, File: !fi.IsDir()})
		default:
			bm := boot.Mount{Destination: dest, Type: typ, ReadOnly: ro, NoSuid: hasOption(m.Options, "nosuid"),
				NoDev: hasOption(m.Options, "nodev"), NoExec: hasOption(m.Options, "noexec")}
			for _, o := range m.Options {
				if v, ok := strings.CutPrefix(o, "size="); ok {
					bm.Size = parseSize(v)
				}
				if v, ok := strings.CutPrefix(o, "mode="); ok {
					if n, err := strconv.ParseUint(v, 8, 32); err == nil {
						bm.Mode = uint32(n)
					}
				}
			}
			cfg.Mounts = append(cfg.Mounts, bm)
		}
	}
	return cfg, mounts, nil
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// parseSize parses a tmpfs size= option (bytes, with k, m or g).
func parseSize(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, strings.TrimSuffix(s, "g")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return n * mult
}

// capNames maps CAP_* names to numbers.
var capNames = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// capMask turns capability names into a bit mask; unknown names are
// ignored (a newer kernel's capability means nothing to the sentry).
func capMask(names []string) uint64 {
	var m uint64
	for _, n := range names {
		if c, ok := capNames[strings.ToUpper(n)]; ok {
			m |= 1 << uint(c)
		}
	}
	return m
}

var rlimitNumbers = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
	"RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}
