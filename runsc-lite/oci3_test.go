package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
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

// TestOCISysctlIPC: linux.sysctl's IPC tunables are the sandbox's IPC
// namespace's, as runc sets them in the container's: the guest reads them
// in /proc/sys/kernel (the values the sentry enforces: sentry/ipc's
// TestLimitsEnforced), and root in the guest may change them.
func TestOCISysctlIPC(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmnb /proc/sys/kernel/sem
echo 1024 > /proc/sys/kernel/shmmni && cat /proc/sys/kernel/shmmni`)
	e.spec.Linux.Sysctl = map[string]string{"kernel.shmmax": "1048576", "kernel.msgmnb": "65536", "kernel.sem": "100 10000 50 64"}
	e.writeSpec()
	r := e.cli(nil, "run", "c1")
	want := "1048576\n65536\n100\t10000\t50\t64\n1024\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, want, r.stderr)
	}
	e.assertNothingLeft()
}

// TestOCIUTS: the bundle's hostname and domainname name the sandbox, and
// linux.sysctl's kernel.hostname and kernel.domainname override them, as
// runc writes the sysctls after it sets the names.
func TestOCIUTS(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", "hostname; cat /proc/sys/kernel/domainname")
	for _, tc := range []struct {
		name         string
		host, domain string
		sysctl       map[string]string
		want         string
	}{
		{"spec", "box", "example.org", nil, "box\nexample.org\n"},
		{"none", "", "", nil, "runsc-lite\n(none)\n"}, // the sentry's default name
		{"sysctls win", "box", "example.org", map[string]string{"kernel.hostname": "other", "kernel.domainname": "example.net"}, "other\nexample.net\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.spec.Hostname, e.spec.Domainname, e.spec.Linux.Sysctl = tc.host, tc.domain, tc.sysctl
			e.writeSpec()
			r := e.cli(nil, "run", "c1")
			if r.code != 0 || r.stdout != tc.want {
				t.Errorf("exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, tc.want, r.stderr)
			}
			e.assertNothingLeft()
		})
	}
}

// TestOCIFileBind: a single-file bind mount is the host file, as with
// runc: the container sees it as it is when it reads it (Docker rewrites
// resolv.conf in its prestart hook, between create and start), a write
// reaches the host, and a read-only one refuses writes. Its mount point is
// made where the image has none.
func TestOCIFileBind(t *testing.T) {
	e := newOCIEnv(t, "sh", "-c", `cat /etc/resolv.conf; echo "# from the container" >> /etc/resolv.conf
echo x >> /etc/ro.conf || echo refused; cat /new/dir/ro.conf`)
	dir := t.TempDir()
	rw, ro := filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "ro.conf")
	if err := os.WriteFile(rw, []byte("nameserver 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ro, []byte("read only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.spec.Mounts = append(e.spec.Mounts,
		specs.Mount{Destination: "/etc/resolv.conf", Type: "bind", Source: rw, Options: []string{"rbind", "rprivate"}},
		specs.Mount{Destination: "/etc/ro.conf", Type: "bind", Source: ro, Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/new/dir/ro.conf", Type: "bind", Source: ro, Options: []string{"rbind", "ro"}})
	e.spec.Root.Readonly = true
	e.writeSpec()
	outPath := e.createToFile("c1")
	// After create, as Docker's prestart hook does: in place.
	if err := os.WriteFile(rw, []byte("nameserver 127.0.0.11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustCLI("start", "c1")
	e.waitStatus("c1", "stopped")
	b, _ := os.ReadFile(outPath)
	out := string(b)
	if want := "nameserver 127.0.0.11\nsh: can't create /etc/ro.conf: Read-only file system\nrefused\nread only\n"; out != want {
		t.Errorf("the container printed %q, want %q", out, want)
	}
	if got, _ := os.ReadFile(rw); string(got) != "nameserver 127.0.0.11\n# from the container\n" {
		t.Errorf("the host file after the container wrote to it: %q", got)
	}
	if got, _ := os.ReadFile(ro); string(got) != "read only\n" {
		t.Errorf("the read-only host file changed: %q", got)
	}
	e.mustCLI("delete", "c1")
	e.assertNothingLeft()
}

// createToFile creates container id with its stdout and stderr going to a
// new file, and returns the file's path.
func (e *ociEnv) createToFile(id string) string {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "output")
	out, err := os.Create(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Close()
	create := e.command("create", id)
	create.Stdout, create.Stderr = out, out
	if err := create.Run(); err != nil {
		b, _ := os.ReadFile(path)
		e.t.Fatalf("create %s: %v: %q", id, err, b)
	}
	return path
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
