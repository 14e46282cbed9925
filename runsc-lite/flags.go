package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// globalFlags are accepted before the command name (runc-compatible ones
// and runsc-lite's own).
type globalFlags struct {
	root          string
	log           string
	logFormat     string
	debug         bool
	systemdCgroup bool
	platform      string
	strace        bool
	debugLog      string
	// network overrides the bundle's network namespace for OCI
	// containers: "sandbox" (default: as config.json says), "none" (a
	// new namespace with loopback only) or "host".
	network string
	// overlay is where the root overlay's upper layer keeps its data,
	// and its limit (for do and for OCI create/run).
	overlay overlayOptions
}

// Platforms the sentry knows.
// platforms are the platforms this build has (DESIGN.md's kvm platform is
// not built yet: a flag value that could never run is refused).
var platforms = []string{"systrap"}

const defaultRoot = "/var/run/runsc-lite"

func newGlobalFlagSet(g *globalFlags) *flag.FlagSet {
	fs := newFlagSet("runsc-lite")
	fs.StringVar(&g.root, "root", defaultRoot, "`DIR` for container state")
	fs.StringVar(&g.log, "log", "", "append log messages to `FILE`")
	fs.Var(&choiceValue{p: &g.logFormat, choices: []string{"text", "json"}}, "log-format", "log `FORMAT`: text or json")
	fs.BoolVar(&g.debug, "debug", false, "log debug messages (to --log, else stderr)")
	fs.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "use systemd for cgroups (accepted for runc compatibility)")
	fs.Var(&choiceValue{p: &g.platform, choices: platforms}, "platform", "`PLATFORM` that runs guest code: systrap")
	fs.BoolVar(&g.strace, "strace", false, "log every guest system call")
	fs.Var(nonEmptyValue{&g.debugLog}, "debug-log", "write debug logs of the sandbox processes into `DIR`")
	fs.Var(&choiceValue{p: &g.network, choices: []string{"sandbox", "none", "host"}}, "network", "OCI containers' network `MODE`: sandbox (as config.json says), none (loopback only) or host")
	fs.Var(mediumValue{&g.overlay}, "overlay", overlayUsage)
	fs.Var(sizeValue{&g.overlay.size}, "overlay-size", overlaySizeUsage)
	return fs
}

// parseGlobalFlags parses the flags before the command name and returns
// the rest of the command line (the command and its arguments).
func parseGlobalFlags(args []string) (*globalFlags, []string, error) {
	g := &globalFlags{logFormat: "text", platform: "systrap", network: "sandbox"}
	fs := newGlobalFlagSet(g)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return g, fs.Args(), nil
}

// childArgs returns the global flags to pass on to the internal
// subcommands: they log to the same place as the CLI.
func (g *globalFlags) childArgs() []string {
	var a []string
	if g.log != "" {
		if abs, err := filepath.Abs(g.log); err == nil {
			a = append(a, "--log="+abs, "--log-format="+g.logFormat)
		}
	}
	if g.debug {
		a = append(a, "--debug")
	}
	return a
}

// choiceValue is a string flag limited to a set of values.
type choiceValue struct {
	p       *string
	choices []string
}

func (v *choiceValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *choiceValue) Set(s string) error {
	for _, c := range v.choices {
		if s == c {
			*v.p = s
			return nil
		}
	}
	return fmt.Errorf("must be %s", orList(v.choices))
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// nonEmptyValue is a string flag that may not be set to "".
type nonEmptyValue struct{ p *string }

func (v nonEmptyValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v nonEmptyValue) Set(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	*v.p = s
	return nil
}

// volume is one --volume HOST[:GUEST][:ro|rw].
type volume struct {
	HostPath  string // absolute, cleaned
	GuestPath string // absolute, cleaned
	ReadOnly  bool
	File      bool // a regular file, not a directory
}

// parseVolume parses and checks a --volume argument. Relative host paths
// are taken relative to the current directory; the host path must exist.
func parseVolume(s string) (volume, error) {
	var v volume
	parts := strings.Split(s, ":")
	if n := len(parts); n > 1 && (parts[n-1] == "ro" || parts[n-1] == "rw") {
		v.ReadOnly = parts[n-1] == "ro"
		parts = parts[:n-1]
	}
	switch len(parts) {
	case 1:
	case 2:
		v.GuestPath = parts[1]
	default:
		return v, errors.New("want HOST[:GUEST][:ro|rw]")
	}
	if parts[0] == "" {
		return v, errors.New("empty host path")
	}
	host, err := filepath.Abs(parts[0])
	if err != nil {
		return v, err
	}
	fi, err := os.Stat(host)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return v, fmt.Errorf("host path %s does not exist", host)
		}
		return v, err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return v, fmt.Errorf("host path %s is neither a directory nor a regular file", host)
	}
	v.File = !fi.IsDir()
	v.HostPath = host
	if v.GuestPath == "" {
		if len(parts) == 2 {
			return v, errors.New("empty guest path")
		}
		v.GuestPath = host
	}
	if !filepath.IsAbs(v.GuestPath) {
		return v, fmt.Errorf("guest path %s is not absolute", v.GuestPath)
	}
	v.GuestPath = filepath.Clean(v.GuestPath)
	if v.GuestPath == "/" {
		return v, errors.New("cannot mount a volume over the guest's /")
	}
	return v, nil
}

// volumesValue collects repeated --volume flags.
type volumesValue struct{ p *[]volume }

func (v volumesValue) String() string {
	if v.p == nil {
		return ""
	}
	var s []string
	for _, vol := range *v.p {
		s = append(s, vol.HostPath+":"+vol.GuestPath)
	}
	return strings.Join(s, ",")
}

func (v volumesValue) Set(s string) error {
	vol, err := parseVolume(s)
	if err != nil {
		return err
	}
	*v.p = append(*v.p, vol)
	return nil
}
