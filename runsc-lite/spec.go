package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// defaultSpec is the config.json `spec` writes: runc's default, a shell
// on a terminal in a read-only rootfs with few capabilities.
func defaultSpec() *specs.Spec {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal: true,
			User:     specs.User{UID: 0, GID: 0},
			Args:     []string{"sh"},
			Env:      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Cwd:      "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "runsc-lite",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
		},
	}
}

var specCommand = ociCommand("spec", "write a default config.json into a bundle", "[--bundle DIR]", 0,
	func(b *flagSetBuilder) {
		b.String("bundle", ".", "bundle `DIR` to write config.json into")
		b.String("b", "", "short for --bundle")
		b.Bool("rootless", "accepted for runc compatibility")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		dir := b.str("bundle")
		if d := b.str("b"); d != "" {
			dir = d
		}
		path := filepath.Join(dir, "config.json")
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s exists: remove it first", path)
		}
		data, err := json.MarshalIndent(defaultSpec(), "", "\t")
		if err != nil {
			return err
		}
		return os.WriteFile(path, append(data, '\n'), 0o644)
	})

var featuresCommand = ociCommand("features", "print what the runtime supports as JSON", "", 0, nil,
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		yes := true
		var capList []string
		for n := range capNames {
			capList = append(capList, n)
		}
		sort.Strings(capList)
		f := features.Features{
			OCIVersionMin: "1.0.0",
			OCIVersionMax: specs.Version,
			Hooks:         []string{"prestart", "createRuntime", "createContainer", "poststart", "poststop"},
			MountOptions:  []string{"bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec", "size", "mode"},
			Linux: &features.Linux{
				Namespaces:   []string{"pid", "network", "ipc", "uts", "mount"},
				Capabilities: capList,
				Cgroup:       &features.Cgroup{V1: &yes, V2: &yes},
			},
			Annotations: map[string]string{"io.github.runsc-lite.platform": "systrap"},
		}
		out, err := json.MarshalIndent(f, "", "    ")
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", out)
		return nil
	})

const defaultDaemonJSON = "/etc/docker/daemon.json"

// editDaemonJSON applies edit to the "runtimes" object of a Docker
// daemon.json, keeping every other setting as it is (unknown ones too).
func editDaemonJSON(path string, edit func(runtimes map[string]json.RawMessage)) error {
	top := map[string]json.RawMessage{}
	mode := os.FileMode(0o644)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
		if len(data) > 0 {
			if err := json.Unmarshal(data, &top); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return err
	}
	runtimes := map[string]json.RawMessage{}
	if raw, ok := top["runtimes"]; ok {
		if err := json.Unmarshal(raw, &runtimes); err != nil {
			return fmt.Errorf("%s: runtimes: %w", path, err)
		}
	}
	edit(runtimes)
	if len(runtimes) == 0 {
		delete(top, "runtimes")
	} else {
		raw, err := json.Marshal(runtimes)
		if err != nil {
			return err
		}
		top["runtimes"] = raw
	}
	out, err := json.MarshalIndent(top, "", "    ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".runsc-lite.tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

var installCommand = ociCommand("install", "register runsc-lite as a runtime in Docker's daemon.json", "[--runtime NAME] [--config-file PATH] [-- RUNTIME ARGS...]", -1,
	func(b *flagSetBuilder) {
		b.String("runtime", "runsc-lite", "runtime `NAME` in daemon.json")
		b.String("config-file", defaultDaemonJSON, "Docker's daemon configuration `FILE`")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		if b.str("runtime") == "" {
			return usageErrorf("--runtime must not be empty")
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		if self, err = filepath.EvalSymlinks(self); err != nil {
			return err
		}
		entry := map[string]any{"path": self}
		if len(args) > 0 {
			entry["runtimeArgs"] = args
		}
		raw, err := json.Marshal(entry)
		if err != nil {
			return err
		}
		return editDaemonJSON(b.str("config-file"), func(r map[string]json.RawMessage) {
			r[b.str("runtime")] = raw
		})
	})

var uninstallCommand = ociCommand("uninstall", "remove runsc-lite's runtime entry from Docker's daemon.json", "[--runtime NAME] [--config-file PATH]", 0,
	func(b *flagSetBuilder) {
		b.String("runtime", "runsc-lite", "runtime `NAME` in daemon.json")
		b.String("config-file", defaultDaemonJSON, "Docker's daemon configuration `FILE`")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		found := false
		err := editDaemonJSON(b.str("config-file"), func(r map[string]json.RawMessage) {
			_, found = r[b.str("runtime")]
			delete(r, b.str("runtime"))
		})
		if err == nil && !found {
			return fmt.Errorf("runtime %q is not in %s", b.str("runtime"), b.str("config-file"))
		}
		return err
	})
