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
	"sync"
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
	// NewNetNS, if set, is the new network namespace of the sentry; Start
	// closes it.
	NewNetNS *NetNS
	// NetNS is a network namespace to join (a path like
	// /proc/PID/ns/net or /var/run/netns/NAME); empty means a new one
	// (unless Boot.Network is "host").
	NetNS string
	// TTY makes Stdio[0], a terminal, the sentry's controlling terminal.
	TTY bool
	// Join, if set, moves host processes (by host pid), with their
	// descendants, into the container's cgroup. Start calls it with the
	// gofer and the sentry as soon as both run, and they set up meanwhile;
	// the guest starts only later, on a start request, so everything that
	// runs guest code is in the cgroup from its first instruction.
	Join func(pids ...int) error
	// GOMAXPROCS, if positive, is given to the gofer and the sentry
	// (unless the launcher's environment sets it): their Go runtime would
	// size itself by the CPU limit of the cgroup it starts in, the
	// launcher's, as they join the container's only later.
	GOMAXPROCS int

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
// with it, and its mounts live in a private mount namespace. Pdeathsig
// fires when the parent *thread* exits: they are forked by a thread that
// lives as long as the process (launcher.go).
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

// start starts the gofer and the sentry. ctty >= 0 makes the sentry's
// process group the foreground one of that stdio terminal.
func start(opts Options, cfg boot.Config, stdio [3]*os.File, ctty int, debugf func(string, ...any)) (*Sandbox, error) {
	l := &launch{opts: opts, cfg: cfg, stdio: stdio, ctty: ctty, self: opts.Self, env: childEnv(), deathSig: unix.SIGKILL}
	if l.self == "" {
		l.self = "/proc/self/exe"
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); opts.GOMAXPROCS > 0 && !set {
		l.env = append(l.env, fmt.Sprintf("GOMAXPROCS=%d", opts.GOMAXPROCS))
	}
	if opts.Detach {
		l.deathSig = 0
	}
	var err error
	if l.hostNS, err = MountNamespace(); err != nil {
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

	// A new network namespace for the sentry costs 1-2 ms of the clone
	// that makes it: make it on a thread of its own meanwhile (unless the
	// caller started it even earlier), and start the sentry in it.
	netns := opts.NewNetNS
	if netns == nil && cfg.Network != "host" && opts.NetNS == "" {
		netns = NewNetNS()
	}
	defer netns.Close()
	// The gofer and the sentry are forked at the same time, by launcher
	// threads with small bounding sets.
	goferStarted := make(chan goferResult, 1)
	go func() {
		g, err := l.startGofer(goferSock)
		goferStarted <- goferResult{g, err}
	}()
	sentry, serr := l.startSentry(sentrySock, netns)
	g := <-goferStarted
	gofer := g.cmd
	switch {
	case g.err != nil:
		if serr == nil {
			killAndWait(sentry)
		}
		return nil, fmt.Errorf("starting gofer: %w", g.err)
	case serr != nil:
		killAndWait(gofer)
		return nil, fmt.Errorf("starting sentry: %w", serr)
	}
	debugf("gofer started, pid %d; sentry started, pid %d", gofer.Process.Pid, sentry.Process.Pid)
	if opts.Join != nil {
		if err := opts.Join(gofer.Process.Pid, sentry.Process.Pid); err != nil {
			killAndWait(sentry)
			killAndWait(gofer)
			return nil, err
		}
		debugf("sandbox joined its cgroup")
	}
	return &Sandbox{Gofer: gofer, Sentry: sentry}, nil
}

// launch is what starting the gofer and the sentry share.
type launch struct {
	opts     Options
	cfg      boot.Config // opts.Boot with StdioTTY filled in
	stdio    [3]*os.File
	ctty     int
	self     string
	env      []string
	deathSig syscall.Signal
	hostNS   uint64
}

type goferResult struct {
	cmd *exec.Cmd
	err error
}

// nsFlags are the namespaces both processes get.
const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS

// startGofer starts the gofer with its end of the socketpair.
func (l *launch) startGofer(sock *os.File) (*exec.Cmd, error) {
	stderr := l.opts.GoferStderr
	if stderr == nil {
		stderr = os.Stderr
	}
	gofer := &exec.Cmd{
		Path:   l.self,
		Args:   append(append([]string{"runsc-lite"}, l.opts.GlobalArgs...), "gofer", fmt.Sprintf("--spec-fd=%d", SpecFD), fmt.Sprintf("--socket-fd=%d", SocketFD)),
		Env:    l.env,
		Stderr: stderr,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: nsFlags,
			Pdeathsig:  l.deathSig,
			// Its own process group: terminal signals are not for it.
			Setpgid: true,
		},
	}
	spec := GoferSpec{Mounts: l.opts.GoferMounts, HostMountNS: l.hostNS}
	if err := onLauncher(GoferCapabilities(), func() error { return startWithSpec(gofer, spec, sock) }); err != nil {
		return nil, err
	}
	return gofer, nil
}

// startSentry starts the sentry with its end of the socketpair, in the
// network namespace netns (nil: Options.NetNS's, or ours). On failure
// nothing is left running.
func (l *launch) startSentry(sock *os.File, netns *NetNS) (*exec.Cmd, error) {
	opts := l.opts
	netnsPath := opts.NetNS
	if netns != nil {
		var err error
		if netnsPath, err = netns.path(); err != nil {
			return nil, err
		}
	}
	args := append(append([]string{"runsc-lite"}, opts.GlobalArgs...), "boot", fmt.Sprintf("--spec-fd=%d", SpecFD), fmt.Sprintf("--gofer-fd=%d", SocketFD))
	extra := []*os.File{sock}
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
	l.cfg.OverlayFile = opts.Overlay != nil
	if opts.Overlay != nil {
		args = append(args, fmt.Sprintf("--overlay-fd=%d", SocketFD+len(extra)))
		extra = append(extra, opts.Overlay)
	}
	sentry := &exec.Cmd{
		Path:   l.self,
		Args:   args,
		Env:    l.env,
		Stdin:  l.stdio[0],
		Stdout: l.stdio[1],
		Stderr: l.stdio[2],
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: nsFlags,
			Pdeathsig:  l.deathSig,
			Setpgid:    true,
		},
	}
	switch {
	case l.ctty >= 0:
		// The guest owns the terminal: its process group (the sentry's)
		// becomes the foreground one, so terminal reads work and
		// terminal-generated signals (^C, ^Z, SIGWINCH) go to the sentry
		// directly, not through us.
		sentry.SysProcAttr.Foreground = true
		sentry.SysProcAttr.Ctty = l.ctty
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
	err := onLauncher(SentryCapabilities(), func() error {
		return withNetNS(netnsPath, func() error {
			return startWithSpec(sentry, BootSpec{Config: l.cfg, HostMountNS: l.hostNS}, extra...)
		})
	})
	if err != nil {
		return nil, err
	}
	return sentry, nil
}

// A NetNS is a new network namespace for a sentry, made on a thread of its
// own (NewNetNS): it takes 1-2 ms, which a launcher overlaps with its
// other work.
type NetNS struct {
	done      chan struct{}
	f         *os.File // the namespace (nsfs), open
	err       error
	closeOnce sync.Once
}

// NewNetNS starts making a network namespace. The thread that makes it
// ends once it has opened it: the namespace lives as long as the NetNS is
// open or a process is in it.
func NewNetNS() *NetNS {
	n := &NetNS{done: make(chan struct{})}
	go func() {
		defer close(n.done)
		// Never unlocked: the thread, in the new namespace, ends with
		// this goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			n.err = fmt.Errorf("new network namespace: %w", err)
			return
		}
		if n.f, n.err = os.Open("/proc/thread-self/ns/net"); n.err != nil {
			n.err = fmt.Errorf("new network namespace: %w", n.err)
		}
	}()
	return n
}

// path waits for the namespace and returns a path that opens it.
func (n *NetNS) path() (string, error) {
	<-n.done
	if n.err != nil {
		return "", n.err
	}
	return fmt.Sprintf("/proc/self/fd/%d", n.f.Fd()), nil
}

// Close waits for the namespace and releases it; a nil NetNS is fine.
func (n *NetNS) Close() {
	if n == nil {
		return
	}
	<-n.done
	n.closeOnce.Do(func() {
		if n.f != nil {
			n.f.Close()
		}
	})
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
