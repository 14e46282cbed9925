package main

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/runsc-lite/sandbox"
	"github.com/runsc-lite/runsc-lite/sentry/boot"
)

// bootCommand is the sentry process of a sandbox. The launcher
// (sandbox.Run) starts it in fresh mount, PID, IPC, UTS (and, without
// --network host, network) namespaces with the guest's stdio as FDs 0-2,
// a JSON sandbox.BootSpec on --spec-fd and its end of the gofer socketpair
// on --gofer-fd.
var bootCommand = &command{
	name:     "boot",
	synopsis: "(internal) run the sentry of a sandbox",
	usage:    "--spec-fd FD --gofer-fd FD",
	internal: true,
	run:      runBoot,
}

// setProcessName sets the name of the calling thread (the main thread:
// see init in main.go), which ps shows for the process.
func setProcessName(name string) {
	b := append([]byte(name), 0)
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}

// runSentry runs the kernel. Test builds (-tags runsc_lite_fakesentry)
// replace it with a fake that runs the command natively; release builds
// never contain that file.
var runSentry = boot.Run

func runBoot(g *globalFlags, args []string) int {
	fs := newFlagSet("boot")
	specFD := fs.Int("spec-fd", -1, "read the JSON boot spec from `FD`")
	goferFD := fs.Int("gofer-fd", -1, "unix socket to the gofer (`FD`)")
	controlFD := fs.Int("control-fd", -1, "listening control socket (`FD`); the guest then waits for start")
	statusFD := fs.Int("status-fd", -1, "write the exit status to `FD` at the end")
	overlayFD := fs.Int("overlay-fd", -1, "host file (`FD`) holding the root overlay's upper layer")
	if done, status := parseCommandFlags("boot", fs, args); done {
		return status
	}
	if *specFD < 0 || *goferFD < 0 || fs.NArg() != 0 {
		return fatalf(exitUsage, "boot: internal command, needs --spec-fd and --gofer-fd")
	}
	var spec sandbox.BootSpec
	if err := sandbox.ReadSpec(*specFD, &spec); err != nil {
		return fatalf(exitSetup, "boot: %v", err)
	}
	if spec.Config.OverlayFile != (*overlayFD >= 0) {
		return fatalf(exitUsage, "boot: --overlay-fd must be given exactly when the spec's Config.OverlayFile is set")
	}
	unix.CloseOnExec(*goferFD)
	for _, fd := range []int{*controlFD, *statusFD, *overlayFD} {
		if fd >= 0 {
			unix.CloseOnExec(fd)
		}
	}
	cfg := &spec.Config
	if cfg.Network != "host" {
		if err := sandbox.LoopbackUp(); err != nil {
			return fatalf(exitSetup, "boot: network: %v", err)
		}
		if err := sandbox.SetSysctls(cfg.NetSysctl); err != nil {
			return fatalf(exitSetup, "boot: %v", err)
		}
	}
	port, err := sandbox.UnprivilegedPortStart()
	if err != nil {
		return fatalf(exitSetup, "boot: network: %v", err)
	}
	cfg.UnprivilegedPortStart = port
	if cfg.Hostname != "" {
		// Our own UTS namespace; the guest's name is the sentry's.
		unix.Sethostname([]byte(cfg.Hostname))
	}
	// Confine's slowest step, done while we wait for the gofer instead
	// (it only limits later execs: see DropBoundingSet).
	if err := sandbox.DropBoundingSet(); err != nil {
		return fatalf(exitSetup, "boot: %v", err)
	}

	var once sync.Once
	confineErr := errors.New("boot: confine called twice")
	confine := func() error {
		once.Do(func() {
			confineErr = sandbox.Confine(sandbox.ConfineOptions{HostMountNS: spec.HostMountNS, FileCapabilities: cfg.Directfs})
			if confineErr == nil {
				debugf("sentry confined")
			}
		})
		return confineErr
	}
	debugf("boot: starting %q", cfg.Argv)
	status, err := runSentry(cfg, boot.IO{GoferFD: *goferFD, Stdio: [3]int{0, 1, 2}, ControlFD: *controlFD, OverlayFD: *overlayFD}, confine)
	if err != nil && status == 0 {
		status = exitSetup
	}
	if *statusFD >= 0 {
		// The container's state records how it ended (runsc-lite wait,
		// state): we are not the parent of whoever asks. A failure's
		// message follows on a second line for create to report.
		rec := strconv.Itoa(status)
		if err != nil {
			rec += "\n" + strings.TrimPrefix(err.Error(), "runsc-lite: ")
		}
		unix.Write(*statusFD, []byte(rec))
	}
	if err != nil {
		return fatalf(status, "%s", strings.TrimPrefix(err.Error(), "runsc-lite: "))
	}
	return status
}
