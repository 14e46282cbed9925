package boot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/gofer"
	goferpb "github.com/runsc-lite/runsc-lite/gofer/proto"
	"github.com/runsc-lite/runsc-lite/platform/systrap"
	"github.com/runsc-lite/runsc-lite/sentry/control"
	"github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/sentry/vdso"
	"github.com/runsc-lite/runsc-lite/syscalls"
	"github.com/runsc-lite/runsc-lite/syscalls/proc"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/host"
)

// memoryFileSize is the address-space reservation of the memory file; pages
// are only backed when used.
const memoryFileSize = 64 << 30

// Exit statuses for failures to start the guest, as shells use them.
const (
	exitNotFound = 127
	exitNoExec   = 126
)

// Run builds the kernel, starts the guest's first process and returns its
// exit status (0-255; 128+N for a guest killed by signal N). confine is
// called once every host resource that needs host paths or privileges
// (memory file, platform stubs, log files) exists, and before any guest code
// runs: it chroots the sentry into an empty directory, drops capabilities
// and installs the sentry's seccomp filter.
func Run(cfg *Config, hio IO, confine func() error) (int, error) {
	// The protocols' first messages would pay for the protobuf runtime's
	// set-up; pay for it on the side instead.
	go goferpb.WarmUp()
	if hio.ControlFD >= 0 {
		go controlpb.WarmUp()
	}
	// Catch forwarded signals before confinement (signal handling needs no
	// host resources, but we want no window where they kill the sentry).
	// Each signal caught or released costs a round trip to the Go
	// runtime's signal thread: do it while the sandbox is being built,
	// and, at the end, while the platform shuts down.
	sigs := make(chan os.Signal, 16)
	notified := make(chan struct{})
	go func() {
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
		close(notified)
	}()
	var stopOnce sync.Once
	stopped := make(chan struct{})
	stop := func() {
		stopOnce.Do(func() {
			go func() {
				<-notified
				signal.Stop(sigs)
				close(stopped)
			}()
		})
	}
	defer func() { stop(); <-stopped }()

	logw, err := openLog(cfg)
	if err != nil {
		return 0, err
	}
	s, err := newSandbox(cfg, logw, hio.OverlayFD)
	if err != nil {
		return 0, err
	}
	defer s.close()
	defer stop() // before s.close, to overlap it
	if err := s.mountRoot(cfg, hio.GoferFD); err != nil {
		return 0, fmt.Errorf("root file system: %w", err)
	}
	<-notified
	if err := confine(); err != nil {
		return 0, fmt.Errorf("confine sentry: %w", err)
	}
	var stdio [3]*vfs.File
	for i, fd := range hio.Stdio {
		// The guest's file owns a duplicate: when the guest closes its
		// stdout, the host FD the sentry's own diagnostics use stays open.
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return 0, fmt.Errorf("stdio %d: %w", i, err)
		}
		f, err := host.NewFile(s.vfs, dup, hostFlags(dup))
		if err != nil {
			return 0, fmt.Errorf("stdio %d: %w", i, err)
		}
		stdio[i] = f
	}
	// Forwarded terminal signals look up stdin's foreground process group
	// for as long as the sandbox runs, whatever the guest does with fd 0.
	stdin := stdio[0]
	stdin.IncRef()
	defer stdin.DecRef(rootCtx())
	init := initProcess(cfg)
	if hio.ControlFD >= 0 {
		ctl := newController(s, init, stdio)
		go control.Serve(hio.ControlFD, ctl)
		// The container's init waits for `start`. A signal from the
		// host before that ends the sandbox as it would have ended init.
		select {
		case r := <-ctl.started:
			if r.err != nil || !r.started {
				<-ctl.replied
				return r.status, r.err
			}
		case sig := <-sigs:
			return 128 + int(sig.(unix.Signal)), nil
		case sig := <-ctl.killed:
			return 128 + sig, nil
		}
	} else {
		status, started, err := s.startInit(init, stdio)
		if err != nil || !started {
			return status, err
		}
	}
	for {
		select {
		case sig := <-sigs:
			s.k.SendExternalSignal(int32(sig.(unix.Signal)), foregroundGroup(stdin, sig.(unix.Signal)))
		case <-s.k.Done():
			// Nothing needs the gofer any more: it sees EOF and exits
			// alongside our own teardown rather than after it.
			go s.gofer.Close()
			return s.k.Wait(), nil
		}
	}
}

// foregroundGroup returns the guest process group a forwarded signal goes
// to: signals a terminal generates (^C, ^\\, ^Z, a resize) reach the
// terminal's foreground process group, as on Linux; the others go to init
// (0), as with docker and runc.
func foregroundGroup(stdin *vfs.File, sig unix.Signal) int32 {
	switch sig {
	case unix.SIGINT, unix.SIGQUIT, unix.SIGTSTP, unix.SIGWINCH:
		if pgrp, _, err := host.Foreground(stdin); err == nil {
			return pgrp
		}
	}
	return 0
}

func hostFlags(fd int) uint32 {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return unix.O_RDWR
	}
	return uint32(fl)
}

func openLog(cfg *Config) (io.Writer, error) {
	if cfg.DebugLog == "" {
		if cfg.Strace {
			return os.Stderr, nil
		}
		return io.Discard, nil
	}
	f, err := os.OpenFile(cfg.DebugLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("debug log: %w", err)
	}
	return f, nil
}

// sandbox is a kernel with its memory file, platform and VFS.
type sandbox struct {
	mf    *memfile.File
	upper *memfile.File // the root's upper layer's data: mf or a host file
	plat  *systrap.Platform
	vfs   *vfs.VFS
	k     *kernel.Kernel
	ns    *vfs.MountNamespace
	gofer *gofer.Client
	vdso  *vdso.VDSO

	// tmpfsLimit bounds each in-memory file system (half the host's RAM).
	tmpfsLimit int64
	// directfs: host files are opened by the sentry from the gofer's
	// directory FDs; otherwise every operation is a gofer RPC.
	directfs bool
	// upperLimit bounds the root's upper layer.
	upperLimit int64
}

// newSandbox builds the kernel. overlayFD is the upper layer's host file
// when cfg.OverlayFile is set.
func newSandbox(cfg *Config, logw io.Writer, overlayFD int) (*sandbox, error) {
	if cfg.Platform != "" && cfg.Platform != "systrap" {
		return nil, fmt.Errorf("platform %q is not available: this build has systrap only", cfg.Platform)
	}
	if cfg.OverlaySize < 0 {
		return nil, fmt.Errorf("overlay size %d is negative", cfg.OverlaySize)
	}
	mf, err := memfile.New("runsc-lite-memory", memoryFileSize)
	if err != nil {
		return nil, err
	}
	upper, upperLimit := mf, cfg.OverlaySize
	if upperLimit == 0 {
		upperLimit = DefaultOverlaySize()
	}
	files := memfile.Files{mf}
	if cfg.OverlayFile {
		if upper, err = memfile.NewHost(overlayFD, cfg.OverlaySize); err != nil {
			mf.Close()
			return nil, fmt.Errorf("overlay file: %w", err)
		}
		upperLimit = upper.Size()
		files = append(files, upper)
	}
	upperLimit = min(upperLimit, upper.Size())
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = f.FD()
	}
	plat, err := systrap.New(fds...)
	if err != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, fmt.Errorf("systrap platform: %w", err)
	}
	k := kernel.New(mf, plat, syscalls.Table(), logw)
	k.BackingFiles = files
	k.Strace = cfg.Strace
	k.MaxTasks = cfg.MaxTasks
	k.UnprivilegedPortStart = cfg.UnprivilegedPortStart
	k.PageCache = mm.NewPageCache(mf, 1<<18)
	for name, value := range cfg.IPCSysctl {
		if err := k.IPC.SetSysctl(name, value); err != nil {
			plat.Close()
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("sysctl kernel.%s=%q: %w", name, value, err)
		}
	}
	vd, err := vdso.New(mf)
	if err != nil {
		plat.Close()
		mf.Close()
		return nil, fmt.Errorf("vdso: %w", err)
	}
	vd.Start(500 * time.Millisecond)
	k.MapVDSO = vd.Map
	k.Clock = kernel.NewClock(vd)
	if cfg.Hostname != "" {
		k.SetHostname(cfg.Hostname)
	}
	if cfg.Domainname != "" {
		k.SetDomainname(cfg.Domainname)
	}
	v := vfs.New()
	k.SetVFS(v)
	return &sandbox{mf: mf, upper: upper, plat: plat, vfs: v, k: k, vdso: vd,
		tmpfsLimit: tmpfsLimit(mf), upperLimit: upperLimit, directfs: cfg.Directfs}, nil
}

func (s *sandbox) close() {
	s.vdso.Stop()
	s.plat.Close()
}

// tmpfsLimit is Linux's default tmpfs size, half of RAM, within the memory
// file.
func tmpfsLimit(mf *memfile.File) int64 {
	return min(DefaultOverlaySize(), mf.Size())
}

// MemoryFileSize is the capacity of the memory file: the largest limit of
// a file system whose data is in memory.
const MemoryFileSize = memoryFileSize

// DefaultOverlaySize is the default limit of the root's upper layer, as of
// every tmpfs: Linux's default tmpfs size, half of RAM, within the memory
// file.
func DefaultOverlaySize() int64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return memoryFileSize
	}
	return min(int64(si.Totalram)*int64(si.Unit)/2, memoryFileSize)
}

// rootCtx is the context of file system setup done by the sandbox itself.
func rootCtx() vfs.Context { return vfs.NewContext(vfs.RootCredentials()) }

// startInit creates the guest's first process. A command that cannot be
// executed gives the shell's status (127 not found, 126 not executable) and
// one line on the guest's stderr.
// started is false when the command could not be executed.
func (s *sandbox) startInit(p *process, stdio [3]*vfs.File) (status int, started bool, err error) {
	_, status, started, err = s.startProcess(p, stdio, nil)
	return status, started, err
}

// startProcess starts p with stdio (whose references it takes over): as
// init when onExit is nil, else as a process from outside the sandbox
// whose exit status goes to onExit.
func (s *sandbox) startProcess(p *process, stdio [3]*vfs.File, onExit func(int)) (pid int32, status int, started bool, err error) {
	ctx := rootCtx()
	for _, f := range stdio {
		// A terminal belongs to the process it is given to (as runc's
		// console does): chown of its /dev/pts entry.
		if node, ok := host.TerminalNode(f); ok {
			node.Dentry.Inode().SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_UID, UID: p.UID})
		}
	}
	root := s.ns.Root()
	cwd, err := s.vfs.GetLocation(ctx, root, root, p.Cwd, 0)
	if err != nil {
		cwd = root
		cwd.IncRef()
	}
	defer cwd.DecRef()
	creds := p.creds()
	fsc := kernel.NewFSContext(root, cwd, 0o022)
	files := kernel.NewFDTable()
	for i, f := range stdio {
		if _, err := files.NewFD(f, int32(i), false, 1024); err != nil {
			return 0, 0, false, err
		}
		f.DecRef(ctx)
	}
	if onExit == nil {
		// Init's session is 1; its terminal is known before it runs.
		s.setSessionTTY(1, stdio)
	}
	argv0, err := s.lookPath(creds.VFS(), root, cwd, p.Argv, p.Env)
	if err == nil {
		var img *proc.Image
		img, err = proc.Load(s.k, vfs.NewContext(creds.VFS()), root, cwd, argv0, p.Argv, p.Env, creds, p.limits().Get(unix.RLIMIT_STACK).Cur)
		if err == nil {
			if aerr := s.k.AttachNewAddressSpace(img.MM); aerr != nil {
				img.MM.Release()
				return 0, 0, false, aerr
			}
			opts := kernel.InitOpts{MM: img.MM, Entry: img.Entry, Stack: img.Stack,
				Files: files, FS: fsc, Creds: creds, Name: img.Name, Limits: p.limits(),
				NoNewPrivs: p.NoNewPrivileges}
			if onExit != nil {
				// It leads a new session (sid = its pid) that owns its
				// terminal from its first instruction.
				opts.BeforeStart = func(pid int32) { s.setSessionTTY(pid, stdio) }
			}
			var t *kernel.Task
			var cerr error
			if onExit == nil {
				t, cerr = s.k.CreateInit(opts)
			} else {
				t, cerr = s.k.CreateProcess(opts, onExit)
			}
			if cerr != nil {
				img.MM.Release()
				return 0, 0, false, cerr
			}
			t.ThreadGroup().Ext = &proc.ProcessInfo{Exe: img.Exe}
			return t.ThreadGroup().ID(), 0, true, nil
		}
	}
	status = exitNoExec
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		status = exitNotFound
	}
	msg := fmt.Sprintf("runsc-lite: exec %q: %v\n", p.Argv[0], describe(err))
	stdio[2].Write(ctx, []byte(msg))
	files.CloseRange(ctx, 0, ^uint32(0), false)
	return 0, status, false, nil
}

// setSessionTTY makes the host terminal among stdio, if any, the
// controlling terminal of session sid (a new process leads its session).
// A process started from outside (exec) is also made its foreground
// group: a terminal starts with init's (host.DefaultForeground).
func (s *sandbox) setSessionTTY(sid int32, stdio [3]*vfs.File) {
	for _, f := range stdio {
		if tty := host.TTY(f); tty != nil {
			if sid != host.DefaultForeground {
				tty.SetForeground(sid, sid)
			}
			s.k.SetSessionTTY(sid, tty)
			return
		}
	}
}

func describe(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		switch e {
		case unix.ENOENT:
			return "no such file or directory"
		case unix.EACCES:
			return "permission denied"
		case unix.ENOEXEC:
			return "exec format error"
		}
		return e.Error()
	}
	return err.Error()
}

// lookPath resolves Argv[0] against PATH like execvp.
func (s *sandbox) lookPath(c *vfs.Credentials, root, cwd vfs.Location, argv, env []string) (string, error) {
	if len(argv) == 0 {
		return "", unix.ENOENT
	}
	name := argv[0]
	if strings.Contains(name, "/") {
		return name, nil
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			pathEnv = e[5:]
		}
	}
	ctx := vfs.NewContext(c)
	firstErr := error(unix.ENOENT)
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		st, err := s.vfs.Stat(ctx, root, cwd, p, 0)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		if err := s.vfs.Access(ctx, root, cwd, p, unix.X_OK, 0); err != nil {
			if firstErr == unix.ENOENT {
				firstErr = err
			}
			continue
		}
		return p, nil
	}
	return "", firstErr
}
