package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

func TestParseGlobalFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    globalFlags
		rest    []string
		wantErr string
	}{
		{
			args: []string{"do", "true"},
			want: globalFlags{root: defaultRoot, logFormat: "text", platform: "systrap", network: "sandbox"},
			rest: []string{"do", "true"},
		},
		{
			args: []string{"--root", "/r", "--log", "/l.json", "--log-format", "json", "--debug", "--systemd-cgroup", "create", "x"},
			want: globalFlags{root: "/r", log: "/l.json", logFormat: "json", debug: true, systemdCgroup: true, platform: "systrap", network: "sandbox"},
			rest: []string{"create", "x"},
		},
		{
			args: []string{"--platform=systrap", "--strace", "--debug-log", "/d", "do", "--strace", "ls"},
			want: globalFlags{root: defaultRoot, logFormat: "text", platform: "systrap", strace: true, debugLog: "/d", network: "sandbox"},
			rest: []string{"do", "--strace", "ls"},
		},
		{args: []string{"-debug", "version"}, want: globalFlags{root: defaultRoot, logFormat: "text", platform: "systrap", debug: true, network: "sandbox"}, rest: []string{"version"}},
		{args: []string{}, want: globalFlags{root: defaultRoot, logFormat: "text", platform: "systrap", network: "sandbox"}, rest: []string{}},
		{args: []string{"--network", "host", "run", "x"}, want: globalFlags{root: defaultRoot, logFormat: "text", platform: "systrap", network: "host"}, rest: []string{"run", "x"}},
		{args: []string{"--log-format", "xml", "do"}, wantErr: `invalid value "xml" for --log-format: must be text or json`},
		{args: []string{"--platform", "ptrace", "do"}, wantErr: `invalid value "ptrace" for --platform: must be systrap`},
		{args: []string{"--platform", "kvm", "do"}, wantErr: `invalid value "kvm" for --platform: must be systrap`},
		{args: []string{"--debug-log=", "do"}, wantErr: `invalid value "" for --debug-log: must not be empty`},
		{args: []string{"--bogus", "do"}, wantErr: "unknown flag --bogus"},
		{args: []string{"--root"}, wantErr: "flag --root needs an argument"},
	} {
		g, rest, err := parseGlobalFlags(tc.args)
		if tc.wantErr != "" {
			if err == nil || flagError(err).Error() != tc.wantErr {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if *g != tc.want || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("%q: got %+v %q, want %+v %q", tc.args, *g, rest, tc.want, tc.rest)
		}
	}
	if _, _, err := parseGlobalFlags([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

func TestParseDoArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	g := &globalFlags{platform: "systrap"}
	gDebug := &globalFlags{platform: "systrap", strace: true, debugLog: "/logs"}
	for _, tc := range []struct {
		name    string
		g       *globalFlags
		args    []string
		check   func(o *doOptions) string
		wantErr string
	}{
		{name: "defaults", args: []string{"echo", "hi"}, check: func(o *doOptions) string {
			if o.network != "none" || o.platform != "systrap" || o.cwd != "" || o.strace || !o.directfs ||
				!reflect.DeepEqual(o.argv, []string{"echo", "hi"}) || len(o.volumes) != 0 {
				return "bad defaults"
			}
			return ""
		}},
		{name: "double dash", args: []string{"--", "--network", "x"}, check: func(o *doOptions) string {
			if !reflect.DeepEqual(o.argv, []string{"--network", "x"}) || o.network != "none" {
				return "-- not honoured"
			}
			return ""
		}},
		{name: "command flags are the guest's", args: []string{"ls", "-l", "--network", "host"}, check: func(o *doOptions) string {
			if !reflect.DeepEqual(o.argv, []string{"ls", "-l", "--network", "host"}) || o.network != "none" {
				return "parsed past the command"
			}
			return ""
		}},
		{name: "all flags", args: []string{"--network=host", "--cwd", "/usr", "--strace", "--debug-log", "/d", "--platform", "systrap",
			"--hostname", "box", "--directfs=false", "--volume", dir + ":/data:ro", "--volume", dir, "--volume", file + ":/etc/f", "sh"}, check: func(o *doOptions) string {
			want := []volume{{dir, "/data", true, false}, {dir, dir, false, false}, {file, "/etc/f", false, true}}
			if o.network != "host" || o.cwd != "/usr" || !o.strace || o.debugLog != "/d" || o.platform != "systrap" ||
				o.hostname != "box" || o.directfs || !reflect.DeepEqual(o.volumes, want) {
				return "flags not applied"
			}
			return ""
		}},
		{name: "globals inherited", g: gDebug, args: []string{"true"}, check: func(o *doOptions) string {
			if o.platform != "systrap" || !o.strace || o.debugLog != "/logs" {
				return "global flags not inherited"
			}
			return ""
		}},
		{name: "relative cwd", args: []string{"--cwd", "sub", "true"}, check: func(o *doOptions) string {
			if o.cwd != filepath.Join(wd, "sub") {
				return "cwd " + o.cwd
			}
			return ""
		}},
		{name: "missing command", args: []string{}, wantErr: "missing command"},
		{name: "missing command after flags", args: []string{"--network", "host", "--"}, wantErr: "missing command"},
		{name: "empty command", args: []string{""}, wantErr: "empty command name"},
		{name: "unknown flag", args: []string{"--bogus", "true"}, wantErr: "unknown flag --bogus"},
		{name: "bad network", args: []string{"--network", "bogus", "true"}, wantErr: `invalid value "bogus" for --network: must be none or host`},
		{name: "bad platform", args: []string{"--platform", "bogus", "true"}, wantErr: `invalid value "bogus" for --platform: must be systrap`},
		{name: "empty cwd", args: []string{"--cwd", "", "true"}, wantErr: `invalid value "" for --cwd: must not be empty`},
		{name: "missing volume", args: []string{"--volume", "/nonexistent/runsc-lite", "true"}, wantErr: "host path /nonexistent/runsc-lite does not exist"},
		{name: "device volume", args: []string{"--volume", "/dev/null", "true"}, wantErr: "host path /dev/null is neither a directory nor a regular file"},
		{name: "relative guest path", args: []string{"--volume", dir + ":data", "true"}, wantErr: "guest path data is not absolute"},
		{name: "volume on /", args: []string{"--volume", dir + ":/", "true"}, wantErr: "cannot mount a volume over the guest's /"},
		{name: "too many colons", args: []string{"--volume", dir + ":/a:/b:ro", "true"}, wantErr: "want HOST[:GUEST][:ro|rw]"},
		{name: "duplicate volume", args: []string{"--volume", dir + ":/a", "--volume", dir + ":/a/", "true"}, wantErr: "two volumes at /a"},
		{name: "flag needs argument", args: []string{"--cwd"}, wantErr: "flag --cwd needs an argument"},
	} {
		gg := tc.g
		if gg == nil {
			gg = g
		}
		o, err := parseDoArgs(gg, tc.args)
		if tc.wantErr != "" {
			var ue *usageError
			if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want usage error %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if msg := tc.check(o); msg != "" {
			t.Errorf("%s: %s: %+v", tc.name, msg, *o)
		}
	}
	if _, err := parseDoArgs(g, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestParseVolume(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in      string
		want    volume
		wantErr bool
	}{
		{in: dir, want: volume{HostPath: dir, GuestPath: dir, ReadOnly: false}},
		{in: dir + ":ro", want: volume{HostPath: dir, GuestPath: dir, ReadOnly: true}},
		{in: dir + ":rw", want: volume{HostPath: dir, GuestPath: dir, ReadOnly: false}},
		{in: dir + ":/g", want: volume{HostPath: dir, GuestPath: "/g", ReadOnly: false}},
		{in: dir + ":/g/../h/:ro", want: volume{HostPath: dir, GuestPath: "/h", ReadOnly: true}},
		{in: dir + "/.:/g", want: volume{HostPath: dir, GuestPath: "/g", ReadOnly: false}},
		{in: file + ":/etc/f:ro", want: volume{HostPath: file, GuestPath: "/etc/f", ReadOnly: true, File: true}},
		{in: "/dev/null:/n", wantErr: true},
		{in: "", wantErr: true},
		{in: ":/g", wantErr: true},
		{in: dir + ":", wantErr: true},
		{in: dir + "::ro", wantErr: true},
		{in: dir + "/missing", wantErr: true},
	} {
		v, err := parseVolume(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%q: no error, got %+v", tc.in, v)
			}
			continue
		}
		if err != nil || v != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, v, err, tc.want)
		}
	}
}

func TestBootConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RUNSC_LITE_TEST_VAR", "x y")
	o, err := parseDoArgs(&globalFlags{platform: "systrap"}, []string{"--volume", dir + ":/v:ro", "--cwd", "/usr", "--hostname", "h", "ls", "-l"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, mounts, err := o.bootConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Argv, []string{"ls", "-l"}) || cfg.Cwd != "/usr" || cfg.Hostname != "h" ||
		cfg.Network != "none" || cfg.Platform != "systrap" || !cfg.Directfs || cfg.UID != uint32(os.Getuid()) {
		t.Errorf("config: %+v", cfg)
	}
	found := false
	for _, kv := range cfg.Env {
		found = found || kv == "RUNSC_LITE_TEST_VAR=x y"
	}
	if !found {
		t.Error("environment not passed through")
	}
	if len(cfg.Volumes) != 1 || cfg.Volumes[0].GuestPath != "/v" || !cfg.Volumes[0].ReadOnly {
		t.Errorf("volumes: %+v", cfg.Volumes)
	}
	if len(mounts) != 2 || mounts[0].HostPath != "/" || !mounts[0].ReadOnly || mounts[1].HostPath != dir || !mounts[1].ReadOnly {
		t.Errorf("gofer mounts: %+v", mounts)
	}
	wantSys := []boot.Mount{{Destination: "/sys", Type: "sysfs", ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true}}
	if !reflect.DeepEqual(cfg.Mounts, wantSys) {
		t.Errorf("mounts: %+v, want %+v", cfg.Mounts, wantSys)
	}
	o, _ = parseDoArgs(&globalFlags{platform: "systrap"}, []string{"true"})
	cfg, _, _ = o.bootConfig()
	if wd, _ := os.Getwd(); cfg.Cwd != wd {
		t.Errorf("default cwd %q, want %q", cfg.Cwd, wd)
	}
	// A volume at /sys replaces the sandbox's sysfs; others do not.
	for guest, want := range map[string][]boot.Mount{"/sys": nil, "/sys/fs/cgroup": wantSys, "/system": wantSys} {
		o, _ = parseDoArgs(&globalFlags{platform: "systrap"}, []string{"--volume", dir + ":" + guest, "true"})
		if cfg, _, _ = o.bootConfig(); !reflect.DeepEqual(cfg.Mounts, want) {
			t.Errorf("volume at %s: mounts %+v, want %+v", guest, cfg.Mounts, want)
		}
	}
}

func TestCommandTable(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range commands {
		if seen[c.name] {
			t.Errorf("command %s twice", c.name)
		}
		seen[c.name] = true
		if c.run == nil || c.synopsis == "" {
			t.Errorf("command %s incomplete", c.name)
		}
	}
	for _, name := range []string{"do", "boot", "gofer", "version", "help"} {
		if lookup(name) == nil {
			t.Errorf("no %s command", name)
		}
	}
}
