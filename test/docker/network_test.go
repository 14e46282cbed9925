package docker

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNetworkNone(t *testing.T) {
	got := docker(t, rrun("--network", "none", image, "ip", "-o", "link")...)
	if !strings.Contains(got, ": lo:") || strings.Contains(got, "eth0") {
		t.Errorf("--network none: links %q, want only lo", got)
	}
}

func TestMemoryLimit(t *testing.T) {
	_, _, err := eng.Run(rrun("--memory", "64m", "--memory-swap", "64m", image, "sh", "-c", "dd if=/dev/zero of=/tmp/big bs=1M count=256 2>/dev/null; echo survived")...)
	if code := exitCode(err); code != 137 {
		t.Errorf("a guest filling 256 MiB under --memory 64m: exit %d, want 137 (killed)", code)
	}
}

func TestPidsLimit(t *testing.T) {
	start := time.Now()
	_, stderr, err := eng.Run(rrun("--pids-limit", "64", image, "sh", "-c", "i=0; while [ $i -lt 300 ]; do sleep 30 & i=$((i+1)); done; echo all forked")...)
	if exitCode(err) == 0 || !strings.Contains(stderr, "fork") {
		t.Errorf("300 children under --pids-limit 64: exit %d, stderr %q; want fork to fail", exitCode(err), stderr)
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("the fork bomb took %v to be stopped", d)
	}
	// The host is fine: the engine still answers.
	docker(t, "version")
}

// freePort returns a TCP port of the host's loopback that nothing listens
// on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// httpGet fetches url, polling for up to 30 s while the server starts.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("status %s, %v", resp.Status, err)
			continue
		}
		return string(b)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// TestPublishedPort serves a file from busybox httpd on port 80 in the
// sandbox (a port below 1024: Docker's ip_unprivileged_port_start sysctl
// reaches the sandbox's network namespace) on the default bridge, and
// fetches it from the host through the published port.
func TestPublishedPort(t *testing.T) {
	port := freePort(t)
	id := startDetached(t, "-p", fmt.Sprintf("127.0.0.1:%d:80", port), image, "httpd", "-f", "-p", "80", "-h", "/www")
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/index.html", port)); got != "hello from runsc-lite\n" {
		t.Errorf("GET through -p %d:80: %q", port, got)
	}
	// The container has the bridge's address, not only loopback.
	ip := eng.Inspect(id, "{{.NetworkSettings.IPAddress}}")
	if got := docker(t, "exec", id, "ip", "-o", "-4", "addr", "show", "eth0"); ip == "" || !strings.Contains(got, " "+ip+"/") {
		t.Errorf("eth0 in the sandbox: %q, want docker's address %q", got, ip)
	}
	if got := httpGet(t, "http://"+ip+"/index.html"); got != "hello from runsc-lite\n" {
		t.Errorf("GET from the host at the container's address %s: %q", ip, got)
	}
}

// TestUserDefinedNetwork runs two containers on a network of their own:
// the client finds the server by name through Docker's embedded DNS
// (127.0.0.11, which Docker writes into resolv.conf in its prestart hook)
// and fetches a file from it.
func TestUserDefinedNetwork(t *testing.T) {
	netName := fmt.Sprintf("rl-net-%d", time.Now().UnixNano()%1000000)
	docker(t, "network", "create", netName)
	t.Cleanup(func() { eng.Run("network", "rm", netName) })
	srv := startDetached(t, "--network", netName, "--name", netName+"-srv", image, "httpd", "-f", "-p", "80", "-h", "/www")
	srvIP := eng.Inspect(srv, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
	// busybox's static wget cannot resolve names itself (static glibc's
	// NSS crashes, with runc too), so nslookup asks the embedded DNS.
	script := `grep nameserver /etc/resolv.conf
for i in $(seq 50); do
	ip=$(nslookup "$1" 2>/dev/null | sed -n '/^Name:/,$p' | awk '/^Address/ {print $2; exit}')
	[ -n "$ip" ] && wget -q -O - "http://$ip/index.html" 2>/dev/null && echo "$ip" && exit 0
	sleep 0.2
done
exit 1`
	out, stderr, err := eng.Run(rrun("--network", netName, image, "sh", "-c", script, "sh", netName+"-srv")...)
	if err != nil {
		t.Fatalf("client: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	want := "nameserver 127.0.0.11\nhello from runsc-lite\n" + srvIP + "\n"
	if out != want {
		t.Errorf("client got %q, want %q", out, want)
	}
}
