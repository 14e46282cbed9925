package devpts

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/runsc-lite/runsc-lite/test/e2e"
)

// End-to-end tests: programs using pseudo-terminals run natively and in the
// sandbox (the binary from RUNSC_LITE_BINARY, which `make test` sets) and
// must print the same thing.

// TestE2EPty runs testdata/pty.c: posix_openpt/grantpt/unlockpt/ptsname,
// canonical input with erase/kill/werase/EOF, echo, ICRNL/INLCR/IGNCR,
// ONLCR, raw mode with VMIN/VTIME, ^Z/^C to a foreground process group set
// with tcsetpgrp, SIGTTIN, TIOCSWINSZ with SIGWINCH, /dev/tty, TIOCNOTTY,
// TIOCGPTPEER, EIO on the master and hangup.
func TestE2EPty(t *testing.T) {
	bin := e2e.Binary(t)
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "pty")
	if b, err := exec.Command(gcc, "-O1", "-Wall", "-o", prog, filepath.Join("testdata", "pty.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	e2e.RunBoth(t, bin, dir, prog)
}

// TestE2EScript runs util-linux's script(1), which runs a shell on a new
// pty and copies its output.
func TestE2EScript(t *testing.T) {
	bin := e2e.Binary(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not installed")
	}
	dir := t.TempDir()
	e2e.RunBoth(t, bin, dir, script, "-qec", "tty | sed 's/[0-9]*$/N/'; echo ok; stty size; stty -a | head -c 0", "/dev/null")
}

const pythonPty = `
import os, pty, sys, termios, tty
m, s = os.openpty()
print("ttyname", os.ttyname(s).startswith("/dev/pts/"))
os.write(m, b"line\n")
print(os.read(s, 100))
print(os.read(m, 100))
tty.setraw(s)
os.write(m, b"\x03raw")
print(os.read(s, 100))
os.close(s)
os.close(m)
# pty.spawn-like: a child on a new controlling terminal.
pid, fd = pty.fork()
if pid == 0:
    print("child isatty", os.isatty(0), os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpid())
    sys.stdout.flush()
    os._exit(3)
out = b""
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
print(out, os.waitstatus_to_exitcode(st))
`

// TestE2EPython uses python3's os.openpty, tty.setraw and pty.fork.
func TestE2EPython(t *testing.T) {
	bin := e2e.Binary(t)
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	e2e.RunBoth(t, bin, t.TempDir(), py, "-c", pythonPty)
}
