package main

import (
	"github.com/runsc-lite/runsc-lite/gofer"
	goferpb "github.com/runsc-lite/runsc-lite/gofer/proto"
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
	// The sentry's first requests would pay for the protobuf runtime's
	// set-up; pay for it during ours instead.
	go goferpb.WarmUp()
	var spec sandbox.GoferSpec
	if err := sandbox.ReadSpec(*specFD, &spec); err != nil {
		return fatalf(exitSetup, "gofer: %v", err)
	}
	if len(spec.Mounts) == 0 {
		return fatalf(exitSetup, "gofer: no root mount in the spec")
	}
	cfg := gofer.SetupConfig{Rootfs: spec.Mounts[0].HostPath}
	for _, m := range spec.Mounts[1:] {
		cfg.Volumes = append(cfg.Volumes, gofer.Mount{HostPath: m.HostPath, ReadOnly: m.ReadOnly})
	}
	debugf("gofer: serving %d mounts", len(spec.Mounts))
	// Setup pivot_roots into the mounts, drops capabilities and installs
	// the gofer's seccomp filter before anything is served.
	if err := gofer.SetupAndServe(cfg, *sockFD); err != nil {
		return fatalf(exitSetup, "gofer: %v", err)
	}
	return 0
}
