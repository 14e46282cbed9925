package main

import (
	"github.com/runsc-lite/runsc-lite/gofer"
	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
)

// goferCommand is the gofer process of a sandbox. The launcher
// (sandbox.Run) starts it first, in fresh mount, PID, IPC and UTS
// namespaces, with /dev/null as stdin and stdout, the log as stderr, a
// JSON sandbox.GoferSpec on --spec-fd and its end of the socketpair to the
// sentry on --socket-fd. It serves until the sentry closes the socket.
var goferCommand = &command{
	name:     "gofer",
	synopsis: "(internal) serve a sandbox's host files to its sentry",
	usage:    "--spec-fd FD --socket-fd FD",
	internal: true,
	run:      runGofer,
}

func runGofer(g *globalFlags, args []string) int {
	fs := newFlagSet("gofer")
	specFD := fs.Int("spec-fd", -1, "read the JSON gofer spec from `FD`")
	sockFD := fs.Int("socket-fd", -1, "unix socket to the sentry (`FD`)")
	if done, status := parseCommandFlags("gofer", fs, args); done {
		return status
	}
	if *specFD < 0 || *sockFD < 0 || fs.NArg() != 0 {
		return fatalf(exitUsage, "gofer: internal command, needs --spec-fd and --socket-fd")
	}
	var spec sandbox.GoferSpec
	if err := sandbox.ReadSpec(*specFD, &spec); err != nil {
		return fatalf(exitSetup, "gofer: %v", err)
	}
	mounts := make([]gofer.Mount, len(spec.Mounts))
	for i, m := range spec.Mounts {
		mounts[i] = gofer.Mount{HostPath: m.HostPath, ReadOnly: m.ReadOnly}
	}
	// TODO(gofer): call gofer.Setup (pivot_root into the mounts, drop
	// capabilities, seccomp) here once the gofer package provides it;
	// until then the gofer serves unconfined, in its private namespaces.
	debugf("gofer: serving %d mounts", len(mounts))
	if err := gofer.ServeFD(*sockFD, mounts); err != nil {
		return fatalf(exitSetup, "%v", err)
	}
	return 0
}
