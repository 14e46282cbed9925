package boot

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/sysfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

// TestListInterfaces compares the rtnetlink listing behind /sys/class/net
// with the standard library's view of the same network namespace.
func TestListInterfaces(t *testing.T) {
	got, err := listInterfaces()
	if err != nil {
		t.Fatal(err)
	}
	want, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listInterfaces: %d interfaces %+v, net.Interfaces: %d %+v", len(got), got, len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.Name || int(g.Index) != w.Index || int(g.MTU) != w.MTU {
			t.Errorf("interface %d: %+v, want %+v", i, g, w)
		}
		// The standard library leaves out all-zero addresses (lo's).
		if len(w.HardwareAddr) > 0 && net.HardwareAddr(g.Address).String() != w.HardwareAddr.String() {
			t.Errorf("%s: address %x, want %s", g.Name, g.Address, w.HardwareAddr)
		}
		if g.Name == "lo" && (g.Type != unix.ARPHRD_LOOPBACK || g.Flags&unix.IFF_LOOPBACK == 0) {
			t.Errorf("lo: type %d flags %#x", g.Type, g.Flags)
		}
	}
}

// TestSysfsMount checks an OCI sysfs mount as Docker asks for it: a
// sysfs, read-only with its flags, showing the sentry's CPUs.
func TestSysfsMount(t *testing.T) {
	s, err := newSandbox(&Config{}, testLog{t}, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	rootFS, err := tmpfs.New(s.vfs, s.mf, tmpfs.Options{RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.setupNamespace(rootFS); err != nil {
		t.Fatal(err)
	}
	m := Mount{Destination: "/sys", Type: "sysfs", ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true}
	if err := s.mountSynthetic(m); err != nil {
		t.Fatal(err)
	}
	var flags uint32
	var found bool
	for _, mnt := range s.vfs.Mounts(s.ns) {
		if mnt.Filesystem().Impl().Name() == "sysfs" {
			flags, found = mnt.Flags(), true
		}
	}
	if want := uint32(vfs.MountReadOnly | vfs.MountNoSuid | vfs.MountNoDev | vfs.MountNoExec); !found || flags != want {
		t.Errorf("sysfs mount: found %v, flags %#x, want %#x", found, flags, want)
	}
	ctx := rootCtx()
	root := s.ns.Root()
	f, err := s.vfs.OpenAt(ctx, root, root, "/sys/devices/system/cpu/online", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	b := make([]byte, 64)
	n, err := f.Read(ctx, b)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	want := "0\n"
	if runtime.NumCPU() > 1 {
		want = fmt.Sprintf("0-%d\n", runtime.NumCPU()-1)
	}
	if string(b[:n]) != want {
		t.Errorf("online = %q, want %q", b[:n], want)
	}
	st, err := s.vfs.StatFS(ctx, root, root, "/sys")
	if err != nil || st.Type != sysfs.Magic {
		t.Errorf("statfs /sys: type %#x, %v", st.Type, err)
	}
	if _, err := s.vfs.OpenAt(ctx, root, root, "/sys/devices/system/cpu/online", unix.O_WRONLY, 0); err != unix.EROFS {
		t.Errorf("write open: %v, want EROFS", err)
	}
	f2, err := s.vfs.OpenAt(ctx, root, root, "/sys/class/net", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.DecRef(ctx)
	var names []string
	f2.IterDirents(ctx, func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	})
	if !slices.Contains(names, "lo") {
		t.Errorf("/sys/class/net: %q, want lo among them", names)
	}
}
