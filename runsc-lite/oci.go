package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
	"github.com/runsc-lite/runsc-lite/sentry/boot"
	"github.com/runsc-lite/runsc-lite/sentry/control"
	pb "github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
)

// exitFail is the status of a failed OCI command (runc's).
const exitFail = 1

// ociCommand builds a command whose run parses flags with fs and calls fn
// with the positional arguments; fn's error becomes one error line.
func ociCommand(name, synopsis, usage string, nargs int, flags func(*flagSetBuilder), fn func(g *globalFlags, fb *flagSetBuilder, args []string) error) *command {
	return &command{
		name:     name,
		synopsis: synopsis,
		usage:    usage,
		run: func(g *globalFlags, args []string) int {
			fb := &flagSetBuilder{fs: newFlagSet(name)}
			if flags != nil {
				flags(fb)
			}
			if done, status := parseCommandFlags(name, fb.fs, args); done {
				return status
			}
			rest := fb.fs.Args()
			if nargs >= 0 && len(rest) != nargs {
				return fatalf(exitUsage, "%s: want %d argument(s), got %d (usage: runsc-lite %s %s)", name, nargs, len(rest), name, usage)
			}
			if err := fn(g, fb, rest); err != nil {
				var ue *usageError
				if errors.As(err, &ue) {
					return fatalf(exitUsage, "%s: %v", name, err)
				}
				var ee *exitError
				if errors.As(err, &ee) {
					return ee.status
				}
				return fatalf(exitFail, "%s: %v", name, err)
			}
			return 0
		},
	}
}

// exitError ends a command with a status and no message (run, wait and
// exec pass the container's status on).
type exitError struct{ status int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.status) }

// flagSetBuilder holds a command's flag set and its values by name.
type flagSetBuilder struct {
	fs      *flag.FlagSet
	strings map[string]*string
	bools   map[string]*bool
	lists   map[string]*stringList
}

func (b *flagSetBuilder) String(name, def, usage string) {
	if b.strings == nil {
		b.strings = map[string]*string{}
	}
	b.strings[name] = b.fs.String(name, def, usage)
}

func (b *flagSetBuilder) Bool(name string, usage string) {
	if b.bools == nil {
		b.bools = map[string]*bool{}
	}
	b.bools[name] = b.fs.Bool(name, false, usage)
}

func (b *flagSetBuilder) List(name, usage string) {
	if b.lists == nil {
		b.lists = map[string]*stringList{}
	}
	l := &stringList{}
	b.fs.Var(l, name, usage)
	b.lists[name] = l
}

func (b *flagSetBuilder) str(name string) string { return *b.strings[name] }
func (b *flagSetBuilder) on(name string) bool    { return *b.bools[name] }
func (b *flagSetBuilder) list(name string) []string {
	return *b.lists[name]
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// closeInheritedFDs marks every FD above stderr close-on-exec: whatever
// the caller leaked to us (containerd's shim leaks its ttrpc socket as FD
// 3) must not reach the sandbox.
func closeInheritedFDs() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// writePidFile writes pid as bare digits (no newline: containerd's shim
// parses the file with strconv.Atoi), atomically.
func writePidFile(path string, pid int) error {
	if path == "" {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// createOptions are the inputs of create (and run).
type createOptions struct {
	id            string
	bundle        string
	pidFile       string
	consoleSocket string
	detach        bool // the sandbox outlives this process
	// startNext marks the create half of a foreground run: start
	// follows under the same lock, and the sandbox dies with us, so
	// the state is saved once, by start.
	startNext bool
	// netns is the sentry's new network namespace, being made.
	netns *sandbox.NetNS
}

// netNSPath is the network namespace the bundle asks the sandbox to join,
// if any: with --network sandbox, a network namespace with a path.
func netNSPath(g *globalFlags, spec *specs.Spec) string {
	path := ""
	if spec.Linux != nil && g.network == "sandbox" {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				path = ns.Path
			}
		}
	}
	return path
}

// createContainer launches the container's sandbox with its init
// waiting for start. On failure nothing is left behind.
func createContainer(g *globalFlags, o createOptions) (*container, *sandbox.Sandbox, error) {
	// Our first control request would pay for the protobuf runtime's
	// set-up; pay for it while the sandbox starts instead.
	go pb.WarmUp()
	closeInheritedFDs()
	if err := validateID(o.id); err != nil {
		return nil, nil, err
	}
	bundle, spec, err := loadBundle(o.bundle)
	if err != nil {
		return nil, nil, err
	}
	rootfs, err := rootfsPath(bundle, spec)
	if err != nil {
		return nil, nil, err
	}
	cfg, mounts, err := sandboxConfig(g, rootfs, spec)
	if err != nil {
		return nil, nil, err
	}
	if err := g.overlay.check(true); err != nil {
		return nil, nil, err
	}
	if cfg.Network != "host" && netNSPath(g, spec) == "" {
		// A new network namespace takes 1-2 ms to make: start now.
		// sandbox.Start closes it; so do we, if we fail before.
		o.netns = sandbox.NewNetNS()
		defer o.netns.Close()
	}
	if g.systemdCgroup {
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return nil, nil, errors.New("--systemd-cgroup: systemd is not running on this host")
		}
	}
	// The sandbox gets its own descriptor of the overlay file: ours goes
	// when create returns.
	overlay, err := g.overlay.open(cfg, rootfs)
	if err != nil {
		return nil, nil, err
	}
	if overlay != nil {
		defer overlay.Close()
	}
	c, err := newContainer(g.root, o.id)
	if err != nil {
		return nil, nil, err
	}
	c.Bundle, c.Rootfs, c.Annotations, c.Hooks = bundle, rootfs, spec.Annotations, spec.Hooks
	var sb *sandbox.Sandbox
	var cg *cgroup
	ok := false
	defer func() {
		if ok {
			return
		}
		if sb != nil {
			sb.Sentry.Process.Kill()
			sb.Gofer.Process.Kill()
			sb.Sentry.Wait()
			sb.Gofer.Wait()
		}
		if cg != nil {
			cg.destroy()
		}
		os.RemoveAll(c.dir)
		c.unlock()
	}()
	if err := launchContainer(g, o, c, spec, cfg, mounts, overlay, &sb, &cg); err != nil {
		return nil, nil, err
	}
	ok = true
	return c, sb, nil
}

// launchContainer starts the sandbox of c, records it and runs the
// creation hooks. What it made is left in *sb and *cg for the caller to
// undo on failure.
func launchContainer(g *globalFlags, o createOptions, c *container, spec *specs.Spec, cfg *boot.Config, mounts []sandbox.GoferMount, overlay *os.File, sbp **sandbox.Sandbox, cgp **cgroup) error {
	var stdio [3]*os.File
	if spec.Process.Terminal && o.consoleSocket == "" && !o.detach {
		// runc's habit: a foreground run uses its own terminal.
		spec.Process.Terminal = false
	}
	if spec.Process.Terminal {
		slave, err := consoleStdio(o.consoleSocket)
		if err != nil {
			return err
		}
		defer slave.Close()
		stdio = [3]*os.File{slave, slave, slave}
	} else {
		stdio = [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	}
	listener, err := control.Listen(c.dir)
	if err != nil {
		return err
	}
	defer listener.Close()
	statusFile, err := os.OpenFile(filepath.Join(c.dir, exitFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer statusFile.Close()

	opts := sandbox.Options{
		GlobalArgs:  g.childArgs(),
		Boot:        *cfg,
		GoferMounts: mounts,
		Stdio:       stdio,
		Debugf:      debugf,
		Detach:      o.detach,
		Control:     listener,
		Status:      statusFile,
		NewNetNS:    o.netns,
		NetNS:       netNSPath(g, spec),
		TTY:         spec.Process.Terminal,
		Overlay:     overlay,
	}
	if g.debugLog != "" {
		gl, sentryLog, err := openDebugLogs(g.debugLog)
		if err != nil {
			return err
		}
		defer gl.Close()
		opts.GoferStderr = gl
		opts.Boot.DebugLog = sentryLog
	} else {
		// Nothing of ours on the container's stderr.
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer null.Close()
		opts.GoferStderr = null
	}

	// The sandbox's processes are moved into the cgroup, with what they
	// forked by then, as soon as they run (Options.Join).
	cg, err := newCgroup(cgroupPath(spec, o.id), spec)
	if err != nil {
		return err
	}
	*cgp = cg
	c.Cgroup = cg.path
	// Not before the cgroup exists: creating one waits for the lock a
	// migration holds through its grace period.
	primeMigration()
	opts.Join = cg.join
	if spec.Linux != nil {
		opts.GOMAXPROCS = goMaxProcs(spec.Linux.Resources)
	} else {
		opts.GOMAXPROCS = goMaxProcs(nil)
	}
	sb, err := sandbox.Start(opts)
	if err != nil {
		return err
	}
	*sbp = sb
	// Only the sentry may hold the listener now: if it dies, requests
	// fail instead of waiting for an accept that never comes.
	listener.Close()
	if resp, err := control.Call(c.dir, &pb.Request{Req: &pb.Request_Ready{Ready: &pb.ReadyRequest{}}}); err != nil {
		if resp != nil {
			return err // the sentry's answer
		}
		// The sentry died setting up: it recorded why.
		sb.Sentry.Wait()
		if msg := c.failure(); msg != "" {
			return fmt.Errorf("sandbox: %s", msg)
		}
		return fmt.Errorf("sandbox: %w", err)
	}
	c.Pid = sb.Sentry.Process.Pid
	c.GoferPid = sb.Gofer.Process.Pid
	var alive bool
	if _, c.PidStart, alive = procStat(c.Pid); !alive {
		return errors.New("the sandbox died while starting")
	}
	_, c.GoferStart, _ = procStat(c.GoferPid)
	c.Status = statusCreated
	if p := spec.Process; p.OOMScoreAdj != nil {
		for _, pid := range []int{c.Pid, c.GoferPid} {
			os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid), []byte(strconv.Itoa(*p.OOMScoreAdj)), 0)
		}
	}
	if !o.startNext {
		if err := c.save(); err != nil {
			return err
		}
	}
	if h := spec.Hooks; h != nil {
		//nolint:staticcheck // prestart is deprecated but Docker's networking uses it.
		if err := runHooks("prestart", h.Prestart, c.ociState()); err != nil {
			return err
		}
		if err := runHooks("createRuntime", h.CreateRuntime, c.ociState()); err != nil {
			return err
		}
		if err := runHooks("createContainer", h.CreateContainer, c.ociState()); err != nil {
			return err
		}
	}
	return writePidFile(o.pidFile, c.Pid)
}

// createFlags are the flags create and run share.
func createFlags(b *flagSetBuilder) {
	b.String("bundle", ".", "path to the OCI bundle `DIR`")
	b.String("pid-file", "", "write the container's pid to `FILE`")
	b.String("console-socket", "", "send the terminal's master to the unix socket at `PATH`")
	b.Bool("no-pivot", "accepted for runc compatibility (the sandbox never pivots the host)")
	b.Bool("no-new-keyring", "accepted for runc compatibility")
	b.String("preserve-fds", "0", "accepted for runc compatibility")
}

var createCommand = ociCommand("create", "create a container from an OCI bundle; its process waits for start", "[FLAGS] ID", 1,
	createFlags,
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		c, _, err := createContainer(g, createOptions{id: args[0], bundle: b.str("bundle"),
			pidFile: b.str("pid-file"), consoleSocket: b.str("console-socket"), detach: true})
		if err != nil {
			return err
		}
		c.unlock()
		return nil
	})

// startContainer lets a created container's init run.
func startContainer(c *container) error {
	switch st := c.status(); st {
	case statusCreated:
	case statusStopped:
		return fmt.Errorf("cannot start a container that has stopped")
	default:
		return fmt.Errorf("cannot start an already %s container", st)
	}
	if _, err := control.Call(c.dir, &pb.Request{Req: &pb.Request_Start{Start: &pb.StartRequest{}}}); err != nil {
		return err
	}
	c.Status = statusRunning
	if err := c.save(); err != nil {
		return err
	}
	if c.Hooks != nil {
		if err := runHooks("poststart", c.Hooks.Poststart, c.ociState()); err != nil {
			// runc only warns: the container runs.
			logWarning(err.Error())
		}
	}
	return nil
}

var startCommand = ociCommand("start", "start a created container", "ID", 1, nil,
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		c, err := loadContainer(g.root, args[0])
		if err != nil {
			return err
		}
		defer c.unlock()
		return startContainer(c)
	})

var runCommand = ociCommand("run", "create and start a container; wait for it unless --detach", "[FLAGS] ID", 1,
	func(b *flagSetBuilder) {
		createFlags(b)
		b.Bool("detach", "do not wait for the container")
		b.Bool("d", "short for --detach")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		detach := b.on("detach") || b.on("d")
		c, sb, err := createContainer(g, createOptions{id: args[0], bundle: b.str("bundle"),
			pidFile: b.str("pid-file"), consoleSocket: b.str("console-socket"), detach: detach, startNext: !detach})
		if err != nil {
			return err
		}
		if err := startContainer(c); err != nil {
			destroyContainer(c)
			return err
		}
		if detach {
			c.unlock()
			return nil
		}
		// Others (state, kill, exec) may use the container while it runs.
		c.unlock()
		status := waitSandbox(sb)
		c, err = loadContainer(g.root, args[0])
		if err == nil {
			destroyContainer(c)
		}
		return &exitError{status}
	})

// waitSandbox waits for a sandbox we started and returns the container's
// exit status, passing on the signals a foreground runtime gets.
func waitSandbox(sb *sandbox.Sandbox) int {
	// The signals stay caught until we exit, as with runc: one that comes
	// during the clean-up after the sandbox is dropped rather than
	// killing us halfway. (Releasing them costs a round trip to the Go
	// runtime's signal thread per signal.)
	sigs := make(chan os.Signal, 16)
	notifySignals(sigs)
	done := make(chan struct{})
	go func() { sb.Sentry.Wait(); close(done) }()
	for {
		select {
		case s := <-sigs:
			sb.Sentry.Process.Signal(s)
		case <-done:
			// The gofer ends when the sentry's end of its socket closes;
			// one that does not is killed.
			gdone := make(chan struct{})
			go func() { sb.Gofer.Wait(); close(gdone) }()
			select {
			case <-gdone:
			case <-time.After(3 * time.Second):
				sb.Gofer.Process.Kill()
				<-gdone
			}
			ws := sb.Sentry.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ws.ExitStatus()
		}
	}
}

// destroyContainer kills what is left of the container, runs its
// poststop hooks and removes its cgroup and state. The lock is released.
func destroyContainer(c *container) error {
	defer c.unlock()
	if c.Cgroup != "" {
		// Frozen processes cannot die.
		thaw(c.Cgroup)
	}
	signalProcess(c.Pid, c.PidStart, unix.SIGKILL)
	signalProcess(c.GoferPid, c.GoferStart, unix.SIGKILL)
	waitGone(c.Pid, c.PidStart, 10*time.Second)
	waitGone(c.GoferPid, c.GoferStart, 10*time.Second)
	var errs []error
	if c.Hooks != nil {
		st := c.ociState()
		st.Status = statusStopped
		if err := runHooks("poststop", c.Hooks.Poststop, st); err != nil {
			logWarning(err.Error())
		}
	}
	if c.Cgroup != "" {
		if err := (&cgroup{path: c.Cgroup}).destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

var deleteCommand = ociCommand("delete", "delete a container (kill it first with --force)", "[--force] ID", 1,
	func(b *flagSetBuilder) {
		b.Bool("force", "kill the container if it still runs")
		b.Bool("f", "short for --force")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		force := b.on("force") || b.on("f")
		c, err := loadContainer(g.root, args[0])
		var ne *errNotExist
		if errors.As(err, &ne) && force {
			// Like runc: a half-created directory goes, and a forced
			// delete of nothing succeeds.
			if validateID(args[0]) == nil {
				os.RemoveAll(filepath.Join(g.root, args[0]))
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch st := c.status(); st {
		case statusStopped, statusCreated:
		default:
			if !force {
				c.unlock()
				return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.ID, st)
			}
		}
		return destroyContainer(c)
	})

var stateCommand = ociCommand("state", "print the state of a container as JSON", "ID", 1, nil,
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		c, err := loadContainer(g.root, args[0])
		if err != nil {
			return err
		}
		defer c.unlock()
		out, err := json.MarshalIndent(c.ociState(), "", "  ")
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", out)
		return nil
	})

var killCommand = ociCommand("kill", "send a signal (default SIGTERM) to a container's init, or to all its processes", "[--all] ID [SIGNAL]", -1,
	func(b *flagSetBuilder) {
		b.Bool("all", "signal every process of the container")
		b.Bool("a", "short for --all")
	},
	func(g *globalFlags, b *flagSetBuilder, args []string) error {
		if len(args) < 1 || len(args) > 2 {
			return usageErrorf("want ID [SIGNAL]")
		}
		sig := unix.SIGTERM
		if len(args) == 2 {
			var err error
			if sig, err = parseSignal(args[1]); err != nil {
				return err
			}
		}
		c, err := loadContainer(g.root, args[0])
		if err != nil {
			return err
		}
		defer c.unlock()
		return killContainer(c, sig, b.on("all") || b.on("a"))
	})

func killContainer(c *container, sig unix.Signal, all bool) error {
	st := c.status()
	if st == statusStopped {
		if all {
			return nil
		}
		return fmt.Errorf("container %s is not running", c.ID)
	}
	if sig == unix.SIGKILL {
		// The whole sandbox ends with init: kill it from the host (also
		// what works when the sentry is wedged). A paused one is thawed
		// first, or it could not die.
		if st == statusPaused {
			thaw(c.Cgroup)
		}
		return signalProcess(c.Pid, c.PidStart, unix.SIGKILL)
	}
	p := pendingSignal{Signo: int32(sig), All: all}
	if st == statusPaused {
		// A frozen sentry answers nothing, and nothing of a paused
		// container may run: resume delivers the signal, whichever it is,
		// the way a running container's kill would have.
		for _, q := range c.Pending {
			if q == p && sig < linux.SIGRTMIN {
				return nil // a standard signal is pending at most once
			}
		}
		c.Pending = append(c.Pending, p)
		return c.save()
	}
	return sendSignal(c, p)
}

// sendSignal asks the container's sentry to deliver a signal to init, or
// to every process of the container.
func sendSignal(c *container, p pendingSignal) error {
	_, err := control.Call(c.dir, &pb.Request{Req: &pb.Request_Signal{Signal: &pb.SignalRequest{Signo: p.Signo, All: p.All}}})
	if err != nil {
		return fmt.Errorf("signal %d: %w", p.Signo, err)
	}
	return nil
}

// parseSignal parses a signal number or name (KILL, SIGKILL, kill).
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := "SIG" + trimSIG(s)
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}

func trimSIG(s string) string {
	u := []byte(s)
	for i, ch := range u {
		if ch >= 'a' && ch <= 'z' {
			u[i] = ch - 'a' + 'A'
		}
	}
	s = string(u)
	if len(s) > 3 && s[:3] == "SIG" {
		return s[3:]
	}
	return s
}
