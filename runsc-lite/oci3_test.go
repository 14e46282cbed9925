package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestOCISysctlPrivilegedPort: linux.sysctl's net.* entries are set in
// the sandbox's network namespace, as runc sets them in the container's.
// Docker passes net.ipv4.ip_unprivileged_port_start=0, so that a web
// server binds port 80 whoever it runs as; without it only a holder of
// CAP_NET_BIND_SERVICE may (root by default).
func TestOCISysctlPrivilegedPort(t *testing.T) {
	// busybox httpd binds before it daemonizes: it exits 0 only once the
	// port is its own.
	e := newOCIEnv(t, "sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; httpd -p 80 -h / 2>&1 && echo bound")
	for _, tc := range []struct {
		name   string
		uid    uint32
		sysctl map[string]string
		want   string
	}{
		{"nobody with docker's sysctl", 65534, map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"}, "0\nbound\n"},
		{"nobody", 65534, nil, "1024\nhttpd: bind: Permission denied\n"},
		{"root", 0, nil, "1024\nbound\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.spec.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			e.spec.Linux.Sysctl = tc.sysctl
			e.writeSpec()
			r := e.cli(nil, "run", "c1")
			if r.stdout != tc.want {
				t.Errorf("exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, tc.want, r.stderr)
			}
			e.assertNothingLeft()
		})
	}
}

// TestOCIFileBindAtStart: a single-file bind mount shows the file as it
// is at start, not at create: Docker's prestart hook rewrites resolv.conf
// (its embedded DNS server) between the two.
func TestOCIFileBindAtStart(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", "cat /etc/resolv.conf > /out/resolv.conf")
	outDir := e.bindDir("/out", false)
	src := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(src, []byte("nameserver 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{Destination: "/etc/resolv.conf", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
	e.spec.Root.Readonly = true
	e.writeSpec()
	e.mustCLI("create", "c1")
	if err := os.WriteFile(src, []byte("nameserver 127.0.0.11\noptions ndots:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustCLI("start", "c1")
	e.waitStatus("c1", "stopped")
	if got, _ := os.ReadFile(filepath.Join(outDir, "resolv.conf")); string(got) != "nameserver 127.0.0.11\noptions ndots:0\n" {
		t.Errorf("the container read %q, want the file as it was at start", got)
	}
	e.mustCLI("delete", "c1")
	// A source gone by start fails the start, which can be tried again.
	e.mustCLI("create", "c2")
	os.Rename(src, src+".away")
	if r := e.cli(nil, "start", "c2"); r.code == 0 || !strings.Contains(r.stderr, "/etc/resolv.conf") {
		t.Errorf("start with the bind source gone: exit %d, stderr %q", r.code, r.stderr)
	}
	if st := e.state("c2"); st.Status != "created" {
		t.Errorf("after a failed start: %s, want created", st.Status)
	}
	os.Rename(src+".away", src)
	e.mustCLI("start", "c2")
	e.waitStatus("c2", "stopped")
	e.mustCLI("delete", "c2")
	e.assertNothingLeft()
}

// TestOCISysfs: Docker's /sys (a read-only sysfs, and a cgroup mount on
// /sys/fs/cgroup, which the sandbox does not make) is the sandbox's own
// sysfs, whose /sys/class/net shows the interfaces of the container's
// network namespace, including one moved there after create, as Docker
// moves a container's veth.
func TestOCISysfs(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	e := newOCIEnv(t, "sh", "-c", `{ grep ' /sys ' /proc/mounts; cat /sys/devices/system/cpu/online
ls /sys/class/net | tr '\n' ' '; echo; cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address
[ -d /sys/fs/cgroup ] && echo cgroup-dir; cat /sys/fs/cgroup/cg; echo 0 > /sys/devices/system/cpu/online
} > /out/sys 2>&1`)
	outDir := e.bindDir("/out", false)
	e.spec.Mounts = append(e.spec.Mounts,
		specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}})
	// A volume below /sys (as `docker run -v /sys/fs/cgroup:/sys/fs/cgroup`
	// for systemd) is mounted on the sysfs, not hidden by it.
	cg := e.bindDir("/sys/fs/cgroup", true)
	if err := os.WriteFile(filepath.Join(cg, "cg"), []byte("bound\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.writeSpec()
	e.mustCLI("create", "c1")
	pid := e.state("c1").Pid
	host := fmt.Sprintf("sysfs%d", os.Getpid()%1000000)
	mac := "02:42:ac:11:00:02"
	if out, err := exec.Command("ip", "link", "add", host, "type", "veth", "peer", "name", "eth0",
		"mtu", "1400", "address", mac, "netns", strconv.Itoa(pid)).CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v: %s", err, out)
	}
	defer exec.Command("ip", "link", "del", host).Run()
	e.mustCLI("start", "c1")
	e.waitStatus("c1", "stopped")
	cpus := "0"
	if n := runtime.NumCPU(); n > 1 {
		cpus = fmt.Sprintf("0-%d", n-1)
	}
	want := "sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0\n" + cpus + "\neth0 lo \n1400\n" + mac + "\ncgroup-dir\nbound\n" +
		"sh: can't create /sys/devices/system/cpu/online: Read-only file system\n"
	if got, _ := os.ReadFile(filepath.Join(outDir, "sys")); string(got) != want {
		t.Errorf("the container wrote %q, want %q", got, want)
	}
	e.mustCLI("delete", "c1")
	e.assertNothingLeft()
}
