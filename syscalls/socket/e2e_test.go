package socket

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/runsc-lite/runsc-lite/test/e2e"
)

// End-to-end tests: guest programs using sockets run natively and in the
// sandbox (the binary from RUNSC_LITE_BINARY, which `make test` sets) and
// must print the same thing.

func compileC(t *testing.T, dir, name string) string {
	t.Helper()
	return e2e.CompileC(t, filepath.Join("testdata", name+".c"), filepath.Join(dir, name))
}

func TestE2EPrograms(t *testing.T) {
	bin := e2e.Binary(t)
	for _, tc := range []struct {
		name    string
		withDir bool
	}{
		{"unix_path", true},  // pathname, abstract and datagram AF_UNIX
		{"unix_pair", false}, // socketpair, SCM_RIGHTS, SCM_CREDENTIALS, shutdown
		{"inet", false},      // TCP (v4, v6) and UDP on loopback
		{"ifaddrs", false},   // getifaddrs through NETLINK_ROUTE, SIOCGIF*
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			prog := compileC(t, dir, tc.name)
			argv := []string{prog}
			if tc.withDir {
				argv = append(argv, dir)
			}
			e2e.RunBoth(t, bin, dir, argv...)
		})
	}
}

const pythonScript = `
import os, select, socket, sys
d = sys.argv[1]
# TCP on loopback, single-threaded.
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(4)
c = socket.create_connection(s.getsockname(), timeout=5)
a, peer = s.accept()
print("peer is loopback", peer[0] == "127.0.0.1")
c.sendall(b"ping" * 1000)
got = b""
while len(got) < 4000:
    got += a.recv(65536)
print("tcp", len(got), got[:8])
a.sendall(b"pong")
print(c.recv(4))
c.shutdown(socket.SHUT_WR)
print("eof", a.recv(10))
r, w, _ = select.select([a], [a], [], 1)
print("select", len(r), len(w))
a.close(); c.close(); s.close()
# UDP.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v.sendto(b"dgram", u.getsockname())
data, addr = u.recvfrom(100)
print("udp", data, addr[1] == v.getsockname()[1])
# AF_UNIX by path and socketpair with fd passing.
p = os.path.join(d, "py.sock")
l = socket.socket(socket.AF_UNIX)
l.bind(p)
l.listen(1)
print("listed", "py.sock" in os.listdir(d))
k = socket.socket(socket.AF_UNIX)
k.connect(p)
m, _ = l.accept()
k.sendall(b"over unix")
print(m.recv(100))
x, y = socket.socketpair()
rfd, wfd = os.pipe()
socket.send_fds(x, [b"fd"], [rfd])
msg, fds, _, _ = socket.recv_fds(y, 10, 1)
os.write(wfd, b"via passed fd")
print(msg, os.read(fds[0], 100))
print("timeout", end=" ")
y.settimeout(0.1)
try:
    y.recv(1)
except socket.timeout:
    print("ok")
os.unlink(p)
`

func TestE2EPython(t *testing.T) {
	bin := e2e.Binary(t)
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	e2e.RunBoth(t, bin, dir, py, "-c", pythonScript, dir)
}

// TestE2ENetlink runs iproute2's and busybox's `ip` in the sandbox: the
// dumps come through NETLINK_ROUTE, changes are refused.
func TestE2ENetlink(t *testing.T) {
	bin := e2e.Binary(t)
	for _, argv := range [][]string{{"ip", "addr"}, {"busybox", "ip", "addr"}} {
		if _, err := exec.LookPath(argv[0]); err != nil {
			t.Logf("%s not installed", argv[0])
			continue
		}
		out, err := exec.Command(bin, append([]string{"do", "--network", "none"}, argv...)...).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("inet 127.0.0.1/8")) || !bytes.Contains(out, []byte("1: lo:")) {
			t.Errorf("%v: %v\n%s", argv, err, out)
		}
	}
	if _, err := exec.LookPath("ip"); err == nil {
		out, err := exec.Command(bin, "do", "--network", "none", "ip", "link", "set", "lo", "down").CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("Operation not permitted")) {
			t.Errorf("ip link set lo down: %v\n%s", err, out)
		}
	}
}
