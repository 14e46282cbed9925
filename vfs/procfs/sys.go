package procfs

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
)

// Kernel identity shown by /proc/version and /proc/sys/kernel: uname's.
const (
	OSType    = kernel.OSType
	OSRelease = kernel.OSRelease
	OSVersion = kernel.OSVersion
)

const filesystemsText = "nodev\tsysfs\nnodev\ttmpfs\nnodev\tbdev\nnodev\tproc\nnodev\tcgroup2\nnodev\tdevtmpfs\n" +
	"nodev\tdevpts\nnodev\tpipefs\nnodev\tsockfs\nnodev\tanon_inodefs\nnodev\toverlay\nnodev\tmqueue\n"

const devicesText = "Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n  5 /dev/tty\n  5 /dev/console\n" +
	"  5 /dev/ptmx\n136 pts\n\nBlock devices:\n"

func numCPU() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil && set.Count() > 0 {
		return set.Count()
	}
	return runtime.NumCPU()
}

func (fs *FS) genMeminfo(vfs.Context) ([]byte, error) {
	total := fs.memTotal / 1024
	var used uint64
	if fs.k.MemFile != nil {
		used = uint64(fs.k.MemFile.InUse()) * 4
	}
	return []byte(formatMeminfo(total, used)), nil
}

// formatMeminfo renders /proc/meminfo from a total and the memory in use
// (kB).
func formatMeminfo(total, used uint64) string {
	used = min(used, total)
	free := total - used
	var b strings.Builder
	l := func(n string, v uint64) { meminfoLine(&b, n, v) }
	l("MemTotal", total)
	l("MemFree", free)
	l("MemAvailable", free)
	l("Buffers", 0)
	l("Cached", 0)
	l("SwapCached", 0)
	l("Active", used)
	l("Inactive", 0)
	l("Active(anon)", used)
	l("Inactive(anon)", 0)
	l("Active(file)", 0)
	l("Inactive(file)", 0)
	l("Unevictable", 0)
	l("Mlocked", 0)
	l("SwapTotal", 0)
	l("SwapFree", 0)
	l("Dirty", 0)
	l("Writeback", 0)
	l("AnonPages", used)
	l("Mapped", 0)
	l("Shmem", 0)
	l("KReclaimable", 0)
	l("Slab", 0)
	l("SReclaimable", 0)
	l("SUnreclaim", 0)
	l("KernelStack", 0)
	l("PageTables", 0)
	l("NFS_Unstable", 0)
	l("Bounce", 0)
	l("WritebackTmp", 0)
	l("CommitLimit", total/2)
	l("Committed_AS", used)
	l("VmallocTotal", 34359738367)
	l("VmallocUsed", 0)
	l("VmallocChunk", 0)
	l("Percpu", 0)
	l("AnonHugePages", 0)
	l("ShmemHugePages", 0)
	l("ShmemPmdMapped", 0)
	l("FileHugePages", 0)
	l("FilePmdMapped", 0)
	fmt.Fprintf(&b, "HugePages_Total:   %5d\nHugePages_Free:    %5d\nHugePages_Rsvd:    %5d\nHugePages_Surp:    %5d\n", 0, 0, 0, 0)
	l("Hugepagesize", 2048)
	l("Hugetlb", 0)
	l("DirectMap4k", 0)
	l("DirectMap2M", total)
	return b.String()
}

// cpuTimes sums the CPU time of every process (ns).
func (fs *FS) cpuTimes() (user, sys int64) {
	for _, tg := range fs.k.ThreadGroups() {
		u, s, _, _ := tg.CPUTimes()
		user += u
		sys += s
	}
	if init := fs.k.InitThreadGroup(); init != nil {
		_, _, cu, cs := init.CPUTimes()
		user += cu
		sys += cs
	}
	return
}

func (fs *FS) genUptime(vfs.Context) ([]byte, error) {
	up := fs.k.Uptime()
	u, s := fs.cpuTimes()
	idle := time.Duration(fs.cpus)*up - time.Duration(u+s)
	if idle < 0 {
		idle = 0
	}
	return []byte(formatUptime(up, idle)), nil
}

func formatUptime(up, idle time.Duration) string {
	c := func(d time.Duration) string {
		cs := d.Milliseconds() / 10
		return fmt.Sprintf("%d.%02d", cs/100, cs%100)
	}
	return c(up) + " " + c(idle) + "\n"
}

func (fs *FS) genLoadavg(vfs.Context) ([]byte, error) {
	live, _ := fs.k.TaskCounts()
	return []byte(fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", max(live, 1), fs.k.LastPID())), nil
}

func (fs *FS) genStat(vfs.Context) ([]byte, error) {
	up := fs.k.Uptime()
	u, s := fs.cpuTimes()
	live, _ := fs.k.TaskCounts()
	return []byte(formatSystemStat(fs.cpus, up, u, s, fs.k.BootTime(), int(fs.k.LastPID()), max(live, 1))), nil
}

// formatSystemStat renders /proc/stat; user and sys are ns of CPU time,
// spread evenly over the CPUs.
func formatSystemStat(cpus int, up time.Duration, user, sys int64, boot time.Time, processes, running int) string {
	if cpus < 1 {
		cpus = 1
	}
	ut, st := clockTicks(user), clockTicks(sys)
	total := clockTicks(int64(up)) * uint64(cpus)
	idle := uint64(0)
	if total > ut+st {
		idle = total - ut - st
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cpu  %d 0 %d %d 0 0 0 0 0 0\n", ut, st, idle)
	n := uint64(cpus)
	for i := 0; i < cpus; i++ {
		fmt.Fprintf(&b, "cpu%d %d 0 %d %d 0 0 0 0 0 0\n", i, ut/n, st/n, idle/n)
	}
	b.WriteString("intr 0\nctxt 0\n")
	fmt.Fprintf(&b, "btime %d\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n", boot.Unix(), processes, running)
	b.WriteString("softirq 0 0 0 0 0 0 0 0 0 0 0\n")
	return b.String()
}

func (fs *FS) genVersion(vfs.Context) ([]byte, error) {
	return []byte(fmt.Sprintf("%s version %s (runsc-lite@runsc-lite) (gcc version 12.2.0, GNU ld 2.40) %s\n",
		OSType, OSRelease, OSVersion)), nil
}

// newSysDir builds /proc/sys.
func (fs *FS) newSysDir(parentIno uint64) *dirNode {
	dir := func(key string, parent uint64, entries func(key string, ino uint64) []child) *dirNode {
		d := fs.newDir(key, parent, 0o555, nil, nil)
		cs := entries(key, d.ino)
		d.list = func(vfs.Context) ([]child, error) { return cs, nil }
		return d
	}
	file := func(key, text string) child {
		name := key[strings.LastIndexByte(key, '/')+1:]
		return childOf(name, fs.newReg(key, 0o444, nil, static(text)))
	}
	kernelDir := func(key string, ino uint64) []child {
		hostname := fs.newReg(key+"/hostname", 0o644, nil, func(vfs.Context) ([]byte, error) {
			h, _ := fs.k.Hostname()
			return []byte(h + "\n"), nil
		})
		hostname.write = func(ctx vfs.Context, src []byte, _ int64) (int, error) {
			if !ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
				return 0, unix.EPERM
			}
			h := strings.TrimSuffix(string(src), "\n")
			if len(h) > 64 {
				return 0, unix.EINVAL
			}
			fs.k.SetHostname(h)
			return len(src), nil
		}
		domain := fs.newReg(key+"/domainname", 0o644, nil, func(vfs.Context) ([]byte, error) {
			_, d := fs.k.Hostname()
			if d == "" {
				d = "(none)"
			}
			return []byte(d + "\n"), nil
		})
		domain.write = func(ctx vfs.Context, src []byte, _ int64) (int, error) {
			if !ctx.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
				return 0, unix.EPERM
			}
			d := strings.TrimSuffix(string(src), "\n")
			if len(d) > 64 {
				return 0, unix.EINVAL
			}
			fs.k.SetDomainname(d)
			return len(src), nil
		}
		random := dir(key+"/random", ino, func(key string, ino uint64) []child {
			return []child{
				file(key+"/boot_id", fs.bootID+"\n"),
				childOf("entropy_avail", fs.newReg(key+"/entropy_avail", 0o444, nil, static("256\n"))),
				childOf("poolsize", fs.newReg(key+"/poolsize", 0o444, nil, static("256\n"))),
				childOf("uuid", fs.newReg(key+"/uuid", 0o444, nil, func(vfs.Context) ([]byte, error) {
					return []byte(newUUID() + "\n"), nil
				})),
			}
		})
		yama := dir(key+"/yama", ino, func(key string, ino uint64) []child {
			return []child{file(key+"/ptrace_scope", "0\n")}
		})
		ipcFile := func(name string) child {
			f := fs.newReg(key+"/"+name, 0o644, nil, func(vfs.Context) ([]byte, error) {
				v, err := fs.k.IPC.Sysctl(name)
				return []byte(v + "\n"), err
			})
			// As Linux's sysctl permission: root (of the namespace)
			// may write, whatever its capabilities.
			f.write = func(ctx vfs.Context, src []byte, _ int64) (int, error) {
				if ctx.Credentials().UID != 0 {
					return 0, unix.EACCES
				}
				if err := fs.k.IPC.SetSysctl(name, string(src)); err != nil {
					return 0, err
				}
				return len(src), nil
			}
			return childOf(name, f)
		}
		return []child{
			file(key+"/cap_last_cap", "40\n"),
			childOf("domainname", domain),
			childOf("hostname", hostname),
			ipcFile("msgmax"),
			ipcFile("msgmnb"),
			ipcFile("msgmni"),
			file(key+"/ngroups_max", "65536\n"),
			file(key+"/osrelease", OSRelease+"\n"),
			file(key+"/ostype", OSType+"\n"),
			file(key+"/pid_max", "4194304\n"),
			childOf("random", random),
			ipcFile("sem"),
			ipcFile("shmall"),
			ipcFile("shmmax"),
			ipcFile("shmmni"),
			file(key+"/threads-max", "4194304\n"),
			file(key+"/version", OSVersion+"\n"),
			childOf("yama", yama),
		}
	}
	vmDir := func(key string, ino uint64) []child {
		return []child{
			file(key+"/max_map_count", "65530\n"),
			file(key+"/mmap_min_addr", "65536\n"),
			file(key+"/overcommit_memory", "0\n"),
			file(key+"/overcommit_ratio", "50\n"),
		}
	}
	fsDir := func(key string, ino uint64) []child {
		inotify := dir(key+"/inotify", ino, func(key string, ino uint64) []child {
			return []child{
				file(key+"/max_queued_events", "16384\n"),
				file(key+"/max_user_instances", "128\n"),
				file(key+"/max_user_watches", "8192\n"),
			}
		})
		mqueue := dir(key+"/mqueue", ino, func(key string, ino uint64) []child {
			return []child{
				file(key+"/msg_default", "10\n"),
				file(key+"/msg_max", "10\n"),
				file(key+"/msgsize_default", "8192\n"),
				file(key+"/msgsize_max", "8192\n"),
				file(key+"/queues_max", "256\n"),
			}
		})
		return []child{
			file(key+"/file-max", "9223372036854775807\n"),
			file(key+"/file-nr", "0\t0\t9223372036854775807\n"),
			childOf("inotify", inotify),
			childOf("mqueue", mqueue),
			file(key+"/nr_open", "1048576\n"),
			file(key+"/pipe-max-size", strconv.Itoa(pipe.MaxSize)+"\n"),
			file(key+"/pipe-user-pages-hard", "0\n"),
			file(key+"/pipe-user-pages-soft", "16384\n"),
		}
	}
	netDir := func(key string, ino uint64) []child {
		core := dir(key+"/core", ino, func(key string, ino uint64) []child {
			return []child{file(key+"/somaxconn", "4096\n")}
		})
		ipv4 := dir(key+"/ipv4", ino, func(key string, ino uint64) []child {
			return []child{
				file(key+"/ip_local_port_range", "32768\t60999\n"),
				childOf("ip_unprivileged_port_start", fs.newReg(key+"/ip_unprivileged_port_start", 0o444, nil, func(vfs.Context) ([]byte, error) {
					return []byte(strconv.Itoa(fs.k.UnprivilegedPortStart) + "\n"), nil
				})),
				file(key+"/tcp_syncookies", "1\n"),
			}
		})
		return []child{childOf("core", core), childOf("ipv4", ipv4)}
	}
	return dir("sys", parentIno, func(key string, ino uint64) []child {
		return []child{
			childOf("fs", dir("sys/fs", ino, fsDir)),
			childOf("kernel", dir("sys/kernel", ino, kernelDir)),
			childOf("net", dir("sys/net", ino, netDir)),
			childOf("vm", dir("sys/vm", ino, vmDir)),
		}
	})
}

// mountEntries lists the mounts of t's namespace visible from t's root
// (like Linux, paths are relative to the target process's root).
func (fs *FS) mountEntries(ctx vfs.Context, t *kernel.Task) []mountEntry {
	root := readerRoot(nil, liveTask(t))
	defer root.DecRef()
	if !root.Ok() {
		return nil
	}
	ns := fs.mountNamespace(t, root)
	if ns == nil {
		return nil
	}
	var out []mountEntry
	for _, m := range fs.v.Mounts(ns) {
		point, err := fs.v.PathOf(root, vfs.Location{Mount: m, Dentry: m.Root()})
		if err != nil || strings.HasPrefix(point, "(unreachable)") {
			continue
		}
		point = strings.TrimSuffix(point, " (deleted)")
		f := m.Filesystem()
		dev := f.Dev()
		parentID := m.ID()
		if p, _ := m.Parent(); p != nil {
			parentID = p.ID()
		}
		name := f.Impl().Name()
		out = append(out, mountEntry{
			ID: m.ID(), ParentID: parentID, Major: unix.Major(dev), Minor: unix.Minor(dev),
			Root: fs.fsPath(m), Point: point, Flags: m.Flags(), FSType: name, Source: mountSource(name),
		})
	}
	return out
}

func mountSource(fstype string) string {
	switch fstype {
	case "", "9p", "gofer", "goferfs":
		return "none"
	}
	return fstype
}

// fsPath returns the path of m's root inside its filesystem (mountinfo's
// root field): "/" unless m is a bind mount of a subdirectory.
func (fs *FS) fsPath(m *vfs.Mount) string {
	f := m.Filesystem()
	if m.Root() == f.Root() {
		return "/"
	}
	// vfs has no dentry-path accessor: measure the path against a private
	// mount of the filesystem's root.
	nsv, ok := fs.scratch.Load(f)
	if !ok {
		nsv, _ = fs.scratch.LoadOrStore(f, fs.v.NewMountNamespace(f, 0))
	}
	r := nsv.(*vfs.MountNamespace).Root()
	p, err := fs.v.PathOf(r, vfs.Location{Mount: r.Mount, Dentry: m.Root()})
	if err != nil {
		return "/"
	}
	return p
}
