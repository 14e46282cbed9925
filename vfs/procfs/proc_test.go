package procfs

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

func (h *harness) readlink(task *kernel.Task, path string) (string, error) {
	return h.v.Readlink(task.VFSContext(), h.root, h.root, path)
}

func (h *harness) stat(task *kernel.Task, path string, flags int) (vfs.Statx, error) {
	return h.v.Stat(task.VFSContext(), h.root, h.root, path, flags)
}

// fork makes a child process of parent and returns it.
func (h *harness) clone(parent *kernel.Task, flags uint64) *kernel.Task {
	h.t.Helper()
	var tid int32
	var err error
	h.do(parent, func(t *kernel.Task) { tid, err = t.Clone(kernel.CloneArgs{Flags: flags}) })
	if err != nil {
		h.t.Fatalf("clone: %v", err)
	}
	c := h.k.TaskByTID(tid)
	if c == nil {
		h.t.Fatalf("no task %d", tid)
	}
	return c
}

func statFields(t *testing.T, s string) []string {
	t.Helper()
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		t.Fatalf("stat %q", s)
	}
	f := append([]string{s[:strings.IndexByte(s, ' ')], s[strings.IndexByte(s, '(') : i+1]},
		strings.Fields(s[i+1:])...)
	if len(f) != 52 {
		t.Fatalf("%d stat fields: %q", len(f), s)
	}
	return f
}

func TestRootListingAndSelf(t *testing.T) {
	h := newHarness(t)
	names := h.readdir(h.init, "/proc")
	for _, w := range []string{".", "..", "self", "thread-self", "cpuinfo", "meminfo", "stat", "uptime", "loadavg",
		"version", "filesystems", "mounts", "sys", "1"} {
		if !slices.Contains(names, w) {
			t.Errorf("/proc lacks %q: %v", w, names)
		}
	}
	if l, err := h.readlink(h.init, "/proc/self"); err != nil || l != "1" {
		t.Errorf("readlink self = %q, %v", l, err)
	}
	if l, err := h.readlink(h.init, "/proc/thread-self"); err != nil || l != "1/task/1" {
		t.Errorf("readlink thread-self = %q, %v", l, err)
	}
	if l, err := h.readlink(h.init, "/proc/mounts"); err != nil || l != "self/mounts" {
		t.Errorf("readlink mounts = %q, %v", l, err)
	}
	// Kernel-internal contexts have no self.
	if _, err := h.v.Stat(vfs.NewContext(vfs.RootCredentials()), h.root, h.root, "/proc/self/status", 0); err != unix.ENOENT {
		t.Errorf("stat self without a task: %v", err)
	}
	// access(2) wraps the context; self still resolves.
	if err := h.v.Access(h.init.VFSContext(), h.root, h.root, "/proc/self/status", unix.R_OK, 0); err != nil {
		t.Errorf("access self/status: %v", err)
	}
	st, err := h.stat(h.init, "/proc/self/fd", 0)
	if err != nil || st.Mode != unix.S_IFDIR|0o500 {
		t.Errorf("fd dir mode %o, %v", st.Mode, err)
	}
	st, err = h.stat(h.init, "/proc/1/status", 0)
	if err != nil || st.Mode != unix.S_IFREG|0o444 || st.Size != 0 {
		t.Errorf("status mode %o size %d, %v", st.Mode, st.Size, err)
	}
	st2, _ := h.stat(h.init, "/proc/self/status", 0)
	if st2.Ino != st.Ino {
		t.Errorf("inode numbers differ: %d %d", st.Ino, st2.Ino)
	}
	for _, p := range []string{"/proc/0", "/proc/01", "/proc/999", "/proc/self/nonexistent"} {
		if _, err := h.stat(h.init, p, 0); err != unix.ENOENT {
			t.Errorf("stat %s: %v", p, err)
		}
	}
	var fs vfs.Statfs
	if fs, err = h.v.StatFS(h.init.VFSContext(), h.root, h.root, "/proc/self"); err != nil || fs.Type != Magic {
		t.Errorf("statfs %x, %v", fs.Type, err)
	}
	// No creating files in /proc.
	if _, err := h.v.OpenAt(h.init.VFSContext(), h.root, h.root, "/proc/newfile", unix.O_CREAT|unix.O_WRONLY, 0o644); err == nil {
		t.Errorf("created a file in /proc")
	}
	if err := h.v.Mkdir(h.init.VFSContext(), h.root, h.root, "/proc/newdir", 0o755); err == nil {
		t.Errorf("mkdir in /proc")
	}
}

func TestPIDFiles(t *testing.T) {
	h := newHarness(t)
	stat := h.read(h.init, "/proc/self/stat")
	f := statFields(t, stat)
	for n, v := range map[int]string{1: "1", 2: "(prog)", 3: "R", 4: "0", 5: "1", 6: "1", 20: "1", 38: "17"} {
		if f[n-1] != v {
			t.Errorf("stat field %d = %q, want %q: %s", n, f[n-1], v, stat)
		}
	}
	if vsize, _ := strconv.Atoi(f[22]); vsize != 0x2000+0x1000+0x3000+0x10000 {
		t.Errorf("vsize %d", vsize)
	}
	if f[25] != "4194304" || f[26] != "4202496" {
		t.Errorf("start/end code %s %s", f[25], f[26])
	}
	m := h.init.MM()
	if f[47] != strconv.FormatUint(m.ArgStart, 10) || f[50] != strconv.FormatUint(m.EnvEnd, 10) {
		t.Errorf("arg/env bounds %v", f[47:51])
	}

	if got := h.read(h.init, "/proc/1/cmdline"); got != "prog\x00-v\x00hello world\x00" {
		t.Errorf("cmdline %q", got)
	}
	if got := h.read(h.init, "/proc/1/environ"); got != "HOME=/root\x00PATH=/bin\x00" {
		t.Errorf("environ %q", got)
	}
	if got := h.read(h.init, "/proc/1/comm"); got != "prog\n" {
		t.Errorf("comm %q", got)
	}
	if got := h.read(h.init, "/proc/1/auxv"); len(got) != 32 || got[0] != 6 {
		t.Errorf("auxv %q", got)
	}
	maps := h.read(h.init, "/proc/self/maps")
	want := "00400000-00402000 r-xp 00000000 00:2a 1234                               /bin/prog\n" +
		"00402000-00403000 rw-p 00002000 00:2a 1234                               /bin/prog\n" +
		"00600000-00603000 rw-p 00000000 00:00 0                                  [heap]\n" +
		"7ffff0000000-7ffff0010000 rw-p 00000000 00:00 0                          [stack]\n"
	if maps != want {
		t.Errorf("maps:\n%s\nwant:\n%s", maps, want)
	}
	smaps := h.read(h.init, "/proc/self/smaps")
	if !strings.Contains(smaps, "[stack]\nSize:                 64 kB\n") || !strings.Contains(smaps, "Rss:                   4 kB\n") {
		t.Errorf("smaps:\n%s", smaps)
	}
	status := h.read(h.init, "/proc/self/status")
	for _, w := range []string{"Name:\tprog\n", "State:\tR (running)\n", "Tgid:\t1\n", "PPid:\t0\n", "VmExe:\t       8 kB\n",
		"VmStk:\t      64 kB\n", "Threads:\t1\n", "CapEff:\t000001ffffffffff\n"} {
		if !strings.Contains(status, w) {
			t.Errorf("status lacks %q:\n%s", w, status)
		}
	}
	if got := h.read(h.init, "/proc/self/statm"); got != "22 1 0 2 0 20 0\n" {
		t.Errorf("statm %q", got)
	}
	if got := h.read(h.init, "/proc/self/cgroup"); got != "0::/\n" {
		t.Errorf("cgroup %q", got)
	}
	if got := h.read(h.init, "/proc/self/uid_map"); got != "         0          0 4294967295\n" {
		t.Errorf("uid_map %q", got)
	}
	if got := h.read(h.init, "/proc/self/limits"); !strings.Contains(got, "Max open files            1024                 1048576              files     \n") {
		t.Errorf("limits:\n%s", got)
	}
	if l, err := h.readlink(h.init, "/proc/self/exe"); err != nil || l != "/bin/prog" {
		t.Errorf("exe %q %v", l, err)
	}
	if l, err := h.readlink(h.init, "/proc/self/cwd"); err != nil || l != "/" {
		t.Errorf("cwd %q %v", l, err)
	}
	if l, err := h.readlink(h.init, "/proc/self/root"); err != nil || l != "/" {
		t.Errorf("root %q %v", l, err)
	}
	if l, err := h.readlink(h.init, "/proc/self/ns/pid"); err != nil || !strings.HasPrefix(l, "pid:[") {
		t.Errorf("ns/pid %q %v", l, err)
	}
	// cwd is a magic link to a directory: walking through it works.
	home, err := h.v.GetLocation(h.init.VFSContext(), h.root, h.root, "/home", 0)
	if err != nil {
		t.Fatal(err)
	}
	h.init.FS.SetCwd(home)
	home.DecRef()
	if l, err := h.readlink(h.init, "/proc/self/cwd"); err != nil || l != "/home" {
		t.Errorf("cwd %q %v", l, err)
	}
	fl, err := h.open(h.init, "/proc/self/cwd/made", unix.O_CREAT|unix.O_RDWR)
	if err != nil {
		t.Fatalf("create through cwd link: %v", err)
	}
	fl.DecRef(h.init.VFSContext())
	if _, err := h.stat(h.init, "/home/made", 0); err != nil {
		t.Errorf("file not created in cwd: %v", err)
	}

	// mounts and mountinfo.
	mounts := h.read(h.init, "/proc/self/mounts")
	if !strings.Contains(mounts, "tmpfs / tmpfs rw,relatime 0 0\n") ||
		!strings.Contains(mounts, "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n") {
		t.Errorf("mounts:\n%s", mounts)
	}
	mi := h.read(h.init, "/proc/self/mountinfo")
	lines := strings.Split(strings.TrimSpace(mi), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[1], " / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw") {
		t.Errorf("mountinfo:\n%s", mi)
	}
}

func TestComm(t *testing.T) {
	h := newHarness(t)
	ctx := h.init.VFSContext()
	f, err := h.open(h.init, "/proc/self/comm", unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		t.Fatalf("open comm for writing: %v", err)
	}
	if n, err := f.Write(ctx, []byte("renamed-process-long\n")); err != nil || n != 21 {
		t.Errorf("write comm: %d %v", n, err)
	}
	f.DecRef(ctx)
	if got := h.read(h.init, "/proc/self/comm"); got != "renamed-process\n" {
		t.Errorf("comm %q", got)
	}
	// Another process may not rename us.
	child := h.clone(h.init, uint64(unix.SIGCHLD))
	f, err = h.open(child, "/proc/1/comm", unix.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(child.VFSContext(), []byte("x")); err != unix.EINVAL {
		t.Errorf("foreign comm write: %v", err)
	}
	f.DecRef(child.VFSContext())
	// Read-only files: open for writing works for root, write fails.
	f, err = h.open(h.init, "/proc/self/stat", unix.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(ctx, []byte("x")); err != unix.EINVAL {
		t.Errorf("stat write: %v", err)
	}
	f.DecRef(ctx)
	h.do(child, func(t *kernel.Task) { t.ExitGroup(0) })
}

func TestOOMScoreAdj(t *testing.T) {
	h := newHarness(t)
	ctx := h.init.VFSContext()
	if got := h.read(h.init, "/proc/self/oom_score_adj"); got != "0\n" {
		t.Errorf("oom_score_adj %q", got)
	}
	f, err := h.open(h.init, "/proc/self/oom_score_adj", unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(ctx, []byte("500\n")); err != nil {
		t.Errorf("write: %v", err)
	}
	if _, err := f.Write(ctx, []byte("5000\n")); err != unix.EINVAL {
		t.Errorf("write out of range: %v", err)
	}
	f.DecRef(ctx)
	if got := h.read(h.init, "/proc/self/oom_score_adj"); got != "500\n" {
		t.Errorf("oom_score_adj %q", got)
	}
	if got := h.read(h.init, "/proc/self/oom_adj"); got != "8\n" {
		t.Errorf("oom_adj %q", got)
	}
}

func TestFDs(t *testing.T) {
	h := newHarness(t)
	ctx := h.init.VFSContext()
	file, err := h.open(h.init, "/home/data", unix.O_CREAT|unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.Write(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	fd, err := h.init.NewFD(file, true)
	if err != nil {
		t.Fatal(err)
	}
	file.DecRef(ctx)
	name := strconv.Itoa(int(fd))
	if names := h.readdir(h.init, "/proc/self/fd"); !slices.Contains(names, name) {
		t.Errorf("fd dir %v lacks %s", names, name)
	}
	if l, err := h.readlink(h.init, "/proc/self/fd/"+name); err != nil || l != "/home/data" {
		t.Errorf("readlink fd: %q %v", l, err)
	}
	st, err := h.stat(h.init, "/proc/self/fd/"+name, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil || st.Mode != unix.S_IFLNK|0o700 {
		t.Errorf("lstat fd: %o %v", st.Mode, err)
	}
	// Opening the link reopens the file.
	f2, err := h.open(h.init, "/proc/self/fd/"+name, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	buf := make([]byte, 16)
	if n, _ := f2.Read(ctx, buf); string(buf[:n]) != "hello" {
		t.Errorf("reopened read %q", buf[:n])
	}
	f2.DecRef(ctx)
	info := h.read(h.init, "/proc/self/fdinfo/"+name)
	if !strings.HasPrefix(info, "pos:\t5\nflags:\t02100002\nmnt_id:\t") {
		t.Errorf("fdinfo %q", info)
	}
	// The fdinfo of the very file being read does not deadlock.
	pf, err := h.open(h.init, "/proc/self/comm", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	pfd, _ := h.init.NewFD(pf, false)
	pf.DecRef(ctx)
	info2, err := h.open(h.init, "/proc/self/fdinfo/"+strconv.Itoa(int(pfd)), unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	ifd, _ := h.init.NewFD(info2, false)
	info2.DecRef(ctx)
	if got := h.read(h.init, "/proc/self/fdinfo/"+strconv.Itoa(int(ifd))); !strings.HasPrefix(got, "pos:\t0\nflags:\t0100000\n") {
		t.Errorf("fdinfo of fdinfo %q", got)
	}
	got, err := h.init.GetFile(ifd)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	if n, err := got.Read(ctx, b); err != nil || !strings.HasPrefix(string(b[:n]), "pos:\t0\n") {
		t.Errorf("self fdinfo read %q %v", b[:n], err)
	}
	got.DecRef(ctx)

	// After close the entry is gone, even through a cached dentry.
	old, _ := h.init.Files.Remove(fd)
	old.DecRef(ctx)
	if _, err := h.readlink(h.init, "/proc/self/fd/"+name); err != unix.ENOENT {
		t.Errorf("readlink closed fd: %v", err)
	}
	if _, err := h.open(h.init, "/proc/self/fd/"+name, unix.O_RDONLY); err != unix.ENOENT {
		t.Errorf("open closed fd: %v", err)
	}
	if names := h.readdir(h.init, "/proc/self/fd"); slices.Contains(names, name) {
		t.Errorf("fd dir %v still has %s", names, name)
	}
}

func TestProcessesAndThreads(t *testing.T) {
	h := newHarness(t)
	child := h.clone(h.init, uint64(unix.SIGCHLD))
	cpid := strconv.Itoa(int(child.TID()))
	if names := h.readdir(h.init, "/proc"); !slices.Contains(names, cpid) {
		t.Errorf("/proc lacks child %s: %v", cpid, names)
	}
	if l, _ := h.readlink(child, "/proc/self"); l != cpid {
		t.Errorf("child's self = %q", l)
	}
	f := statFields(t, h.read(h.init, "/proc/"+cpid+"/stat"))
	// Neither asleep in the sentry nor stopped: runnable, as a new task is.
	if f[2] != "R" || f[3] != "1" {
		t.Errorf("child stat state %s ppid %s", f[2], f[3])
	}
	// A thread of the child.
	thr := h.clone(child, linux.CLONE_VM|linux.CLONE_FS|linux.CLONE_FILES|linux.CLONE_SIGHAND|linux.CLONE_THREAD)
	ttid := strconv.Itoa(int(thr.TID()))
	tasks := h.readdir(h.init, "/proc/"+cpid+"/task")
	if !slices.Contains(tasks, cpid) || !slices.Contains(tasks, ttid) {
		t.Errorf("task dir %v", tasks)
	}
	if names := h.readdir(h.init, "/proc"); slices.Contains(names, ttid) {
		t.Errorf("/proc lists thread %s", ttid)
	}
	if _, err := h.stat(h.init, "/proc/"+ttid+"/status", 0); err != nil {
		t.Errorf("/proc/TID of a thread: %v", err)
	}
	if l, _ := h.readlink(thr, "/proc/thread-self"); l != cpid+"/task/"+ttid {
		t.Errorf("thread-self %q", l)
	}
	st := h.read(h.init, "/proc/"+cpid+"/task/"+ttid+"/status")
	if !strings.Contains(st, "Tgid:\t"+cpid+"\n") || !strings.Contains(st, "Pid:\t"+ttid+"\n") || !strings.Contains(st, "Threads:\t2\n") {
		t.Errorf("thread status:\n%s", st)
	}
	if _, err := h.stat(h.init, "/proc/1/task/"+ttid, 0); err != unix.ENOENT {
		t.Errorf("foreign thread in task dir: %v", err)
	}

	// Exit: a zombie until reaped, then gone (also through cached dentries).
	dir, err := h.open(h.init, "/proc/"+cpid, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.DecRef(h.init.VFSContext())
	h.do(thr, func(t *kernel.Task) { t.ExitGroup(7) })
	waitFor(t, func() bool { return child.ThreadGroup().IsZombie() })
	f = statFields(t, h.read(h.init, "/proc/"+cpid+"/stat"))
	if f[2] != "Z" {
		t.Errorf("zombie state %s", f[2])
	}
	if got := h.read(h.init, "/proc/"+cpid+"/cmdline"); got != "" {
		t.Errorf("zombie cmdline %q", got)
	}
	h.do(h.init, func(t *kernel.Task) {
		if _, err := t.Wait(kernel.WaitOpts{IDType: linux.P_ALL, Options: linux.WEXITED}); err != nil {
			h.t.Errorf("wait: %v", err)
		}
	})
	if _, err := h.stat(h.init, "/proc/"+cpid+"/status", 0); err != unix.ENOENT {
		t.Errorf("reaped process: %v", err)
	}
	if names := h.readdir(h.init, "/proc"); slices.Contains(names, cpid) {
		t.Errorf("/proc still lists %s", cpid)
	}
	// The directory opened before: its attributes stay, lookups in it are
	// ESRCH and it lists nothing (ENOENT), as in Linux.
	if _, err := dir.Stat(h.init.VFSContext()); err != nil {
		t.Errorf("fstat of a reaped process's directory: %v", err)
	}
	if _, err := h.v.OpenAt(h.init.VFSContext(), h.root, dir.Location(), "status", unix.O_RDONLY, 0); err != unix.ESRCH {
		t.Errorf("lookup in a reaped process's directory: %v, want ESRCH", err)
	}
	if _, err := dir.Getdents64(h.init.VFSContext(), make([]byte, 512)); err != unix.ENOENT {
		t.Errorf("getdents of a reaped process's directory: %v, want ENOENT", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		sleepMS(10)
	}
	t.Fatalf("condition not reached")
}

func TestSystemFiles(t *testing.T) {
	h := newHarness(t)
	h.k.UnprivilegedPortStart = 1024
	for _, tc := range []struct{ path, want string }{
		{"/proc/sys/kernel/ostype", "Linux\n"},
		{"/proc/sys/kernel/osrelease", OSRelease + "\n"},
		{"/proc/sys/kernel/cap_last_cap", "40\n"},
		{"/proc/sys/kernel/pid_max", "4194304\n"},
		{"/proc/sys/fs/pipe-max-size", "1048576\n"},
		{"/proc/sys/fs/mqueue/msgsize_max", "8192\n"},
		{"/proc/sys/kernel/ngroups_max", "65536\n"},
		{"/proc/sys/kernel/hostname", "runsc-lite\n"},
		{"/proc/sys/vm/overcommit_memory", "0\n"},
		{"/proc/sys/vm/max_map_count", "65530\n"},
		{"/proc/sys/fs/file-max", "9223372036854775807\n"},
		{"/proc/sys/fs/nr_open", "1048576\n"},
		{"/proc/sys/net/core/somaxconn", "4096\n"},
		{"/proc/sys/net/ipv4/ip_unprivileged_port_start", "1024\n"},
	} {
		if got := h.read(h.init, tc.path); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.path, got, tc.want)
		}
	}
	b1, b2 := h.read(h.init, "/proc/sys/kernel/random/boot_id"), h.read(h.init, "/proc/sys/kernel/random/boot_id")
	u1, u2 := h.read(h.init, "/proc/sys/kernel/random/uuid"), h.read(h.init, "/proc/sys/kernel/random/uuid")
	if b1 != b2 || u1 == u2 || len(u1) != 37 {
		t.Errorf("boot_id %q %q uuid %q %q", b1, b2, u1, u2)
	}
	ctx := h.init.VFSContext()
	f, err := h.open(h.init, "/proc/sys/kernel/hostname", unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(ctx, []byte("box\n")); err != nil {
		t.Errorf("write hostname: %v", err)
	}
	f.DecRef(ctx)
	if hn, _ := h.k.Hostname(); hn != "box" {
		t.Errorf("hostname %q", hn)
	}
	for _, p := range []string{"/proc/cpuinfo", "/proc/meminfo", "/proc/uptime", "/proc/loadavg", "/proc/stat", "/proc/version", "/proc/filesystems"} {
		if got := h.read(h.init, p); got == "" || !strings.HasSuffix(got, "\n") {
			t.Errorf("%s = %q", p, got)
		}
	}
	if got := h.read(h.init, "/proc/loadavg"); !strings.HasPrefix(got, "0.00 0.00 0.00 1/1 1\n") {
		t.Errorf("loadavg %q", got)
	}
	if got := h.read(h.init, "/proc/stat"); !strings.Contains(got, "\nprocesses 1\n") || !strings.Contains(got, "\nbtime ") {
		t.Errorf("stat:\n%s", got)
	}
	if got := h.read(h.init, "/proc/meminfo"); !strings.HasPrefix(got, "MemTotal:") {
		t.Errorf("meminfo:\n%s", got)
	}
	names := h.readdir(h.init, "/proc/sys/kernel")
	if !slices.Contains(names, "random") || !slices.Contains(names, "hostname") {
		t.Errorf("sys/kernel %v", names)
	}
	if names := h.readdir(h.init, "/proc/self/net"); len(names) != 2 {
		t.Errorf("self/net %v", names)
	}
	if _, err := h.stat(h.init, "/proc/net", 0); err != nil {
		t.Errorf("/proc/net: %v", err)
	}
}

// Partial reads at arbitrary offsets come from one snapshot; a read at 0
// refreshes it.
func TestSeqSnapshot(t *testing.T) {
	h := newHarness(t)
	ctx := h.init.VFSContext()
	f, err := h.open(h.init, "/proc/self/comm", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	b := make([]byte, 2)
	if n, _ := f.PRead(ctx, b, 0); string(b[:n]) != "pr" {
		t.Fatalf("%q", b[:n])
	}
	h.init.SetName("zzzz")
	if n, _ := f.PRead(ctx, b, 2); string(b[:n]) != "og" {
		t.Errorf("continued read %q", b[:n])
	}
	if n, _ := f.PRead(ctx, b, 0); string(b[:n]) != "zz" {
		t.Errorf("fresh read %q", b[:n])
	}
	if _, err := f.Seek(ctx, 0, unix.SEEK_END); err != unix.EINVAL {
		t.Errorf("SEEK_END: %v", err)
	}
}

func TestExeLinkAndProctitle(t *testing.T) {
	h := newHarness(t)
	ctx := h.init.VFSContext()
	kctx := vfs.NewContext(vfs.RootCredentials())
	if err := h.v.Mkdir(kctx, h.root, h.root, "/bin", 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := h.v.OpenAt(kctx, h.root, h.root, "/bin/prog", unix.O_CREAT|unix.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(kctx, []byte("\x7fELF"))
	f.DecRef(kctx)
	exe, err := h.open(h.init, "/proc/self/exe", unix.O_RDONLY)
	if err != nil {
		t.Fatalf("open exe: %v", err)
	}
	b := make([]byte, 4)
	if n, _ := exe.Read(ctx, b); string(b[:n]) != "\x7fELF" {
		t.Errorf("exe content %q", b[:n])
	}
	exe.DecRef(ctx)
	h.init.ThreadGroup().Ext = nil
	if _, err := h.readlink(h.init, "/proc/self/exe"); err != unix.ENOENT {
		t.Errorf("exe without a path: %v", err)
	}

	// setproctitle: argv's last NUL overwritten, the title runs into the
	// environment area up to the first NUL.
	m := h.init.MM()
	title := []byte("prog: worker process long title\x00")
	if _, err := m.CopyOut(m.ArgStart, title); err != nil {
		t.Fatal(err)
	}
	if got := h.read(h.init, "/proc/self/cmdline"); got != string(title) {
		t.Errorf("proctitle cmdline %q", got)
	}
}

func TestMountinfoBindRoot(t *testing.T) {
	h := newHarness(t)
	kctx := vfs.NewContext(vfs.RootCredentials())
	for _, d := range []string{"/home/sub", "/mnt"} {
		if err := h.v.Mkdir(kctx, h.root, h.root, d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := h.v.GetLocation(kctx, h.root, h.root, "/home/sub", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.DecRef()
	if _, err := h.v.BindMount(kctx, src, h.root, h.root, "/mnt", unix.MS_RDONLY, false); err != nil {
		t.Fatal(err)
	}
	mi := h.read(h.init, "/proc/self/mountinfo")
	if !strings.Contains(mi, " /home/sub /mnt ro,relatime - tmpfs tmpfs ro\n") {
		t.Errorf("mountinfo:\n%s", mi)
	}
}

// Names missing from procfs directories cannot be created: ENOENT, as
// Linux's lookup fails (not EACCES or EPERM from a create).
func TestNoCreate(t *testing.T) {
	h := newHarness(t)
	ctx := h.init.VFSContext()
	for _, p := range []string{"/proc/new", "/proc/self/new", "/proc/self/fd/99"} {
		if err := h.v.Mkdir(ctx, h.root, h.root, p, 0o755); err != unix.ENOENT {
			t.Errorf("mkdir %s: %v, want ENOENT", p, err)
		}
		if _, err := h.open(h.init, p, unix.O_CREAT|unix.O_WRONLY); err != unix.ENOENT {
			t.Errorf("creat %s: %v, want ENOENT", p, err)
		}
	}
	if err := h.v.Mkdir(ctx, h.root, h.root, "/proc/self", 0o755); err != unix.EEXIST {
		t.Errorf("mkdir of an existing name: %v, want EEXIST", err)
	}
}
