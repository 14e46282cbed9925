package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

const doUsage = "[FLAGS] [--] CMD [ARGS...]"

var doCommand = &command{
	name:     "do",
	synopsis: "run a command in a fresh sandbox over the host's root file system (read-only, below a writable overlay)",
	usage:    doUsage,
	run:      runDo,
}

// doOptions are the parsed flags and arguments of `do`.
type doOptions struct {
	network  string
	cwd      string
	volumes  []volume
	strace   bool
	debugLog string
	platform string
	hostname string
	directfs bool
	overlay  overlayOptions
	argv     []string
}

func newDoFlagSet(g *globalFlags, o *doOptions) *flag.FlagSet {
	o.network = "none"
	o.platform = g.platform
	o.strace = g.strace
	o.debugLog = g.debugLog
	o.directfs = true
	o.overlay = g.overlay
	fs := newFlagSet("do")
	fs.Var(&choiceValue{p: &o.network, choices: []string{"none", "host"}}, "network", "guest network `MODE`: none (loopback only) or host")
	fs.Var(nonEmptyValue{&o.cwd}, "cwd", "guest working directory `DIR` (default: the current directory)")
	fs.Var(volumesValue{&o.volumes}, "volume", "mount `HOST[:GUEST][:ro]`: host path HOST at GUEST (default: the same path), read-only with :ro; repeatable")
	fs.BoolVar(&o.strace, "strace", o.strace, "log every guest system call")
	fs.Var(nonEmptyValue{&o.debugLog}, "debug-log", "write debug logs of the sandbox processes into `DIR`")
	fs.Var(&choiceValue{p: &o.platform, choices: platforms}, "platform", "`PLATFORM` that runs guest code: systrap")
	fs.StringVar(&o.hostname, "hostname", "", "guest host `NAME` (default: the host's)")
	fs.BoolVar(&o.directfs, "directfs", o.directfs, "let the sentry open host files itself from directory FDs the gofer gives it")
	fs.Var(mediumValue{&o.overlay}, "overlay", overlayUsage)
	fs.Var(sizeValue{&o.overlay.size}, "overlay-size", overlaySizeUsage)
	return fs
}

// parseDoArgs parses the arguments of `do`. It returns flag.ErrHelp for
// -h/--help and a *usageError for bad input.
func parseDoArgs(g *globalFlags, args []string) (*doOptions, error) {
	o := &doOptions{}
	fs := newDoFlagSet(g, o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{flagError(err).Error()}
	}
	o.argv = fs.Args()
	if len(o.argv) == 0 {
		return nil, usageErrorf("missing command (usage: runsc-lite do %s)", doUsage)
	}
	if o.argv[0] == "" {
		return nil, usageErrorf("empty command name")
	}
	if o.cwd != "" {
		cwd, err := filepath.Abs(o.cwd)
		if err != nil {
			return nil, err
		}
		o.cwd = cwd
	}
	if err := o.overlay.check(false); err != nil {
		return nil, &usageError{err.Error()}
	}
	seen := map[string]bool{}
	for _, v := range o.volumes {
		if seen[v.GuestPath] {
			return nil, usageErrorf("two volumes at %s", v.GuestPath)
		}
		seen[v.GuestPath] = true
	}
	return o, nil
}

func runDo(g *globalFlags, args []string) int {
	o, err := parseDoArgs(g, args)
	if errors.Is(err, flag.ErrHelp) {
		var tmp doOptions
		printCommandHelp(os.Stdout, lookup("do"), newDoFlagSet(g, &tmp))
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return fatalf(exitUsage, "do: %v", err)
	}
	if err != nil {
		return fatalf(exitSetup, "do: %v", err)
	}

	cfg, mounts, err := o.bootConfig()
	if err != nil {
		return fatalf(exitSetup, "do: %v", err)
	}
	overlay, err := o.overlay.open(cfg, "")
	if err != nil {
		return fatalf(exitSetup, "do: %v", err)
	}
	if overlay != nil {
		defer overlay.Close()
	}
	opts := sandbox.Options{
		GlobalArgs:  g.childArgs(),
		Boot:        *cfg,
		GoferMounts: mounts,
		Debugf:      debugf,
		Overlay:     overlay,
	}
	if o.debugLog != "" {
		gl, sentryLog, err := openDebugLogs(o.debugLog)
		if err != nil {
			return fatalf(exitSetup, "do: %v", err)
		}
		defer gl.Close()
		opts.GoferStderr = gl
		opts.Boot.DebugLog = sentryLog
	}
	status, err := sandbox.Run(opts)
	if err != nil {
		if status == 0 {
			status = exitSetup
			if errors.Is(err, syscall.EPERM) && os.Geteuid() != 0 {
				return fatalf(status, "do: %v (runsc-lite must run as root)", err)
			}
		}
		return fatalf(status, "do: %v", err)
	}
	return status
}

// bootConfig builds the sentry's configuration and the gofer's mounts.
func (o *doOptions) bootConfig() (*boot.Config, []sandbox.GoferMount, error) {
	cwd := o.cwd
	if cwd == "" {
		var err error
		if cwd, err = os.Getwd(); err != nil {
			cwd = "/"
		}
	}
	hostname := o.hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
		if hostname == "" {
			hostname = "runsc-lite"
		}
	}
	cfg := &boot.Config{
		Argv:     o.argv,
		Env:      os.Environ(),
		Cwd:      cwd,
		Hostname: hostname,
		UID:      uint32(os.Getuid()),
		GID:      uint32(os.Getgid()),
		Network:  o.network,
		Platform: o.platform,
		Strace:   o.strace,
		Directfs: o.directfs,
	}
	mounts := []sandbox.GoferMount{{HostPath: "/", ReadOnly: true}}
	sys := true
	for _, v := range o.volumes {
		cfg.Volumes = append(cfg.Volumes, boot.Volume{GuestPath: v.GuestPath, ReadOnly: v.ReadOnly, File: v.File})
		mounts = append(mounts, sandbox.GoferMount{HostPath: v.HostPath, ReadOnly: v.ReadOnly})
		// A volume at /sys replaces the sandbox's sysfs; one below it
		// is mounted on the sysfs.
		if v.GuestPath == "/sys" {
			sys = false
		}
	}
	if sys {
		// The sentry's own /sys, read-only as in a container; the
		// host's is not shown.
		cfg.Mounts = append(cfg.Mounts, boot.Mount{Destination: "/sys", Type: "sysfs", ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true})
	}
	return cfg, mounts, nil
}

// openDebugLogs creates dir (the user asked for it), sends the CLI's debug
// log there unless --log is set, and returns the gofer's log file (its
// stderr) and the absolute path of the sentry's. The three share a name
// stamped with the time and the CLI's pid, so that sandboxes logging to
// one directory do not mix (the sentry's own pid is 1 in its namespace).
func openDebugLogs(dir string) (gofer *os.File, sentryLog string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("--debug-log: %w", err)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, "", fmt.Errorf("--debug-log: %w", err)
	}
	stamp := time.Now().Format("20060102-150405.000000")
	name := func(what string) string {
		return filepath.Join(dir, fmt.Sprintf("runsc-lite.%s.%d.%s.log", stamp, os.Getpid(), what))
	}
	logState.mu.Lock()
	if logState.f == nil {
		if f, err := os.OpenFile(name("do"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			logState.f = f
			logState.debug = true
		}
	}
	logState.mu.Unlock()
	gofer, err = os.OpenFile(name("gofer"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	return gofer, name("sentry"), err
}
