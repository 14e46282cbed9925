package sysfs

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/tmpfs"
)

var (
	rootCtx = vfs.NewContext(vfs.RootCredentials())
	userCtx = vfs.NewContext(vfs.UserCredentials(1000, 1000))
)

// fakeNet is a network namespace whose interfaces a test changes.
type fakeNet struct {
	mu  sync.Mutex
	ifs []Interface
	err error
}

func (n *fakeNet) list() ([]Interface, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.ifs), n.err
}

func (n *fakeNet) set(ifs []Interface, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ifs, n.err = ifs, err
}

var (
	lo = Interface{Name: "lo", Index: 1, Link: 1, Type: unix.ARPHRD_LOOPBACK, Flags: unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING,
		MTU: 65536, TxQueueLen: 1000, OperState: 0, Address: make([]byte, 6), Broadcast: make([]byte, 6)}
	eth0 = Interface{Name: "eth0", Index: 7, Link: 8, Type: unix.ARPHRD_ETHER, Flags: 0x11043, MTU: 1500, OperState: 6,
		Address: []byte{0x02, 0x42, 0xac, 0x11, 0, 2}, Broadcast: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
)

type env struct {
	v    *vfs.VFS
	root vfs.Location
	net  *fakeNet
}

// newEnv mounts a sysfs with opts at /sys (with the mount flags given) of
// a tmpfs root; its interfaces are those of e.net (lo to start with).
func newEnv(t *testing.T, opts Options, flags uint32) *env {
	t.Helper()
	mf, err := memfile.New("sysfs-test", 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	rootFS, err := tmpfs.New(v, mf, tmpfs.Options{RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	root := v.NewMountNamespace(rootFS, 0).Root()
	if err := v.Mkdir(rootCtx, root, root, "/sys", 0o555); err != nil {
		t.Fatal(err)
	}
	e := &env{v: v, root: root, net: &fakeNet{ifs: []Interface{lo}}}
	if opts.Interfaces == nil {
		opts.Interfaces = e.net.list
	}
	if _, err := v.Mount(rootCtx, root, root, "/sys", New(v, opts), flags); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) open(ctx vfs.Context, p string, flags uint32) (*vfs.File, error) {
	return e.v.OpenAt(ctx, e.root, e.root, p, flags, 0)
}

func (e *env) read(t *testing.T, p string) string {
	t.Helper()
	f, err := e.open(rootCtx, p, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer f.DecRef(rootCtx)
	var out []byte
	buf := make([]byte, 7) // small reads: the text is read in pieces
	for {
		n, err := f.Read(rootCtx, buf)
		out = append(out, buf[:n]...)
		if n == 0 || err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
	}
	return string(out)
}

func (e *env) list(t *testing.T, p string) []string {
	t.Helper()
	f, err := e.open(rootCtx, p, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer f.DecRef(rootCtx)
	var names []string
	if err := f.IterDirents(rootCtx, func(d vfs.Dirent) bool {
		if d.Name != "." && d.Name != ".." {
			names = append(names, d.Name)
		}
		return true
	}); err != nil {
		t.Fatalf("getdents %s: %v", p, err)
	}
	return names
}

func TestFiles(t *testing.T) {
	e := newEnv(t, Options{CPUs: 2, MemTotal: 1 << 30, MemUsed: func() uint64 { return 256 << 20 }}, vfs.MountReadOnly)
	for _, tc := range []struct{ path, want string }{
		{"/sys/devices/system/cpu/online", "0-1\n"},
		{"/sys/devices/system/cpu/possible", "0-1\n"},
		{"/sys/devices/system/cpu/present", "0-1\n"},
		{"/sys/devices/system/cpu/offline", "\n"},
		{"/sys/devices/system/cpu/isolated", "\n"},
		{"/sys/devices/system/cpu/kernel_max", "8191\n"},
		{"/sys/devices/system/cpu/cpu1/online", "1\n"},
		{"/sys/devices/system/cpu/cpu0/topology/core_id", "0\n"},
		{"/sys/devices/system/cpu/cpu1/topology/core_id", "1\n"},
		{"/sys/devices/system/cpu/cpu1/topology/physical_package_id", "0\n"},
		{"/sys/devices/system/cpu/cpu0/topology/thread_siblings", "1\n"},
		{"/sys/devices/system/cpu/cpu1/topology/thread_siblings", "2\n"},
		{"/sys/devices/system/cpu/cpu1/topology/thread_siblings_list", "1\n"},
		{"/sys/devices/system/cpu/cpu1/topology/core_siblings", "3\n"},
		{"/sys/devices/system/cpu/cpu1/topology/core_siblings_list", "0-1\n"},
		{"/sys/devices/system/cpu/cpu0/topology/package_cpus_list", "0-1\n"},
		{"/sys/devices/system/node/online", "0\n"},
		{"/sys/devices/system/node/possible", "0\n"},
		{"/sys/devices/system/node/node0/cpulist", "0-1\n"},
		{"/sys/devices/system/node/node0/cpumap", "3\n"},
		{"/sys/devices/system/node/node0/distance", "10\n"},
		{"/sys/devices/system/node/node0/meminfo", "Node 0 MemTotal:        1048576 kB\nNode 0 MemFree:          786432 kB\n" +
			"Node 0 MemUsed:          262144 kB\nNode 0 HugePages_Total:     0\nNode 0 HugePages_Free:      0\nNode 0 HugePages_Surp:      0\n"},
		{"/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n"},
		{"/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152\n"},
		{"/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0\n"},
		{"/sys/class/net/lo/ifindex", "1\n"},
		{"/sys/class/net/lo/mtu", "65536\n"},
		{"/sys/class/net/lo/flags", "0x9\n"},
		{"/sys/class/net/lo/type", "772\n"},
		{"/sys/class/net/lo/address", "00:00:00:00:00:00\n"},
		{"/sys/class/net/lo/addr_len", "6\n"},
		{"/sys/class/net/lo/operstate", "unknown\n"},
		{"/sys/class/net/lo/tx_queue_len", "1000\n"},
		{"/sys/class/net/lo/uevent", "INTERFACE=lo\nIFINDEX=1\n"},
	} {
		if got := e.read(t, tc.path); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.path, got, tc.want)
		}
	}
	// x86's boot CPU has no online file.
	_, err := e.v.Stat(rootCtx, e.root, e.root, "/sys/devices/system/cpu/cpu0/online", 0)
	if runtime.GOARCH == "amd64" && err != unix.ENOENT {
		t.Errorf("stat cpu0/online: %v, want ENOENT", err)
	}
}

func TestDirectories(t *testing.T) {
	e := newEnv(t, Options{CPUs: 3}, vfs.MountReadOnly)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/sys", []string{"block", "bus", "class", "dev", "devices", "firmware", "fs", "kernel", "module", "power"}},
		{"/sys/fs", []string{"cgroup"}},
		{"/sys/fs/cgroup", nil},
		{"/sys/block", nil},
		{"/sys/class", []string{"net"}},
		{"/sys/class/net", []string{"lo"}},
		{"/sys/devices/system/cpu", []string{"cpu0", "cpu1", "cpu2", "isolated", "kernel_max", "offline", "online", "possible", "present"}},
		{"/sys/devices/system/node", []string{"has_cpu", "has_memory", "has_normal_memory", "node0", "online", "possible"}},
		{"/sys/devices/system/cpu/cpu2/topology", []string{"core_cpus", "core_cpus_list", "core_id", "core_siblings",
			"core_siblings_list", "die_cpus", "die_cpus_list", "die_id", "package_cpus", "package_cpus_list",
			"physical_package_id", "thread_siblings", "thread_siblings_list"}},
	} {
		if got := e.list(t, tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("ls %s = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestStat(t *testing.T) {
	e := newEnv(t, Options{CPUs: 2}, vfs.MountReadOnly)
	for _, tc := range []struct {
		path  string
		mode  uint32
		size  uint64
		nlink uint32
	}{
		{"/sys", unix.S_IFDIR | 0o555, 0, 12},
		{"/sys/devices/system/cpu", unix.S_IFDIR | 0o755, 0, 4},
		{"/sys/fs/cgroup", unix.S_IFDIR | 0o555, 0, 2},
		{"/sys/devices/system/cpu/online", unix.S_IFREG | 0o444, 4096, 1},
		{"/sys/devices/system/cpu/cpu1/online", unix.S_IFREG | 0o644, 4096, 1},
		{"/sys/class/net/lo", unix.S_IFLNK | 0o777, 0, 1},
	} {
		st, err := e.v.Stat(rootCtx, e.root, e.root, tc.path, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			t.Errorf("stat %s: %v", tc.path, err)
			continue
		}
		if uint32(st.Mode) != tc.mode || st.Size != tc.size || st.Nlink != tc.nlink || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("stat %s: mode %#o size %d nlink %d uid %d gid %d, want mode %#o size %d nlink %d, root's",
				tc.path, st.Mode, st.Size, st.Nlink, st.Uid, st.Gid, tc.mode, tc.size, tc.nlink)
		}
	}
	target, err := e.v.Readlink(rootCtx, e.root, e.root, "/sys/class/net/lo")
	if err != nil || target != "../../devices/virtual/net/lo" {
		t.Errorf("readlink /sys/class/net/lo = %q, %v", target, err)
	}
	// Inode numbers agree between getdents and stat.
	f, err := e.open(rootCtx, "/sys/devices/system/cpu", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(rootCtx)
	f.IterDirents(rootCtx, func(d vfs.Dirent) bool {
		if d.Name == "." || d.Name == ".." {
			return true
		}
		st, err := e.v.Stat(rootCtx, e.root, e.root, "/sys/devices/system/cpu/"+d.Name, 0)
		if err != nil || st.Ino != d.Ino {
			t.Errorf("%s: getdents ino %d, stat ino %d (%v)", d.Name, d.Ino, st.Ino, err)
		}
		return true
	})
	sfs, err := e.v.StatFS(rootCtx, e.root, e.root, "/sys/kernel")
	if err != nil || sfs.Type != Magic || sfs.Bsize != 4096 || sfs.Namelen != 255 {
		t.Errorf("statfs: %+v, %v", sfs, err)
	}
}

func TestSeek(t *testing.T) {
	e := newEnv(t, Options{CPUs: 2}, vfs.MountReadOnly)
	for _, tc := range []struct {
		path   string
		off    int64
		whence int
		want   int64
		err    error
	}{
		{"/sys/devices/system/cpu/online", 0, unix.SEEK_END, 4096, nil},
		{"/sys/devices/system/cpu/online", -1, unix.SEEK_END, 4095, nil},
		{"/sys/devices/system/cpu/online", 0, unix.SEEK_HOLE, 4096, nil},
		{"/sys/devices/system/cpu/online", 5000, unix.SEEK_DATA, 0, unix.ENXIO},
		{"/sys/devices/system/cpu/online", 5000, unix.SEEK_SET, 5000, nil},
		{"/sys/devices/system/cpu", 0, unix.SEEK_END, 0, nil},
		{"/sys/devices/system/cpu", 0, unix.SEEK_DATA, 0, unix.ENXIO},
	} {
		f, err := e.open(rootCtx, tc.path, unix.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Seek(rootCtx, tc.off, tc.whence)
		f.DecRef(rootCtx)
		if got != tc.want || err != tc.err {
			t.Errorf("lseek(%s, %d, %d) = %d, %v; want %d, %v", tc.path, tc.off, tc.whence, got, err, tc.want, tc.err)
		}
	}
	// Reads past the text find nothing.
	f, err := e.open(rootCtx, "/sys/devices/system/cpu/online", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(rootCtx)
	if n, err := f.PRead(rootCtx, make([]byte, 8), 10); n != 0 || err != nil {
		t.Errorf("pread at 10: %d, %v", n, err)
	}
}

// TestWrites checks the errors of changes: EROFS on a read-only mount
// (Docker's), and as Linux's sysfs does on a read-write one.
func TestWrites(t *testing.T) {
	ro := newEnv(t, Options{CPUs: 2, ReadOnly: true}, vfs.MountReadOnly)
	rw := newEnv(t, Options{CPUs: 2}, 0)
	const online = "/sys/devices/system/cpu/online"
	const cpu1 = "/sys/devices/system/cpu/cpu1/online"
	for _, tc := range []struct {
		name string
		e    *env
		ctx  vfs.Context
		op   func(e *env, ctx vfs.Context) error
		want error
	}{
		{"ro: write open of a 0444 file by root", ro, rootCtx, openFor(online, unix.O_WRONLY), unix.EROFS},
		{"ro: write open of a 0444 file by a user", ro, userCtx, openFor(online, unix.O_WRONLY), unix.EROFS},
		{"ro: access(W_OK) by a user", ro, userCtx, func(e *env, ctx vfs.Context) error {
			return e.v.Access(ctx, e.root, e.root, online, unix.W_OK, 0)
		}, unix.EROFS},
		{"ro: mkdir by a user", ro, userCtx, mkdir("/sys/kernel/x"), unix.EROFS},
		{"ro: create by a user", ro, userCtx, openFor("/sys/kernel/x", unix.O_WRONLY|unix.O_CREAT), unix.EROFS},
		{"ro: mkdir in /sys/fs/cgroup", ro, rootCtx, mkdir("/sys/fs/cgroup/x"), unix.ENOENT},
		{"ro: write open of a 0644 file by root", ro, rootCtx, openFor(cpu1, unix.O_RDWR), unix.EROFS},
		{"ro: mkdir", ro, rootCtx, mkdir("/sys/kernel/x"), unix.EROFS},
		{"ro: create", ro, rootCtx, openFor("/sys/kernel/x", unix.O_WRONLY|unix.O_CREAT), unix.EROFS},
		{"rw: write open of a 0444 file by root", rw, rootCtx, openFor(online, unix.O_WRONLY), unix.EACCES},
		{"rw: write open of a 0444 file by a user", rw, userCtx, openFor(online, unix.O_WRONLY), unix.EACCES},
		{"rw: write open of a 0644 file by a user", rw, userCtx, openFor(cpu1, unix.O_WRONLY), unix.EACCES},
		{"rw: write of a 0644 file by root", rw, rootCtx, writeTo(cpu1, "0\n"), unix.EPERM},
		{"rw: write of an interface's mtu", rw, rootCtx, writeTo("/sys/class/net/lo/mtu", "1500\n"), unix.EPERM},
		{"rw: mkdir", rw, rootCtx, mkdir("/sys/kernel/x"), unix.EPERM},
		{"rw: mkdir in /sys/fs/cgroup", rw, rootCtx, mkdir("/sys/fs/cgroup/x"), unix.ENOENT},
		{"rw: mkdir by a user", rw, userCtx, mkdir("/sys/kernel/x"), unix.EACCES},
		{"rw: create", rw, rootCtx, openFor("/sys/kernel/x", unix.O_WRONLY|unix.O_CREAT), unix.EACCES},
		{"rw: unlink", rw, rootCtx, func(e *env, ctx vfs.Context) error {
			return e.v.Unlink(ctx, e.root, e.root, online)
		}, unix.EPERM},
		{"rw: chmod", rw, rootCtx, func(e *env, ctx vfs.Context) error {
			return e.v.SetStat(ctx, e.root, e.root, online, 0, &vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o666})
		}, unix.EPERM},
	} {
		if err := tc.op(tc.e, tc.ctx); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func openFor(p string, flags uint32) func(*env, vfs.Context) error {
	return func(e *env, ctx vfs.Context) error {
		f, err := e.v.OpenAt(ctx, e.root, e.root, p, flags, 0o644)
		if err == nil {
			f.DecRef(ctx)
		}
		return err
	}
}

func mkdir(p string) func(*env, vfs.Context) error {
	return func(e *env, ctx vfs.Context) error { return e.v.Mkdir(ctx, e.root, e.root, p, 0o755) }
}

func writeTo(p, s string) func(*env, vfs.Context) error {
	return func(e *env, ctx vfs.Context) error {
		f, err := e.v.OpenAt(ctx, e.root, e.root, p, unix.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.DecRef(ctx)
		_, err = f.Write(ctx, []byte(s))
		return err
	}
}

// TestInterfaces checks that /sys/class/net follows the network namespace:
// interfaces that appear after the mount show, those that go vanish.
func TestInterfaces(t *testing.T) {
	e := newEnv(t, Options{CPUs: 1}, vfs.MountReadOnly)
	e.net.set([]Interface{lo, eth0}, nil)
	if got := e.list(t, "/sys/class/net"); !slices.Equal(got, []string{"lo", "eth0"}) {
		t.Errorf("ls /sys/class/net = %q", got)
	}
	if got := e.list(t, "/sys/devices/virtual/net"); !slices.Equal(got, []string{"lo", "eth0"}) {
		t.Errorf("ls /sys/devices/virtual/net = %q", got)
	}
	for p, want := range map[string]string{
		"/sys/class/net/eth0/address":   "02:42:ac:11:00:02\n",
		"/sys/class/net/eth0/broadcast": "ff:ff:ff:ff:ff:ff\n",
		"/sys/class/net/eth0/iflink":    "8\n",
		"/sys/class/net/eth0/operstate": "up\n",
		"/sys/class/net/eth0/flags":     "0x1003\n",
		"/sys/class/net/eth0/type":      "1\n",
	} {
		if got := e.read(t, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	mtu, err := e.open(rootCtx, "/sys/class/net/eth0/mtu", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mtu.DecRef(rootCtx)
	e.net.set([]Interface{lo}, nil)
	if _, err := e.v.Stat(rootCtx, e.root, e.root, "/sys/class/net/eth0", 0); err != unix.ENOENT {
		t.Errorf("stat of a removed interface: %v, want ENOENT", err)
	}
	if _, err := mtu.PRead(rootCtx, make([]byte, 16), 0); err != unix.ENODEV {
		t.Errorf("read of a removed interface's attribute: %v, want ENODEV", err)
	}
	e.net.set(nil, unix.EMFILE)
	if _, err := e.open(rootCtx, "/sys/class/net/lo/mtu", unix.O_RDONLY); err != unix.EMFILE {
		t.Errorf("open when the interfaces cannot be listed: %v, want EMFILE", err)
	}
}

// TestManyCPUs checks the bitmaps of more than 64 CPUs.
func TestManyCPUs(t *testing.T) {
	e := newEnv(t, Options{CPUs: 70}, vfs.MountReadOnly)
	for p, want := range map[string]string{
		"/sys/devices/system/cpu/online":                              "0-69\n",
		"/sys/devices/system/node/node0/cpumap":                       "3f,ffffffff,ffffffff\n",
		"/sys/devices/system/cpu/cpu69/topology/thread_siblings":      "20,00000000,00000000\n",
		"/sys/devices/system/cpu/cpu33/topology/thread_siblings_list": "33\n",
	} {
		if got := e.read(t, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
}

func TestFormatList(t *testing.T) {
	for _, tc := range []struct {
		ids  []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 1, 2, 5, 7, 8}, "0-2,5,7-8"},
		{[]int{3}, "3"},
	} {
		if got := formatList(tc.ids); got != tc.want {
			t.Errorf("formatList(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}

func TestFormatMask(t *testing.T) {
	for _, tc := range []struct {
		ids   []int
		nbits int
		want  string
	}{
		{[]int{0, 1}, 2, "3"},
		{[]int{1}, 2, "2"},
		{[]int{0}, 8, "01"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7}, 8, "ff"},
		{[]int{4}, 12, "010"},
		{[]int{31}, 32, "80000000"},
		{[]int{0, 32}, 33, "1,00000001"},
		{[]int{39}, 40, "80,00000000"},
		{[]int{0}, 64, "00000000,00000001"},
	} {
		if got := formatMask(tc.ids, tc.nbits); got != tc.want {
			t.Errorf("formatMask(%v, %d) = %q, want %q", tc.ids, tc.nbits, got, tc.want)
		}
	}
}
