package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/runsc-lite/runsc-lite/sentry/control"
	pb "github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
)

// FDs of the exec proxy (`runsc-lite exec-proxy`), after its stdio.
const (
	proxyReadyFD   = 3 // the proxy writes "ok" or an error here once the process started
	proxyProcessFD = 4 // the marshalled pb.Process
)

var execCommand = ociCommand("exec", "run a new process in a running container", "[FLAGS] ID [CMD ARGS...]", -1,
	func(b *flagSetBuilder) {
		b.String("process", "", "OCI process JSON `FILE` (instead of CMD and the flags below)")
		b.Bool("detach", "do not wait for the process; leave a process behind that exits with its status")
		b.Bool("d", "short for --detach")
		b.String("pid-file", "", "write the pid of the process that exits with the new process's status to `FILE`")
		b.String("console-socket", "", "send the terminal's master to the unix socket at `PATH`")
		b.String("cwd", "", "working `DIR` of the process")
		b.List("env", "set `KEY=VALUE` in the environment; repeatable")
		b.List("e", "short for --env")
		b.String("user", "", "`UID[:GID]` of the process")
		b.String("u", "", "short for --user")
		b.List("additional-gids", "supplementary `GID`; repeatable")
		b.Bool("tty", "give the process a terminal")
		b.Bool("t", "short for --tty")
		b.Bool("no-new-privs", "set no_new_privs")
	},
	runExec)

func runExec(g *globalFlags, b *flagSetBuilder, args []string) error {
	closeInheritedFDs()
	if len(args) < 1 {
		return usageErrorf("want ID [CMD ARGS...]")
	}
	c, err := loadContainer(g.root, args[0])
	if err != nil {
		return err
	}
	dir := c.dir
	st := c.status()
	bundle := c.Bundle
	c.unlock()
	if st != statusRunning {
		return fmt.Errorf("cannot exec in a %s container", st)
	}
	p, err := execProcess(b, bundle, args[1:])
	if err != nil {
		return err
	}
	stdio := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	if p.Terminal {
		slave, err := consoleStdio(b.str("console-socket"))
		if err != nil {
			return err
		}
		defer slave.Close()
		stdio = [3]*os.File{slave, slave, slave}
	}
	msg, err := processMessage(p)
	if err != nil {
		return err
	}
	if b.on("detach") || b.on("d") {
		pid, err := startExecProxy(g, dir, msg, stdio, p.Terminal)
		if err != nil {
			return err
		}
		return writePidFile(b.str("pid-file"), pid)
	}
	status, err := execAndWait(dir, msg, stdio, func(int32) error {
		if f := b.str("pid-file"); f != "" {
			return writePidFile(f, os.Getpid())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return &exitError{status}
}

// execProcess is the process to run: --process's, or the container's
// own process changed by the command line.
func execProcess(b *flagSetBuilder, bundle string, argv []string) (*specs.Process, error) {
	if f := b.str("process"); f != "" {
		if len(argv) > 0 {
			return nil, usageErrorf("--process and a command exclude each other")
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("--process %s: %w", f, err)
		}
		if len(p.Args) == 0 {
			return nil, fmt.Errorf("--process %s: no args", f)
		}
		return &p, nil
	}
	if len(argv) == 0 {
		return nil, usageErrorf("no command (and no --process)")
	}
	_, spec, err := loadBundle(bundle)
	if err != nil {
		return nil, err
	}
	p := *spec.Process
	p.Args = argv
	p.Terminal = b.on("tty") || b.on("t")
	if cwd := b.str("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	p.Env = append(append([]string(nil), p.Env...), append(b.list("env"), b.list("e")...)...)
	user := b.str("user")
	if u := b.str("u"); u != "" {
		user = u
	}
	if user != "" {
		uid, gid, err := parseUser(user)
		if err != nil {
			return nil, usageErrorf("--user: %v", err)
		}
		p.User = specs.User{UID: uid, GID: gid}
	}
	for _, s := range b.list("additional-gids") {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, usageErrorf("--additional-gids %q", s)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(n))
	}
	if b.on("no-new-privs") {
		p.NoNewPrivileges = true
	}
	return &p, nil
}

func parseUser(s string) (uint32, uint32, error) {
	us, gs, hasGID := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("uid %q is not a number", us)
	}
	gid := uint64(0)
	if hasGID {
		if gid, err = strconv.ParseUint(gs, 10, 32); err != nil {
			return 0, 0, fmt.Errorf("gid %q is not a number", gs)
		}
	}
	return uint32(uid), uint32(gid), nil
}

// processMessage converts an OCI process for the control socket.
func processMessage(p *specs.Process) (*pb.Process, error) {
	m := &pb.Process{Argv: p.Args, Env: p.Env, Cwd: p.Cwd, Uid: p.User.UID, Gid: p.User.GID,
		Groups: p.User.AdditionalGids, NoNewPrivileges: p.NoNewPrivileges}
	if m.Cwd == "" {
		m.Cwd = "/"
	}
	if c := p.Capabilities; c != nil {
		m.HasCaps = true
		m.CapEffective, m.CapPermitted = capMask(c.Effective), capMask(c.Permitted)
		m.CapInheritable, m.CapBounding, m.CapAmbient = capMask(c.Inheritable), capMask(c.Bounding), capMask(c.Ambient)
	}
	for _, r := range p.Rlimits {
		n, ok := rlimitNumbers[r.Type]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit %q", r.Type)
		}
		m.Rlimits = append(m.Rlimits, &pb.Rlimit{Type: uint32(n), Soft: r.Soft, Hard: r.Hard})
	}
	return m, nil
}

// execAndWait runs p in the sandbox whose state directory is dir with
// stdio, calls started with its guest pid, passes on the signals we get,
// and returns its exit status.
func execAndWait(dir string, p *pb.Process, stdio [3]*os.File, started func(pid int32) error) (int, error) {
	conn, err := control.Dial(dir)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	fds := []int{int(stdio[0].Fd()), int(stdio[1].Fd()), int(stdio[2].Fd())}
	if err := conn.Send(&pb.Request{Req: &pb.Request_Exec{Exec: &pb.ExecRequest{Process: p}}}, fds); err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	resp, err := conn.Recv()
	if err != nil {
		return 0, err
	}
	pid := resp.Pid
	sigs := make(chan os.Signal, 16)
	notifySignals(sigs)
	defer stopSignals(sigs)
	if err := started(pid); err != nil {
		return 0, err
	}
	done := make(chan *pb.Response, 1)
	go func() {
		r, err := conn.Recv()
		if err != nil {
			// The sandbox ended under it.
			r = &pb.Response{Status: 128 + int32(unix.SIGKILL)}
		}
		done <- r
	}()
	for {
		select {
		case s := <-sigs:
			control.Call(dir, &pb.Request{Req: &pb.Request_Signal{Signal: &pb.SignalRequest{
				Signo: int32(s.(syscall.Signal)), Pid: pid}}})
		case r := <-done:
			return int(r.Status), nil
		}
	}
}

// startExecProxy leaves behind a process (`runsc-lite exec-proxy`) that
// runs p and exits with its status, and returns its pid once p started.
func startExecProxy(g *globalFlags, dir string, p *pb.Process, stdio [3]*os.File, tty bool) (int, error) {
	data, err := proto.Marshal(p)
	if err != nil {
		return 0, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer readyR.Close()
	procR, procW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return 0, err
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       append(append([]string{"runsc-lite"}, g.childArgs()...), "exec-proxy", dir),
		Env:        []string{},
		Stdin:      stdio[0],
		Stdout:     stdio[1],
		Stderr:     stdio[2],
		ExtraFiles: []*os.File{readyW, procR},
		// Its own session: it outlives us; with a terminal, it is the
		// terminal's session leader and so gets its resize signals.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Setctty: tty, Ctty: 0},
	}
	err = cmd.Start()
	readyW.Close()
	procR.Close()
	if err != nil {
		procW.Close()
		return 0, fmt.Errorf("exec: starting the proxy: %w", err)
	}
	procW.Write(data)
	procW.Close()
	msg, _ := io.ReadAll(readyR)
	if string(msg) != "ok" {
		cmd.Process.Kill()
		cmd.Wait()
		if len(msg) == 0 {
			return 0, errors.New("exec: the proxy died")
		}
		return 0, errors.New(string(msg))
	}
	pid := cmd.Process.Pid
	cmd.Process.Release()
	return pid, nil
}

// execProxyCommand is the process `exec --detach` leaves behind.
var execProxyCommand = &command{
	name:     "exec-proxy",
	synopsis: "(internal) run a process in a sandbox and exit with its status",
	usage:    "STATEDIR",
	internal: true,
	run: func(g *globalFlags, args []string) int {
		if len(args) != 1 {
			return fatalf(exitUsage, "exec-proxy: internal command")
		}
		ready := os.NewFile(proxyReadyFD, "ready")
		unix.CloseOnExec(proxyReadyFD)
		unix.CloseOnExec(proxyProcessFD)
		data, err := io.ReadAll(os.NewFile(proxyProcessFD, "process"))
		p := &pb.Process{}
		if err == nil {
			err = proto.Unmarshal(data, p)
		}
		if err != nil {
			fmt.Fprintf(ready, "exec: reading the process: %v", err)
			return exitFail
		}
		status, err := execAndWait(args[0], p, [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, func(int32) error {
			_, err := ready.Write([]byte("ok"))
			ready.Close()
			return err
		})
		if err != nil {
			fmt.Fprintf(ready, "%v", err)
			return exitFail
		}
		return status
	},
}
