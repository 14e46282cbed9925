package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
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
}

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
	self := opts.Self
	if self == "" {
		self = "/proc/self/exe"
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

	hostNS, err := MountNamespace()
	if err != nil {
		return 0, err
	}

	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socketpair: %w", err)
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

	// The gofer first.
	goferSpec := GoferSpec{Mounts: opts.GoferMounts, HostMountNS: hostNS}
	gofer := &exec.Cmd{
		Path:   self,
		Args:   append(append([]string{"runsc-lite"}, opts.GlobalArgs...), "gofer", fmt.Sprintf("--spec-fd=%d", SpecFD), fmt.Sprintf("--socket-fd=%d", SocketFD)),
		Env:    env,
		Stderr: goferStderr,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: nsFlags,
			Pdeathsig:  unix.SIGKILL,
			// Its own process group: terminal signals are not for it.
			Setpgid: true,
		},
	}
	if err := startWithSpec(gofer, goferSock, goferSpec); err != nil {
		return 0, fmt.Errorf("starting gofer: %w", err)
	}
	debugf("gofer started, pid %d", gofer.Process.Pid)
	goferSock.Close()

	// Then the sentry.
	sentryFlags := nsFlags
	if cfg.Network != "host" {
		sentryFlags |= unix.CLONE_NEWNET
	}
	sentry := &exec.Cmd{
		Path:   self,
		Args:   append(append([]string{"runsc-lite"}, opts.GlobalArgs...), "boot", fmt.Sprintf("--spec-fd=%d", SpecFD), fmt.Sprintf("--gofer-fd=%d", SocketFD)),
		Env:    env,
		Stdin:  stdio[0],
		Stdout: stdio[1],
		Stderr: stdio[2],
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: sentryFlags,
			Pdeathsig:  unix.SIGKILL,
			Setpgid:    true,
		},
	}
	if ctty >= 0 {
		// The guest owns the terminal: its process group (the sentry's)
		// becomes the foreground one, so terminal reads work and
		// terminal-generated signals (^C, ^Z, SIGWINCH) go to the sentry
		// directly, not through us.
		sentry.SysProcAttr.Foreground = true
		sentry.SysProcAttr.Ctty = ctty
	}
	if err := startWithSpec(sentry, sentrySock, BootSpec{Config: cfg, HostMountNS: hostNS}); err != nil {
		killAndWait(gofer)
		return 0, fmt.Errorf("starting sentry: %w", err)
	}
	debugf("sentry started, pid %d", sentry.Process.Pid)
	sentrySock.Close()
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

// startWithSpec starts cmd with a spec pipe on SpecFD and sock on
// SocketFD, then writes spec as JSON into the pipe.
func startWithSpec(cmd *exec.Cmd, sock *os.File, spec any) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer w.Close()
	cmd.ExtraFiles = []*os.File{r, sock} // fds 3 and 4
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
