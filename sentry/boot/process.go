package boot

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	pb "github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/host"
)

// process is what a guest process is started with: init's from Config,
// an exec'd one's from the control socket.
type process struct {
	Argv, Env       []string
	Cwd             string
	UID, GID        uint32
	Groups          []uint32
	Caps            *Caps
	NoNewPrivileges bool
	Rlimits         []Rlimit
}

func initProcess(cfg *Config) *process {
	return &process{Argv: cfg.Argv, Env: cfg.Env, Cwd: cfg.Cwd, UID: cfg.UID, GID: cfg.GID,
		Groups: cfg.Groups, Caps: cfg.Caps, NoNewPrivileges: cfg.NoNewPrivileges, Rlimits: cfg.Rlimits}
}

func processFromPB(p *pb.Process) *process {
	np := &process{Argv: p.Argv, Env: p.Env, Cwd: p.Cwd, UID: p.Uid, GID: p.Gid, Groups: p.Groups,
		NoNewPrivileges: p.NoNewPrivileges}
	if np.Cwd == "" {
		np.Cwd = "/"
	}
	if p.HasCaps {
		np.Caps = &Caps{Effective: p.CapEffective, Permitted: p.CapPermitted,
			Inheritable: p.CapInheritable, Bounding: p.CapBounding, Ambient: p.CapAmbient}
	}
	for _, r := range p.Rlimits {
		np.Rlimits = append(np.Rlimits, Rlimit{Type: int(r.Type), Soft: r.Soft, Hard: r.Hard})
	}
	return np
}

func (p *process) creds() *kernel.Credentials {
	c := kernel.NewCreds(p.UID, p.GID, p.Groups)
	if p.Caps == nil {
		return c
	}
	c = c.Fork()
	c.Effective, c.Permitted, c.Inheritable = p.Caps.Effective, p.Caps.Permitted, p.Caps.Inheritable
	c.Bounding, c.Ambient = p.Caps.Bounding, p.Caps.Ambient
	c.Finish()
	return c
}

func (p *process) limits() *kernel.Limits {
	l := kernel.DefaultLimits()
	for _, r := range p.Rlimits {
		l.Set(r.Type, unix.Rlimit{Cur: r.Soft, Max: r.Hard})
	}
	return l
}

// startResult is the outcome of starting init on request.
type startResult struct {
	status  int
	started bool
	err     error
}

// controller serves the control socket (control.Handler).
type controller struct {
	s     *sandbox
	init  *process
	stdio [3]*vfs.File

	mu        sync.Mutex
	startDone bool
	started   chan startResult // receives once, when init was started (or could not be)
	replied   chan struct{}    // closed once the start request was answered
	killed    chan int         // a fatal signal before start
}

func newController(s *sandbox, init *process, stdio [3]*vfs.File) *controller {
	return &controller{s: s, init: init, stdio: stdio,
		started: make(chan startResult, 1), replied: make(chan struct{}), killed: make(chan int, 1)}
}

func (c *controller) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.startDone {
		return fmt.Errorf("container already started")
	}
	c.startDone = true
	status, started, err := c.s.startInit(c.init, c.stdio)
	c.started <- startResult{status, started, err}
	if err != nil {
		return err
	}
	if !started {
		return notStarted(c.init.Argv[0], status)
	}
	return nil
}

// notStarted describes a command that could not be executed in the words
// Docker looks for to pick its exit status (127 "not found", 126
// "permission denied").
func notStarted(name string, status int) error {
	if status == exitNotFound {
		return fmt.Errorf("exec: %q: executable file not found in $PATH", name)
	}
	return fmt.Errorf("exec: %q: permission denied", name)
}

// Ready checks, once the sandbox is set up, that init's command can be
// executed, so that create (not start) fails when it cannot.
func (c *controller) Ready() error {
	s := c.s
	ctx := rootCtx()
	root := s.ns.Root()
	if st, err := s.vfs.Stat(ctx, root, root, c.init.Cwd, 0); err != nil {
		return fmt.Errorf("working directory %s: %w", c.init.Cwd, err)
	} else if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("working directory %s: not a directory", c.init.Cwd)
	}
	cwd, err := s.vfs.GetLocation(ctx, root, root, c.init.Cwd, 0)
	if err != nil {
		return fmt.Errorf("working directory %s: %w", c.init.Cwd, err)
	}
	defer cwd.DecRef()
	creds := c.init.creds()
	p, err := s.lookPath(creds.VFS(), root, cwd, c.init.Argv, c.init.Env)
	if err == nil {
		vctx := vfs.NewContext(creds.VFS())
		if _, err = s.vfs.Stat(vctx, root, cwd, p, 0); err == nil {
			err = s.vfs.Access(vctx, root, cwd, p, unix.X_OK, 0)
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		return notStarted(c.init.Argv[0], exitNotFound)
	default:
		return notStarted(c.init.Argv[0], exitNoExec)
	}
}

// StartReplied is called once the answer to the start request was sent:
// a sandbox whose init could not start must not exit before that.
func (c *controller) StartReplied() { close(c.replied) }

func (c *controller) Signal(signo, pid int32, all bool) error {
	if signo <= 0 || signo > 64 {
		return fmt.Errorf("bad signal %d", signo)
	}
	c.mu.Lock()
	startDone := c.startDone
	c.mu.Unlock()
	if !startDone {
		// Nothing runs yet: any signal whose default action ends a
		// process ends the waiting container.
		switch unix.Signal(signo) {
		case unix.SIGCHLD, unix.SIGCONT, unix.SIGURG, unix.SIGWINCH:
			return nil
		}
		select {
		case c.killed <- int(signo):
		default:
		}
		return nil
	}
	si := &kernel.SigInfo{Signo: signo, Code: linux.SI_USER}
	if all {
		for _, tg := range c.s.k.ThreadGroups() {
			switch {
			case tg.IsZombie():
			case c.s.k.IsInit(tg):
				c.s.k.SignalInitFromHost(signo)
			default:
				c2 := *si
				tg.SendSignal(&c2)
			}
		}
		return nil
	}
	if pid == 0 {
		c.s.k.SignalInitFromHost(signo)
		return nil
	}
	t := c.s.k.TaskByTID(pid)
	if t == nil {
		return fmt.Errorf("no process %d", pid)
	}
	return t.ThreadGroup().SendSignal(si)
}

func (c *controller) Exec(p *pb.Process, fds []int) (int32, func() int, error) {
	if len(p.Argv) == 0 {
		closeAll(fds)
		return 0, nil, fmt.Errorf("exec: no command")
	}
	var stdio [3]*vfs.File
	for i, fd := range fds {
		f, err := host.NewFile(c.s.vfs, fd, hostFlags(fd))
		if err != nil {
			for _, g := range stdio[:i] {
				g.DecRef(rootCtx())
			}
			closeAll(fds[i:])
			return 0, nil, fmt.Errorf("exec: stdio %d: %w", i, err)
		}
		stdio[i] = f
	}
	done := make(chan int, 1)
	pid, status, started, err := c.s.startProcess(processFromPB(p), stdio, func(st int) { done <- st })
	if err != nil {
		return 0, nil, fmt.Errorf("exec: %w", err)
	}
	if !started {
		return 0, nil, notStarted(p.Argv[0], status)
	}
	return pid, func() int { return <-done }, nil
}

func (c *controller) Update(maxTasks int64) error {
	switch {
	case maxTasks > 0:
		c.s.k.SetMaxTasks(int(maxTasks))
	case maxTasks < 0:
		c.s.k.SetMaxTasks(0)
	}
	return nil
}

func (c *controller) Ps() []int32 {
	var pids []int32
	for _, tg := range c.s.k.ThreadGroups() {
		if !tg.IsZombie() {
			pids = append(pids, tg.ID())
		}
	}
	return pids
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
