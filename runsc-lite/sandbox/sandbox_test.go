package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a helper process (see TestMain).
const helperEnv = "RUNSC_LITE_SANDBOX_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "confine":
		os.Exit(confineChild())
	default:
		fmt.Fprintf(os.Stderr, "unknown helper %q\n", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces, mounts, capabilities)")
	}
}

func TestFilterMatchesTable(t *testing.T) {
	prog, err := buildFilter(sentryAllowlist, deniedIoctls)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[uint32]bool{}
	names := map[string]bool{}
	for _, s := range sentryAllowlist {
		if names[s.name] {
			t.Errorf("%s listed twice", s.name)
		}
		names[s.name] = true
		allowed[uint32(s.nr)] = true
	}
	const x86 = unix.AUDIT_ARCH_X86_64
	for nr := uint32(0); nr < 1024; nr++ {
		want := uint32(actionDeny)
		if allowed[nr] {
			want = actionAllow
		}
		if got := runFilter(prog, x86, nr, 0); got != want {
			t.Errorf("syscall %d: action %#x, want %#x", nr, got, want)
		}
	}
	for _, tc := range []struct {
		name     string
		arch, nr uint32
	}{
		{"i386 syscall", 0x40000003, unix.SYS_READ},
		{"x32 syscall", x86, x32ABIBit | unix.SYS_READ},
		{"huge number", x86, 0xffffffff},
	} {
		if got := runFilter(prog, tc.arch, tc.nr, 0); got != actionDeny {
			t.Errorf("%s: action %#x, want deny", tc.name, got)
		}
	}
	for _, req := range deniedIoctls {
		for _, arg := range []uint64{uint64(req), uint64(req) | 0xdead00000000} {
			if got := runFilter(prog, x86, unix.SYS_IOCTL, arg); got != actionDeny {
				t.Errorf("ioctl %#x: action %#x, want deny", arg, got)
			}
		}
	}
	for _, req := range []uint64{unix.TCGETS, unix.TIOCGWINSZ, unix.TIOCSPGRP, unix.TIOCINQ} {
		if got := runFilter(prog, x86, unix.SYS_IOCTL, req); got != actionAllow {
			t.Errorf("ioctl %#x: action %#x, want allow", req, got)
		}
	}
	// Things a confined sentry must never do.
	for _, nr := range []uint32{
		unix.SYS_OPEN, unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_MOUNT, unix.SYS_UMOUNT2,
		unix.SYS_CHROOT, unix.SYS_PIVOT_ROOT, unix.SYS_SETNS, unix.SYS_UNSHARE,
		unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_BPF, unix.SYS_KEXEC_LOAD,
		unix.SYS_REBOOT, unix.SYS_SETUID, unix.SYS_CAPSET, unix.SYS_OPEN_BY_HANDLE_AT,
		unix.SYS_FSOPEN, unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_USERFAULTFD,
		unix.SYS_PERF_EVENT_OPEN, unix.SYS_KEYCTL, unix.SYS_ADD_KEY,
	} {
		if runFilter(prog, x86, nr, 0) != actionDeny {
			t.Errorf("syscall %d is allowed", nr)
		}
	}
}

func TestFilterSmallTables(t *testing.T) {
	for n := 0; n < 40; n++ {
		var list []allowedSyscall
		for i := 0; i < n; i++ {
			list = append(list, allowedSyscall{uintptr(3 * i), "x"})
		}
		prog, err := buildFilter(list, nil)
		if err != nil {
			t.Fatal(err)
		}
		for nr := uint32(0); nr < uint32(3*n+3); nr++ {
			want := uint32(actionDeny)
			if nr%3 == 0 && nr < uint32(3*n) {
				want = actionAllow
			}
			if got := runFilter(prog, unix.AUDIT_ARCH_X86_64, nr, 0); got != want {
				t.Fatalf("n=%d syscall %d: %#x, want %#x", n, nr, got, want)
			}
		}
	}
}

func mountInfo(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConfine runs Confine in a child (the test binary again) in new mount
// and PID namespaces and checks its effect from outside and inside: alone,
// and after DropBoundingSet was called early (as the sentry does), before
// more threads were made.
func TestConfine(t *testing.T) {
	requireRoot(t)
	for _, early := range []bool{false, true} {
		t.Run(fmt.Sprintf("early=%v", early), func(t *testing.T) { testConfine(t, early) })
	}
}

func testConfine(t *testing.T, early bool) {
	hostNS, err := MountNamespace()
	if err != nil {
		t.Fatal(err)
	}
	mountsBefore := mountInfo(t)

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=confine", fmt.Sprintf("HOST_MNT_NS=%d", hostNS), fmt.Sprintf("EARLY_BOUNDING_DROP=%v", early))
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID,
		Pdeathsig:  syscall.SIGKILL,
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if line != "confined\n" {
		cmd.Process.Kill()
		cmd.Wait()
		if strings.Contains(stderr.String(), "without cgo") {
			t.Skipf("test binary uses cgo (-race?): %s", stderr.String())
		}
		t.Fatalf("child: %q %v; stderr:\n%s", line, err, stderr.String())
	}

	// From outside: every thread confined.
	pid := cmd.Process.Pid
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no tasks of %d: %v", pid, err)
	}
	for _, st := range append([]string{fmt.Sprintf("/proc/%d/status", pid)}, tasks...) {
		b, err := os.ReadFile(st)
		if errors.Is(err, os.ErrNotExist) {
			continue // a thread that ended since the listing
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"Seccomp:\t2\n", fmt.Sprintf("CapEff:\t%016x\n", KeptCapabilities), fmt.Sprintf("CapPrm:\t%016x\n", KeptCapabilities),
			"CapInh:\t0000000000000000\n", "CapBnd:\t0000000000000000\n", "CapAmb:\t0000000000000000\n",
			"NoNewPrivs:\t1\n",
		} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q", st, strings.TrimSpace(want))
			}
		}
	}
	if root, err := os.ReadDir(fmt.Sprintf("/proc/%d/root/", pid)); err != nil || len(root) != 0 {
		t.Errorf("child's root: %v entries, %v; want empty", len(root), err)
	}

	// From inside: the child checks itself.
	io.WriteString(stdin, "go\n")
	rest, _ := io.ReadAll(out)
	werr := cmd.Wait()
	if werr != nil || strings.TrimSpace(string(rest)) != "ok" {
		t.Errorf("child: %v\n%s\nstderr:\n%s", werr, rest, stderr.String())
	}
	// Nothing leaked into our mount namespace.
	if after := mountInfo(t); after != mountsBefore {
		t.Errorf("mounts changed:\nbefore:\n%s\nafter:\n%s", mountsBefore, after)
	}
}

// confineChild is the child of TestConfine.
func confineChild() int {
	hostNS, _ := strconv.ParseUint(os.Getenv("HOST_MNT_NS"), 10, 64)
	if os.Getenv("EARLY_BOUNDING_DROP") == "true" {
		if err := DropBoundingSet(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// The capabilities held are untouched: only the bounding set
		// is empty.
		b, _ := os.ReadFile("/proc/thread-self/status")
		if !strings.Contains(string(b), "CapBnd:\t0000000000000000\n") || strings.Contains(string(b), "CapEff:\t0000000000000000\n") {
			fmt.Fprintf(os.Stderr, "after DropBoundingSet:\n%s", b)
			return 1
		}
	}
	// Start some threads first: confinement must reach all of them (and
	// those made after an early DropBoundingSet inherit its effect).
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			time.Sleep(10 * time.Millisecond)
		}()
	}
	time.Sleep(time.Millisecond)
	if err := Confine(ConfineOptions{HostMountNS: hostNS}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	wg.Wait()
	fmt.Println("confined")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); line != "go\n" {
		fmt.Fprintf(os.Stderr, "stdin: %q %v\n", line, err)
		return 1
	}

	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	for _, p := range []string{"/etc/passwd", "/proc/self/status", "/bin/sh", "/"} {
		if p == "/" {
			ents, err := os.ReadDir("/")
			if err != nil || len(ents) != 0 {
				fail("root directory: %d entries, %v", len(ents), err)
			}
			continue
		}
		if f, err := os.Open(p); err == nil {
			f.Close()
			fail("opened %s", p)
		}
	}
	if err := os.WriteFile("/x", []byte("x"), 0o644); err == nil {
		fail("created /x in the empty root")
	}
	if err := os.WriteFile("x", []byte("x"), 0o644); err == nil {
		fail("created x in the working directory")
	}
	if wd, err := os.Getwd(); err != nil || wd != "/" {
		fail("getwd: %q %v", wd, err)
	}
	// Not allowlisted: EPERM (seccomp), not a crash.
	if err := unix.Mount("none", "/", "tmpfs", 0, ""); !errors.Is(err, unix.EPERM) {
		fail("mount: %v, want EPERM", err)
	}
	if err := unix.Chroot("/"); !errors.Is(err, unix.EPERM) {
		fail("chroot: %v, want EPERM", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_OPEN, uintptr(unsafe.Pointer(&[]byte("/\x00")[0])), 0, 0); errno != unix.EPERM {
		fail("open(2): %v, want EPERM", errno)
	}
	if err := unix.IoctlSetPointerInt(0, unix.TIOCSTI, 'x'); !errors.Is(err, unix.EPERM) {
		fail("ioctl(TIOCSTI): %v, want EPERM", err)
	}
	if _, err := unix.IoctlGetInt(0, unix.TIOCINQ); err != nil {
		fail("ioctl(FIONREAD) on stdin: %v", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); !errors.Is(err, unix.EPERM) {
		fail("unshare: %v, want EPERM", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(&[]byte("/bin/sh\x00")[0])), 0, 0); errno != unix.EPERM {
		fail("execve: %v, want EPERM", errno)
	}
	// Allowlisted things a sentry does still work.
	if fd, err := unix.MemfdCreate("mem", unix.MFD_CLOEXEC); err != nil {
		fail("memfd_create: %v", err)
	} else {
		if err := unix.Ftruncate(fd, 1<<20); err != nil {
			fail("ftruncate: %v", err)
		}
		if _, err := unix.Mmap(fd, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
			fail("mmap: %v", err)
		}
		unix.Close(fd)
	}
	if p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0); err != nil {
		fail("socketpair: %v", err)
	} else {
		unix.Close(p[0])
		unix.Close(p[1])
	}
	r, w, err := os.Pipe()
	if err != nil {
		fail("pipe: %v", err)
	} else {
		go func() { w.Write([]byte("ping")); w.Close() }()
		if b, err := io.ReadAll(r); err != nil || string(b) != "ping" {
			fail("pipe read: %q %v", b, err)
		}
		r.Close()
	}
	// The Go runtime still works: goroutines, threads, allocation, GC,
	// timers.
	var mu sync.Mutex
	total := 0
	var gwg sync.WaitGroup
	for i := 0; i < 64; i++ {
		gwg.Add(1)
		go func(i int) {
			defer gwg.Done()
			if i%8 == 0 {
				runtime.LockOSThread() // forces new threads
				defer runtime.UnlockOSThread()
			}
			buf := make([]byte, 1<<20)
			buf[len(buf)-1] = byte(i)
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			total += int(buf[len(buf)-1])
			mu.Unlock()
		}(i)
	}
	gwg.Wait()
	runtime.GC()
	if total != 63*64/2 {
		fail("goroutines: total %d", total)
	}
	select {
	case <-time.After(20 * time.Millisecond):
	case <-time.After(5 * time.Second):
		fail("timer")
	}
	if len(fails) > 0 {
		fmt.Println(strings.Join(fails, "\n"))
		return 1
	}
	fmt.Println("ok")
	return 0
}

func TestConfineRefusesHostMountNamespace(t *testing.T) {
	requireRoot(t)
	hostNS, err := MountNamespace()
	if err != nil {
		t.Fatal(err)
	}
	before := mountInfo(t)
	err = Confine(ConfineOptions{HostMountNS: hostNS})
	if err == nil || !strings.Contains(err.Error(), "host's mount namespace") {
		t.Fatalf("Confine in the host namespace: %v", err)
	}
	if mountInfo(t) != before {
		t.Fatal("mounts changed")
	}
}

func TestLoopbackUp(t *testing.T) {
	requireRoot(t)
	errc := make(chan error)
	go func() {
		// This thread enters a new network namespace and is never
		// unlocked, so the runtime discards it afterwards.
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return err
			}
			up := func() (bool, error) {
				fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					return false, err
				}
				defer unix.Close(fd)
				ifr, err := unix.NewIfreq("lo")
				if err != nil {
					return false, err
				}
				if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
					return false, err
				}
				return ifr.Uint16()&unix.IFF_UP != 0, nil
			}
			if isUp, err := up(); err != nil || isUp {
				return fmt.Errorf("lo in a fresh namespace: up=%v, %v", isUp, err)
			}
			if err := LoopbackUp(); err != nil {
				return err
			}
			if isUp, err := up(); err != nil || !isUp {
				return fmt.Errorf("after LoopbackUp: up=%v, %v", isUp, err)
			}
			return nil
		}()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestSetLinkUpUnknown(t *testing.T) {
	requireRoot(t)
	if err := setLinkUp("no-such-link0"); err == nil || !errors.Is(err, unix.ENODEV) {
		t.Fatalf("setLinkUp(no-such-link0) = %v, want ENODEV", err)
	}
}

// TestLauncherBoundingSet checks that a process forked by a launcher
// thread starts with its bounding set and an empty ambient set, and that
// the rest of the process keeps its own.
func TestLauncherBoundingSet(t *testing.T) {
	requireRoot(t)
	field := func(status, name string) string {
		for _, l := range strings.Split(status, "\n") {
			if v, ok := strings.CutPrefix(l, name+":\t"); ok {
				return v
			}
		}
		return ""
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Fatal(err)
	}
	all, err := strconv.ParseUint(field(string(before), "CapBnd"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, caps := range []uint64{GoferCapabilities(), SentryCapabilities()} {
		if all&caps != caps {
			t.Skipf("bounding set %#x lacks some of %#x", all, caps)
		}
		var out []byte
		err = onLauncher(caps, func() error {
			var err error
			out, err = exec.Command("cat", "/proc/self/status").Output()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := field(string(out), "CapBnd"), fmt.Sprintf("%016x", caps); got != want {
			t.Errorf("child's bounding set %s, want %s", got, want)
		}
		if got := field(string(out), "CapAmb"); got != "0000000000000000" {
			t.Errorf("child's ambient set %s, want empty", got)
		}
	}
	after, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := field(string(after), "CapBnd"), field(string(before), "CapBnd"); got != want {
		t.Errorf("caller's bounding set %s, was %s", got, want)
	}
}
