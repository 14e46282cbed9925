package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

// ForwardedSignals are the signals the launcher passes on to the sentry,
// which delivers them to the guest.
var ForwardedSignals = []os.Signal{
	unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH,
}

// goferExitGrace is how long the launcher waits for the gofer to exit by
// itself (it sees EOF on its socket) after the sentry is gone.
const goferExitGrace = 3 * time.Second

// Options describes one sandbox to launch.
type Options struct {
	// Self is the runsc-lite binary to re-execute; empty means
	// /proc/self/exe.
	Self string
	// GlobalArgs are global flags passed to the `boot` and `gofer`
	// subcommands (before the subcommand name), e.g. --debug.
	GlobalArgs []string
	// Boot is the sentry's configuration. StdioTTY is filled in by Run.
	Boot boot.Config
	// GoferMounts are the file systems the gofer serves: the root first,
	// then one per boot.Config.Volumes entry.
	GoferMounts []GoferMount
	// Stdio become the guest's FDs 0-2; nil entries mean the launcher's
	// own stdin/stdout/stderr.
	Stdio [3]*os.File
	// GoferStderr receives the gofer's messages; nil means os.Stderr.
	GoferStderr *os.File
	// Debugf, if set, receives debug messages of the launcher.
	Debugf func(format string, args ...any)

	// The rest is for the OCI runtime (Start).

	// Detach leaves the sandbox running after the launcher exits: no
	// Pdeathsig, and the sentry leads a session of its own.
	Detach bool
	// Control is the listening control socket given to the sentry
	// (sentry/control); nil means none: the guest starts at once.
	Control *os.File
	// Status receives the sentry's exit status (decimal) when it ends.
	Status *os.File
	// NetNS is a network namespace to join (a path like
	// /proc/PID/ns/net or /var/run/netns/NAME); empty means a new one
	// (unless Boot.Network is "host").
	NetNS string
	// TTY makes Stdio[0], a terminal, the sentry's controlling terminal.
	TTY bool

	// Overlay, if set, is the host file (OpenOverlayFile) that holds the
	// root overlay's upper layer: the sentry gets it (Boot.OverlayFile).
	Overlay *os.File
}

// FD numbers of the optional files in the sentry (after SpecFD and
// SocketFD). The overlay file, if any, comes next (its number is passed
// with --overlay-fd).
const (
	ControlFD = 5
	StatusFD  = 6
)

// Run launches the sandbox, forwards ForwardedSignals to the sentry, waits
// for it and returns its exit status (the guest's: 128+N for a guest
// killed by signal N). A non-nil error means the sandbox could not be
// started (status is then 0 and nothing is left running) or the sentry
// died abnormally (status 128+N if the sentry was killed by signal N).
//
// The sandbox processes are killed with SIGKILL if the launcher dies
// (Pdeathsig): each is init of its own PID namespace, so its children go
// with it, and its mounts live in a private mount namespace. The caller
// must start them from a thread that lives as long as the launcher
// (Pdeathsig fires when the parent *thread* exits): lock the main
// goroutine to the main thread with runtime.LockOSThread in init.
func Run(opts Options) (int, error) {
	debugf := opts.Debugf
	if debugf == nil {
		debugf = func(string, ...any) {}
	}

	// Catch the forwarded signals before anything starts, so that a
	// Ctrl-C during start-up neither kills the launcher halfway nor gets
	// lost: they are forwarded once the sentry runs.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, ForwardedSignals...)
	defer signal.Stop(sigs)

	var stdio [3]*os.File
	for i, f := range opts.Stdio {
		if f == nil {
			f = []*os.File{os.Stdin, os.Stdout, os.Stderr}[i]
		}
		if _, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0); err != nil {
			// A closed stdio FD: give the guest /dev/null instead.
			null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				return 0, err
			}
			defer null.Close()
			f = null
		}
		stdio[i] = f
	}
	cfg := opts.Boot
	ctty := -1 // the child FD of our controlling terminal, if we are in its foreground
	for i, f := range stdio {
		if !isTerminal(f) {
			continue
		}
		cfg.StdioTTY[i] = true
		if ctty < 0 {
			if pg, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP); err == nil && pg == unix.Getpgrp() {
				ctty = i
			}
		}
	}

	sb, err := start(opts, cfg, stdio, ctty, debugf)
	if err != nil {
		return 0, err
	}
	gofer, sentry := sb.Gofer, sb.Sentry
	if ctty >= 0 {
		// We are a background process now; taking the terminal back at
		// the end, or writing to it with TOSTOP set, must not stop us.
		signal.Ignore(unix.SIGTTOU, unix.SIGTTIN)
		defer signal.Reset(unix.SIGTTOU, unix.SIGTTIN)
		defer unix.IoctlSetPointerInt(int(stdio[ctty].Fd()), unix.TIOCSPGRP, unix.Getpgrp())
	}

	done := make(chan error, 1)
	go func() { done <- sentry.Wait() }()
	var waitErr error
wait:
	for {
		select {
		case s := <-sigs:
			debugf("forwarding %v to the sentry", s)
			// Process.Signal uses a pidfd: no PID reuse race.
			if err := sentry.Process.Signal(s); err != nil && !errors.Is(err, os.ErrProcessDone) {
				debugf("forwarding %v: %v", s, err)
			}
		case waitErr = <-done:
			break wait
		}
	}

	// The sentry is gone: the gofer sees EOF on its socket and exits.
	goferDone := make(chan error, 1)
	go func() { goferDone <- gofer.Wait() }()
	select {
	case err := <-goferDone:
		debugf("gofer exited: %v", err)
	case <-time.After(goferExitGrace):
		debugf("gofer did not exit, killing it")
		gofer.Process.Kill()
		<-goferDone
	}

	ps := sentry.ProcessState
	if ps == nil {
		return 0, fmt.Errorf("waiting for sentry: %w", waitErr)
	}
	ws := ps.Sys().(syscall.WaitStatus)
	switch {
	case ws.Exited():
		debugf("sentry exited with status %d", ws.ExitStatus())
		return ws.ExitStatus(), nil
	case ws.Signaled():
		return 128 + int(ws.Signal()), fmt.Errorf("sandbox terminated by signal %d (%v)", int(ws.Signal()), ws.Signal())
	default:
		return 0, fmt.Errorf("sentry: unexpected wait status %v", ps)
	}
}

// Sandbox is a launched sandbox: its gofer and sentry processes.
type Sandbox struct {
	Gofer, Sentry *exec.Cmd
}

// Start launches the sandbox of opts and returns without waiting (the OCI
// runtime's create). Stdio must be set; opts.Boot.StdioTTY is filled in.
func Start(opts Options) (*Sandbox, error) {
	debugf := opts.Debugf
	if debugf == nil {
		debugf = func(string, ...any) {}
	}
	cfg := opts.Boot
	ctty := -1
	for i, f := range opts.Stdio {
		if f == nil {
			return nil, fmt.Errorf("stdio %d not set", i)
		}
		cfg.StdioTTY[i] = isTerminal(f)
	}
	return start(opts, cfg, opts.Stdio, ctty, debugf)
}

// start starts the gofer and then the sentry. ctty >= 0 makes the
// sentry's process group the foreground one of that stdio terminal.
func start(opts Options, cfg boot.Config, stdio [3]*os.File, ctty int, debugf func(string, ...any)) (*Sandbox, error) {
	self := opts.Self
	if self == "" {
		self = "/proc/self/exe"
	}
	hostNS, err := MountNamespace()
	if err != nil {
		return nil, err
	}

	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	goferSock := os.NewFile(uintptr(pair[0]), "gofer-socket")
	sentrySock := os.NewFile(uintptr(pair[1]), "sentry-socket")
	defer goferSock.Close()
	defer sentrySock.Close()

	env := childEnv()
	nsFlags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS)
	goferStderr := opts.GoferStderr
	if goferStderr == nil {
		goferStderr = os.Stderr
	}
	deathSig := unix.SIGKILL
	if opts.Detach {
		deathSig = 0
	}

	// The gofer first.
	goferSpec := GoferSpec{Mounts: opts.GoferMounts, HostMountNS: hostNS}
	gofer := &exec.Cmd{
		Path:   self,
		Args:   append(append([]string{"runsc-lite"}, opts.GlobalArgs...), "gofer", fmt.Sprintf("--spec-fd=%d", SpecFD), fmt.Sprintf("--socket-fd=%d", SocketFD)),
		Env:    env,
		Stderr: goferStderr,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: nsFlags,
			Pdeathsig:  deathSig,
			// Its own process group: terminal signals are not for it.
			Setpgid: true,
		},
	}
	if err := startWithSpec(gofer, goferSpec, goferSock); err != nil {
		return nil, fmt.Errorf("starting gofer: %w", err)
	}
	debugf("gofer started, pid %d", gofer.Process.Pid)
	goferSock.Close()

	// Then the sentry.
	sentryFlags := nsFlags
	if cfg.Network != "host" && opts.NetNS == "" {
		sentryFlags |= unix.CLONE_NEWNET
	}
	args := append(append([]string{"runsc-lite"}, opts.GlobalArgs...), "boot", fmt.Sprintf("--spec-fd=%d", SpecFD), fmt.Sprintf("--gofer-fd=%d", SocketFD))
	extra := []*os.File{sentrySock}
	if opts.Control != nil {
		args = append(args, fmt.Sprintf("--control-fd=%d", ControlFD))
		extra = append(extra, opts.Control)
	}
	if opts.Status != nil {
		if opts.Control == nil {
			return nil, errors.New("a status file needs a control socket")
		}
		args = append(args, fmt.Sprintf("--status-fd=%d", StatusFD))
		extra = append(extra, opts.Status)
	}
	cfg.OverlayFile = opts.Overlay != nil
	if opts.Overlay != nil {
		args = append(args, fmt.Sprintf("--overlay-fd=%d", SocketFD+len(extra)))
		extra = append(extra, opts.Overlay)
	}
	sentry := &exec.Cmd{
		Path:   self,
		Args:   args,
		Env:    env,
		Stdin:  stdio[0],
		Stdout: stdio[1],
		Stderr: stdio[2],
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: sentryFlags,
			Pdeathsig:  deathSig,
			Setpgid:    true,
		},
	}
	switch {
	case ctty >= 0:
		// The guest owns the terminal: its process group (the sentry's)
		// becomes the foreground one, so terminal reads work and
		// terminal-generated signals (^C, ^Z, SIGWINCH) go to the sentry
		// directly, not through us.
		sentry.SysProcAttr.Foreground = true
		sentry.SysProcAttr.Ctty = ctty
	case opts.Detach:
		// A session of its own, with the terminal (a pty whose master
		// went to the console socket) as its controlling terminal: the
		// host's line discipline then signals the sentry (^C, resize),
		// which passes the signals on to the guest's foreground group.
		sentry.SysProcAttr.Setpgid = false
		sentry.SysProcAttr.Setsid = true
		sentry.SysProcAttr.Setctty = opts.TTY
		sentry.SysProcAttr.Ctty = 0
	}
	err = withNetNS(opts.NetNS, func() error {
		return startWithSpec(sentry, BootSpec{Config: cfg, HostMountNS: hostNS}, extra...)
	})
	if err != nil {
		killAndWait(gofer)
		return nil, fmt.Errorf("starting sentry: %w", err)
	}
	debugf("sentry started, pid %d", sentry.Process.Pid)
	return &Sandbox{Gofer: gofer, Sentry: sentry}, nil
}

// withNetNS runs fn (which starts a process) with the calling thread in
// the network namespace at path: the child is forked from this thread and
// inherits it. An empty path runs fn as it is.
func withNetNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	// setns changes only this thread: keep the goroutine on it, and put
	// the thread back before anything else may run on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("joining network namespace %s: %w", path, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread cannot be trusted any more: let it die with the
		// goroutine (LockOSThread without Unlock).
		runtime.LockOSThread()
		return fmt.Errorf("leaving network namespace: %w", err)
	}
	return ferr
}

// startWithSpec starts cmd with a spec pipe on SpecFD and extra (the
// socket) from SocketFD on, then writes spec as JSON into the pipe.
func startWithSpec(cmd *exec.Cmd, spec any, extra ...*os.File) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer w.Close()
	cmd.ExtraFiles = append([]*os.File{r}, extra...) // fds 3, 4...
	err = cmd.Start()
	r.Close()
	if err != nil {
		return err
	}
	// If the child dies before reading, this fails with EPIPE; its exit
	// status then tells what happened.
	w.Write(data)
	return nil
}

func killAndWait(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// childEnv is the host environment of the gofer and sentry processes: only
// Go runtime knobs (the guest's environment travels in boot.Config).
func childEnv() []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GO") || strings.HasPrefix(kv, "RUNSC_LITE_") {
			env = append(env, kv)
		}
	}
	return env
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
