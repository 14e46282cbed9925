package procfs

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// This file holds the pure formatting functions (testable without tasks).

// statInfo holds the fields of /proc/PID/stat (proc(5) order).
type statInfo struct {
	PID                                  int32
	Comm                                 string
	State                                byte
	PPID, PGRP, Session                  int32
	TTY, TPGID                           int32
	Flags                                uint32
	MinFlt, CMinFlt, MajFlt, CMajFlt     uint64
	UTime, STime, CUTime, CSTime         uint64 // clock ticks
	Priority, Nice                       int64
	NumThreads                           int64
	StartTime                            uint64 // clock ticks after boot
	VSize                                uint64 // bytes
	RSS                                  uint64 // pages
	RSSLim                               uint64
	StartCode, EndCode, StartStack       uint64
	ESP, EIP                             uint64
	Signal, Blocked, SigIgnore, SigCatch uint64
	WChan                                uint64
	ExitSignal, Processor                int32
	RTPriority, Policy                   uint32
	DelayAcctBlkioTicks, GTime, CGTime   uint64
	StartData, EndData, StartBrk         uint64
	ArgStart, ArgEnd, EnvStart, EnvEnd   uint64
	ExitCode                             int32
}

// formatStat renders the 52 fields of /proc/PID/stat.
func formatStat(s *statInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d (%s) %c %d %d %d %d %d %d ", s.PID, s.Comm, s.State, s.PPID, s.PGRP, s.Session,
		s.TTY, s.TPGID, s.Flags)
	fmt.Fprintf(&b, "%d %d %d %d %d %d %d %d ", s.MinFlt, s.CMinFlt, s.MajFlt, s.CMajFlt,
		s.UTime, s.STime, s.CUTime, s.CSTime)
	fmt.Fprintf(&b, "%d %d %d 0 %d %d %d %d ", s.Priority, s.Nice, s.NumThreads, s.StartTime, s.VSize,
		s.RSS, s.RSSLim)
	fmt.Fprintf(&b, "%d %d %d %d %d ", s.StartCode, s.EndCode, s.StartStack, s.ESP, s.EIP)
	fmt.Fprintf(&b, "%d %d %d %d %d 0 0 %d %d %d %d %d %d %d ", s.Signal, s.Blocked, s.SigIgnore, s.SigCatch,
		s.WChan, s.ExitSignal, s.Processor, s.RTPriority, s.Policy, s.DelayAcctBlkioTicks, s.GTime, s.CGTime)
	fmt.Fprintf(&b, "%d %d %d %d %d %d %d %d\n", s.StartData, s.EndData, s.StartBrk, s.ArgStart, s.ArgEnd,
		s.EnvStart, s.EnvEnd, s.ExitCode)
	return b.String()
}

// stateName returns the State: line text of a state letter.
func stateName(c byte) string {
	switch c {
	case 'R':
		return "R (running)"
	case 'S':
		return "S (sleeping)"
	case 'D':
		return "D (disk sleep)"
	case 'T':
		return "T (stopped)"
	case 't':
		return "t (tracing stop)"
	case 'X':
		return "X (dead)"
	case 'Z':
		return "Z (zombie)"
	case 'I':
		return "I (idle)"
	}
	return string(c)
}

// memStats summarises an address space for status and statm (bytes).
type memStats struct {
	Size, RSS, Data, Stack, Exe, Lib, Locked uint64
}

// computeMemStats classifies the mappings like Linux's task_mem: stack is
// the [stack] mapping, exe the executable mappings of the program file,
// lib the other executable file mappings, data the private writable rest.
func computeMemStats(ms []mm.Mapping, rssPages uint64, exe string) memStats {
	var s memStats
	for _, m := range ms {
		n := m.End - m.Start
		s.Size += n
		if m.Locked {
			s.Locked += n
		}
		switch {
		case m.Name == "[stack]":
			s.Stack += n
		case m.Perm.Execute && m.Name != "" && m.Name[0] == '/':
			if exe != "" && m.Name == exe {
				s.Exe += n
			} else {
				s.Lib += n
			}
		case m.Perm.Write && !m.Shared:
			s.Data += n
		}
	}
	s.RSS = rssPages * 4096
	return s
}

// statusInfo holds the fields of /proc/PID/status.
type statusInfo struct {
	Name                   string
	Umask                  uint32
	HaveUmask              bool
	State                  byte
	Tgid, Pid, PPid        int32
	PGID, SID              int32
	UID, GID               [4]uint32
	FDSize                 int
	Groups                 []uint32
	HaveMM                 bool
	Mem                    memStats
	Threads                int
	SigQueued, SigLimit    uint64
	SigPnd, ShdPnd         uint64
	SigBlk, SigIgn, SigCgt uint64
	CapInh, CapPrm, CapEff uint64
	CapBnd, CapAmb         uint64
	NoNewPrivs             bool
	Seccomp                int // mode: 0 none, 1 strict, 2 filter
	SeccompFilters         int
	CPUs                   int
}

// escapeName escapes a comm for the Name: line like Linux's
// proc_task_name(escape=true).
func escapeName(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\\", "\\\\")
	return strings.ReplaceAll(s, "\n", "\\n")
}

func kb(b uint64) string { return fmt.Sprintf("%8d kB", b/1024) }

// cpuMask renders a mask of n CPUs as Linux's %*pb (comma-separated
// 32-bit hex groups).
func cpuMask(n int) string {
	if n <= 0 {
		n = 1
	}
	var groups []string
	for i := 0; i < n; i += 32 {
		bits := min(n-i, 32)
		var g uint64 = (1 << uint(bits)) - 1
		groups = append(groups, fmt.Sprintf("%08x", g))
	}
	// Highest group first, without zero padding on the first one.
	for i, j := 0, len(groups)-1; i < j; i, j = i+1, j-1 {
		groups[i], groups[j] = groups[j], groups[i]
	}
	groups[0] = strings.TrimLeft(groups[0], "0")
	return strings.Join(groups, ",")
}

func cpuList(n int) string {
	if n <= 1 {
		return "0"
	}
	return fmt.Sprintf("0-%d", n-1)
}

// formatStatus renders /proc/PID/status like Linux 6.x.
func formatStatus(s *statusInfo) string {
	var b strings.Builder
	p := func(k, v string) { b.WriteString(k); b.WriteString(":\t"); b.WriteString(v); b.WriteByte('\n') }
	p("Name", escapeName(s.Name))
	if s.HaveUmask {
		p("Umask", fmt.Sprintf("%04o", s.Umask))
	}
	p("State", stateName(s.State))
	p("Tgid", strconv.Itoa(int(s.Tgid)))
	p("Ngid", "0")
	p("Pid", strconv.Itoa(int(s.Pid)))
	p("PPid", strconv.Itoa(int(s.PPid)))
	p("TracerPid", "0")
	p("Uid", fmt.Sprintf("%d\t%d\t%d\t%d", s.UID[0], s.UID[1], s.UID[2], s.UID[3]))
	p("Gid", fmt.Sprintf("%d\t%d\t%d\t%d", s.GID[0], s.GID[1], s.GID[2], s.GID[3]))
	p("FDSize", strconv.Itoa(s.FDSize))
	var g strings.Builder
	for _, x := range s.Groups {
		fmt.Fprintf(&g, "%d ", x)
	}
	p("Groups", g.String())
	p("NStgid", strconv.Itoa(int(s.Tgid)))
	p("NSpid", strconv.Itoa(int(s.Pid)))
	p("NSpgid", strconv.Itoa(int(s.PGID)))
	p("NSsid", strconv.Itoa(int(s.SID)))
	p("Kthread", "0")
	if s.HaveMM {
		m := s.Mem
		p("VmPeak", kb(m.Size))
		p("VmSize", kb(m.Size))
		p("VmLck", kb(m.Locked))
		p("VmPin", kb(0))
		p("VmHWM", kb(m.RSS))
		p("VmRSS", kb(m.RSS))
		p("RssAnon", kb(m.RSS))
		p("RssFile", kb(0))
		p("RssShmem", kb(0))
		p("VmData", kb(m.Data))
		p("VmStk", kb(m.Stack))
		p("VmExe", kb(m.Exe))
		p("VmLib", kb(m.Lib))
		p("VmPTE", kb((m.RSS/4096*8+4095)&^4095))
		p("VmSwap", kb(0))
		p("HugetlbPages", kb(0))
		p("CoreDumping", "0")
		p("THP_enabled", "1")
		p("untag_mask", "0xffffffffffffffff")
	}
	p("Threads", strconv.Itoa(s.Threads))
	p("SigQ", fmt.Sprintf("%d/%d", s.SigQueued, s.SigLimit))
	p("SigPnd", fmt.Sprintf("%016x", s.SigPnd))
	p("ShdPnd", fmt.Sprintf("%016x", s.ShdPnd))
	p("SigBlk", fmt.Sprintf("%016x", s.SigBlk))
	p("SigIgn", fmt.Sprintf("%016x", s.SigIgn))
	p("SigCgt", fmt.Sprintf("%016x", s.SigCgt))
	p("CapInh", fmt.Sprintf("%016x", s.CapInh))
	p("CapPrm", fmt.Sprintf("%016x", s.CapPrm))
	p("CapEff", fmt.Sprintf("%016x", s.CapEff))
	p("CapBnd", fmt.Sprintf("%016x", s.CapBnd))
	p("CapAmb", fmt.Sprintf("%016x", s.CapAmb))
	nnp := "0"
	if s.NoNewPrivs {
		nnp = "1"
	}
	p("NoNewPrivs", nnp)
	p("Seccomp", strconv.Itoa(s.Seccomp))
	p("Seccomp_filters", strconv.Itoa(s.SeccompFilters))
	p("Speculation_Store_Bypass", "thread vulnerable")
	p("SpeculationIndirectBranch", "conditional enabled")
	p("Cpus_allowed", cpuMask(s.CPUs))
	p("Cpus_allowed_list", cpuList(s.CPUs))
	p("Mems_allowed", "00000001")
	p("Mems_allowed_list", "0")
	p("voluntary_ctxt_switches", "0")
	p("nonvoluntary_ctxt_switches", "0")
	return b.String()
}

// formatStatm renders /proc/PID/statm (pages).
func formatStatm(m memStats) string {
	const pg = 4096
	return fmt.Sprintf("%d %d %d %d 0 %d 0\n", m.Size/pg, m.RSS/pg, 0, m.Exe/pg, (m.Data+m.Stack)/pg)
}

// formatMapsLine renders one line of /proc/PID/maps exactly like Linux's
// show_map_vma: the name, if any, starts at column 74 (the header is padded
// to 72 characters plus one space); an unnamed line ends with a space.
func formatMapsLine(m mm.Mapping) string {
	perm := []byte("---p")
	if m.Perm.Read {
		perm[0] = 'r'
	}
	if m.Perm.Write {
		perm[1] = 'w'
	}
	if m.Perm.Execute {
		perm[2] = 'x'
	}
	if m.Shared {
		perm[3] = 's'
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%08x-%08x %s %08x %02x:%02x %d ", m.Start, m.End, perm, uint64(m.Offset),
		unix.Major(m.Dev), unix.Minor(m.Dev), m.Ino)
	if m.Name != "" {
		for b.Len() < 72 {
			b.WriteByte(' ')
		}
		b.WriteByte(' ')
		b.WriteString(m.Name)
	}
	b.WriteByte('\n')
	return b.String()
}

// formatMaps renders /proc/PID/maps.
func formatMaps(ms []mm.Mapping) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(formatMapsLine(m))
	}
	return b.String()
}

// formatSmapsEntry renders one /proc/PID/smaps entry; rss is the resident
// size in bytes.
func formatSmapsEntry(m mm.Mapping, rss uint64) string {
	var b strings.Builder
	b.WriteString(formatMapsLine(m))
	line := func(k string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", k+":", v/1024) }
	size := m.End - m.Start
	line("Size", size)
	line("KernelPageSize", 4096)
	line("MMUPageSize", 4096)
	line("Rss", rss)
	line("Pss", rss)
	line("Pss_Dirty", 0)
	line("Shared_Clean", 0)
	line("Shared_Dirty", 0)
	line("Private_Clean", 0)
	line("Private_Dirty", rss)
	line("Referenced", rss)
	anon := uint64(0)
	if m.Name == "" || m.Name[0] == '[' {
		anon = rss
	}
	line("Anonymous", anon)
	line("KSM", 0)
	line("LazyFree", 0)
	line("AnonHugePages", 0)
	line("ShmemPmdMapped", 0)
	line("FilePmdMapped", 0)
	line("Shared_Hugetlb", 0)
	line("Private_Hugetlb", 0)
	line("Swap", 0)
	line("SwapPss", 0)
	line("Locked", 0)
	fmt.Fprintf(&b, "THPeligible:    %8d\n", 0)
	b.WriteString("VmFlags:")
	for _, f := range vmFlags(m) {
		b.WriteByte(' ')
		b.WriteString(f)
	}
	b.WriteString(" \n")
	return b.String()
}

func vmFlags(m mm.Mapping) []string {
	var f []string
	if m.Perm.Read {
		f = append(f, "rd")
	}
	if m.Perm.Write {
		f = append(f, "wr")
	}
	if m.Perm.Execute {
		f = append(f, "ex")
	}
	if m.Shared {
		f = append(f, "sh")
	}
	f = append(f, "mr", "mw", "me")
	if m.Shared {
		f = append(f, "ms")
	}
	if m.Name == "[stack]" {
		f = append(f, "gd")
	}
	f = append(f, "ac")
	return f
}

// limitNames are the rows of /proc/PID/limits, indexed by RLIMIT_*.
var limitNames = [16]struct{ name, unit string }{
	{"Max cpu time", "seconds"},
	{"Max file size", "bytes"},
	{"Max data size", "bytes"},
	{"Max stack size", "bytes"},
	{"Max core file size", "bytes"},
	{"Max resident set", "bytes"},
	{"Max processes", "processes"},
	{"Max open files", "files"},
	{"Max locked memory", "bytes"},
	{"Max address space", "bytes"},
	{"Max file locks", "locks"},
	{"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},
	{"Max nice priority", ""},
	{"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// formatLimits renders /proc/PID/limits like Linux's proc_pid_limits.
func formatLimits(get func(r int) unix.Rlimit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for i, l := range limitNames {
		r := get(i)
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", l.name, val(r.Cur), val(r.Max))
		if l.unit != "" {
			fmt.Fprintf(&b, "%-10s\n", l.unit)
		} else {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// escapeMountPath escapes space, tab, newline and backslash as octal, like
// Linux's mangle() for mounts and mountinfo.
func escapeMountPath(s string) string {
	if !strings.ContainsAny(s, " \t\n\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mountOptions returns the per-mount options string (rw/ro and flags).
func mountOptions(flags uint32) string {
	opts := []string{"rw"}
	if flags&unix.MS_RDONLY != 0 {
		opts[0] = "ro"
	}
	if flags&unix.MS_NOSUID != 0 {
		opts = append(opts, "nosuid")
	}
	if flags&unix.MS_NODEV != 0 {
		opts = append(opts, "nodev")
	}
	if flags&unix.MS_NOEXEC != 0 {
		opts = append(opts, "noexec")
	}
	opts = append(opts, "relatime")
	return strings.Join(opts, ",")
}

// mountEntry is one mount as shown in mounts and mountinfo.
type mountEntry struct {
	ID, ParentID uint64
	Major, Minor uint32
	Root         string // path of the mount's root inside its filesystem
	Point        string // mount point as seen from the reader's root
	Flags        uint32
	FSType       string
	Source       string
}

// formatMounts renders /proc/PID/mounts.
func formatMounts(es []mountEntry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%s %s %s %s 0 0\n", escapeMountPath(e.Source), escapeMountPath(e.Point), e.FSType,
			mountOptions(e.Flags))
	}
	return b.String()
}

// formatMountinfo renders /proc/PID/mountinfo.
func formatMountinfo(es []mountEntry) string {
	var b strings.Builder
	for _, e := range es {
		super := "rw"
		if e.Flags&unix.MS_RDONLY != 0 {
			super = "ro"
		}
		fmt.Fprintf(&b, "%d %d %d:%d %s %s %s - %s %s %s\n", e.ID, e.ParentID, e.Major, e.Minor,
			escapeMountPath(e.Root), escapeMountPath(e.Point), mountOptions(e.Flags), e.FSType,
			escapeMountPath(e.Source), super)
	}
	return b.String()
}

// formatIDMap renders uid_map/gid_map lines.
func formatIDMap(inside, outside, count uint32) string {
	return fmt.Sprintf("%10d %10d %10d\n", inside, outside, count)
}

// formatFdinfo renders /proc/PID/fdinfo/N.
func formatFdinfo(pos int64, flags uint32, mntID, ino uint64) string {
	return fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", pos, flags, mntID, ino)
}

// meminfo line: "Name:" padded to 16, value to 8, " kB".
func meminfoLine(b *strings.Builder, name string, kbytes uint64) {
	fmt.Fprintf(b, "%-16s%8d kB\n", name+":", kbytes)
}
