//go:build runsc_lite_fakesentry

package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

// This file exists only in test builds of the CLI (go build -tags
// runsc_lite_fakesentry): its "sentry" runs the guest command natively
// (NOT sandboxed) in the sentry's namespaces, confines itself, forwards
// signals and returns the exit status as boot.Run does. It lets the tests
// exercise the launcher (namespaces, stdio, terminals, signals, exit
// status, clean-up, confinement of a live Go process) independently of the
// kernel.
func init() {
	runSentry = fakeRun
}

func fakeRun(cfg *boot.Config, io boot.IO, confine func() error) (int, error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, sandbox.ForwardedSignals...)
	for _, kv := range cfg.Env {
		if strings.HasPrefix(kv, "PATH=") {
			os.Setenv("PATH", kv[len("PATH="):])
		}
	}
	path, err := exec.LookPath(cfg.Argv[0])
	if errors.Is(err, fs.ErrPermission) {
		return 126, err
	}
	if err != nil {
		return 127, err
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   cfg.Argv,
		Env:    cfg.Env,
		Dir:    cfg.Cwd,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		// Its own mount namespace: confine's pivot_root would otherwise
		// move its root too.
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS},
	}
	if err := cmd.Start(); err != nil {
		return 126, err
	}
	if err := confine(); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			cmd.Process.Signal(s)
		case err := <-done:
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				return 0, err
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				return 128 + int(ws.Signal()), nil
			}
			return ws.ExitStatus(), nil
		}
	}
}
