package procfs

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

func TestFormatStatLayout(t *testing.T) {
	s := &statInfo{PID: 42, Comm: "a b) c", State: 'S', PPID: 1, PGRP: 42, Session: 1, TPGID: -1, Flags: 0x400000,
		MinFlt: 7, UTime: 3, STime: 4, CUTime: 5, CSTime: 6, Priority: 20, NumThreads: 2, StartTime: 99,
		VSize: 4096 * 10, RSS: 3, RSSLim: ^uint64(0), StartCode: 0x400000, EndCode: 0x402000,
		StartStack: 0x7ff0, Signal: 1, Blocked: 2, SigIgnore: 4, SigCatch: 8, ExitSignal: 17,
		StartData: 0x600000, EndData: 0x601000, StartBrk: 0x700000, ArgStart: 10, ArgEnd: 20, EnvStart: 20,
		EnvEnd: 30, ExitCode: 256}
	line := formatStat(s)
	if !strings.HasSuffix(line, "\n") {
		t.Fatalf("no newline: %q", line)
	}
	// Fields after the comm (which may contain spaces and parentheses).
	rest := line[strings.LastIndexByte(line, ')')+2 : len(line)-1]
	f := strings.Split(rest, " ")
	if got := len(f) + 2; got != 52 {
		t.Fatalf("%d fields, want 52: %q", got, line)
	}
	// want maps proc(5) field numbers (1-based) to values.
	want := map[int]string{
		3: "S", 4: "1", 5: "42", 6: "1", 7: "0", 8: "-1", 9: "4194304", 10: "7", 14: "3", 15: "4", 16: "5",
		17: "6", 18: "20", 19: "0", 20: "2", 21: "0", 22: "99", 23: "40960", 24: "3",
		25: "18446744073709551615", 26: "4194304", 27: "4202496", 28: "32752", 31: "1", 32: "2", 33: "4",
		34: "8", 35: "0", 36: "0", 37: "0", 38: "17", 39: "0", 45: "6291456", 46: "6295552", 47: "7340032",
		48: "10", 49: "20", 50: "20", 51: "30", 52: "256",
	}
	for n, v := range want {
		if f[n-3] != v {
			t.Errorf("field %d = %q, want %q (%q)", n, f[n-3], v, line)
		}
	}
	if !strings.HasPrefix(line, "42 (a b) c) S ") {
		t.Errorf("prefix: %q", line)
	}
}

func TestFormatMapsLine(t *testing.T) {
	for _, tc := range []struct {
		m    mm.Mapping
		want string
	}{
		{mm.Mapping{Start: 0x55ed32503000, End: 0x55ed32509000, Perm: platform.Access{Read: true, Execute: true},
			Offset: 0x2000, Dev: unix.Mkdev(0xfe, 0), Ino: 247278, Name: "/usr/bin/head"},
			"55ed32503000-55ed32509000 r-xp 00002000 fe:00 247278                     /usr/bin/head\n"},
		{mm.Mapping{Start: 0x7ffd5e1c4000, End: 0x7ffd5e1e5000, Perm: platform.ReadWrite, Name: "[stack]"},
			"7ffd5e1c4000-7ffd5e1e5000 rw-p 00000000 00:00 0                          [stack]\n"},
		{mm.Mapping{Start: 0x7f0000000000, End: 0x7f0000001000, Perm: platform.Read},
			"7f0000000000-7f0000001000 r--p 00000000 00:00 0 \n"},
		{mm.Mapping{Start: 0x1000, End: 0x2000, Shared: true},
			"00001000-00002000 ---s 00000000 00:00 0 \n"},
		{mm.Mapping{Start: 0x400000, End: 0x401000, Perm: platform.Access{Read: true, Write: true, Execute: true},
			Shared: true, Offset: 0x123000, Dev: unix.Mkdev(8, 1), Ino: 5, Name: "/dev/shm/x (deleted)"},
			"00400000-00401000 rwxs 00123000 08:01 5                                  /dev/shm/x (deleted)\n"},
	} {
		if got := formatMapsLine(tc.m); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestFormatLimits(t *testing.T) {
	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	out := formatLimits(func(r int) unix.Rlimit {
		switch r {
		case unix.RLIMIT_NOFILE:
			return unix.Rlimit{Cur: 1024, Max: 1048576}
		case unix.RLIMIT_STACK:
			return unix.Rlimit{Cur: 8388608, Max: unix.RLIM_INFINITY}
		case unix.RLIMIT_NICE:
			return unix.Rlimit{}
		}
		return inf
	})
	lines := strings.Split(out, "\n")
	if len(lines) != 18 || lines[17] != "" {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	for i, want := range map[int]string{
		0:  "Limit                     Soft Limit           Hard Limit           Units     ",
		1:  "Max cpu time              unlimited            unlimited            seconds   ",
		4:  "Max stack size            8388608              unlimited            bytes     ",
		8:  "Max open files            1024                 1048576              files     ",
		14: "Max nice priority         0                    0                    ",
		16: "Max realtime timeout      unlimited            unlimited            us        ",
	} {
		if lines[i] != want {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want)
		}
	}
}

func TestFormatStatusFields(t *testing.T) {
	s := &statusInfo{Name: "a\nb", Umask: 0o22, HaveUmask: true, State: 'S', Tgid: 5, Pid: 6, PPid: 1, PGID: 5,
		SID: 1, UID: [4]uint32{1000, 1001, 1002, 1003}, GID: [4]uint32{10, 11, 12, 13}, FDSize: 64,
		Groups: []uint32{4, 27}, HaveMM: true, Mem: memStats{Size: 8192 * 1024, RSS: 1024 * 1024, Data: 4096,
			Stack: 132 * 1024, Exe: 20 * 1024, Lib: 1600 * 1024}, Threads: 3, SigQueued: 1, SigLimit: 63541,
		SigPnd: 1 << 9, SigBlk: 1 << 1, CapPrm: 0x1ffffffffff, CapEff: 0x1ffffffffff, CapBnd: 0x1ffffffffff,
		NoNewPrivs: true, Seccomp: 2, SeccompFilters: 3, CPUs: 4}
	out := formatStatus(s)
	for _, want := range []string{
		"Name:\ta\\nb\n", "Umask:\t0022\n", "State:\tS (sleeping)\n", "Tgid:\t5\n", "Ngid:\t0\n", "Pid:\t6\n",
		"PPid:\t1\n", "TracerPid:\t0\n", "Uid:\t1000\t1001\t1002\t1003\n", "Gid:\t10\t11\t12\t13\n",
		"FDSize:\t64\n", "Groups:\t4 27 \n", "NSpgid:\t5\n", "VmSize:\t    8192 kB\n", "VmRSS:\t    1024 kB\n",
		"VmStk:\t     132 kB\n", "VmExe:\t      20 kB\n", "VmLib:\t    1600 kB\n", "Threads:\t3\n",
		"SigQ:\t1/63541\n", "SigPnd:\t0000000000000200\n", "SigBlk:\t0000000000000002\n",
		"CapEff:\t000001ffffffffff\n", "NoNewPrivs:\t1\n", "Seccomp:\t2\n", "Seccomp_filters:\t3\n", "Cpus_allowed:\tf\n", "Cpus_allowed_list:\t0-3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	// Linux order: Name first, Umask before State, Vm* before Threads.
	if strings.Index(out, "Umask:") > strings.Index(out, "State:") ||
		strings.Index(out, "VmRSS:") > strings.Index(out, "Threads:") ||
		strings.Index(out, "SigQ:") > strings.Index(out, "CapInh:") {
		t.Errorf("order:\n%s", out)
	}
	s.HaveMM = false
	if out := formatStatus(s); strings.Contains(out, "VmSize") {
		t.Errorf("zombie status has Vm lines")
	}
}

func TestComputeMemStats(t *testing.T) {
	ms := []mm.Mapping{
		{Start: 0x400000, End: 0x402000, Perm: platform.Access{Read: true, Execute: true}, Name: "/bin/p"},
		{Start: 0x402000, End: 0x403000, Perm: platform.ReadWrite, Name: "/bin/p"},
		{Start: 0x600000, End: 0x604000, Perm: platform.ReadWrite, Name: "[heap]"},
		{Start: 0x7f0000000000, End: 0x7f0000004000, Perm: platform.Access{Read: true, Execute: true}, Name: "/lib/libc.so"},
		{Start: 0x7f0000010000, End: 0x7f0000011000, Perm: platform.ReadWrite, Shared: true},
		{Start: 0x7ff000000000, End: 0x7ff000021000, Perm: platform.ReadWrite, Name: "[stack]"},
	}
	got := computeMemStats(ms, 5, "/bin/p")
	want := memStats{Size: 0x2000 + 0x1000 + 0x4000 + 0x4000 + 0x1000 + 0x21000, RSS: 5 * 4096,
		Data: 0x1000 + 0x4000, Stack: 0x21000, Exe: 0x2000, Lib: 0x4000}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if s := formatStatm(got); s != "45 5 0 2 0 38 0\n" {
		t.Errorf("statm %q", s)
	}
}

func TestFormatMountinfo(t *testing.T) {
	es := []mountEntry{
		{ID: 1, ParentID: 1, Major: 0, Minor: 1, Root: "/", Point: "/", FSType: "overlay", Source: "overlay"},
		{ID: 3, ParentID: 1, Major: 0, Minor: 5, Root: "/", Point: "/proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
			FSType: "proc", Source: "proc"},
		{ID: 4, ParentID: 1, Major: 0, Minor: 6, Root: "/sub dir", Point: "/mnt/a b", Flags: unix.MS_RDONLY,
			FSType: "tmpfs", Source: "tmpfs"},
	}
	wantInfo := "1 1 0:1 / / rw,relatime - overlay overlay rw\n" +
		"3 1 0:5 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n" +
		"4 1 0:6 /sub\\040dir /mnt/a\\040b ro,relatime - tmpfs tmpfs ro\n"
	if got := formatMountinfo(es); got != wantInfo {
		t.Errorf("mountinfo:\n%s\nwant\n%s", got, wantInfo)
	}
	wantMounts := "overlay / overlay rw,relatime 0 0\n" +
		"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n" +
		"tmpfs /mnt/a\\040b tmpfs ro,relatime 0 0\n"
	if got := formatMounts(es); got != wantMounts {
		t.Errorf("mounts:\n%s\nwant\n%s", got, wantMounts)
	}
}

func TestSmallFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{formatIDMap(0, 0, 4294967295), "         0          0 4294967295\n"},
		{formatFdinfo(5, unix.O_RDWR|oLargefile|unix.O_CLOEXEC, 24, 3), "pos:\t5\nflags:\t02100002\nmnt_id:\t24\nino:\t3\n"},
		{formatUptime(1153780*time.Millisecond, 1865901*time.Millisecond), "1153.78 1865.90\n"},
		{cpuMask(2), "3"},
		{cpuMask(32), "ffffffff"},
		{cpuMask(40), "ff,ffffffff"},
		{cpuList(1), "0"},
		{cpuList(16), "0-15"},
		{escapeMountPath("a b\\c\td\ne"), "a\\040b\\134c\\011d\\012e"},
		{stateName('Z'), "Z (zombie)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	var b strings.Builder
	meminfoLine(&b, "MemTotal", 16318764)
	if b.String() != "MemTotal:       16318764 kB\n" {
		t.Errorf("meminfo line %q", b.String())
	}
	mi := formatMeminfo(1000, 300)
	for _, w := range []string{"MemTotal:           1000 kB\n", "MemFree:             700 kB\n", "HugePages_Total:       0\n"} {
		if !strings.Contains(mi, w) {
			t.Errorf("meminfo missing %q:\n%s", w, mi)
		}
	}
	st := formatSystemStat(2, 10*time.Second, int64(3*time.Second), int64(1*time.Second), time.Unix(1700000000, 0), 7, 2)
	for _, w := range []string{"cpu  300 0 100 1600 0 0 0 0 0 0\n", "cpu0 150 0 50 800 ", "cpu1 ", "btime 1700000000\n",
		"processes 7\n", "procs_running 2\n"} {
		if !strings.Contains(st, w) {
			t.Errorf("stat missing %q:\n%s", w, st)
		}
	}
}

func TestCPUInfo(t *testing.T) {
	d := probeCPU()
	out := formatCPUInfo(&d, 2)
	if strings.Count(out, "processor\t: ") != 2 || !strings.Contains(out, "processor\t: 1\n") {
		t.Errorf("processors:\n%s", out)
	}
	if haveCPUID {
		for _, w := range []string{"flags\t\t: fpu ", " sse2 "} {
			if !strings.Contains(out, w) {
				t.Errorf("missing %q:\n%s", w, out)
			}
		}
		if d.vendor != "GenuineIntel" && d.vendor != "AuthenticAMD" && d.vendor == "" {
			t.Errorf("vendor %q", d.vendor)
		}
	}
	if !strings.HasSuffix(out, "power management:\n\n") {
		t.Errorf("tail: %q", out[len(out)-40:])
	}
}

func TestUUID(t *testing.T) {
	u := newUUID()
	if len(u) != 36 || u[14] != '4' || strings.Count(u, "-") != 4 {
		t.Errorf("uuid %q", u)
	}
	if newUUID() == u {
		t.Errorf("uuids repeat")
	}
}
