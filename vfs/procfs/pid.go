package procfs

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// newPIDDir builds /proc/TID (a process, or a thread looked up by TID).
func (fs *FS) newPIDDir(tid int32, parentIno uint64) *dirNode {
	d := fs.newTaskDir(tid, parentIno, fmt.Sprintf("pid/%d", tid), false)
	d.process = true
	return d
}

// ProcessDirTask reports whether f is an open /proc/PID directory and
// returns the task it names (nil once the process is gone):
// pidfd_send_signal(2) takes such a directory in place of a pidfd.
func ProcessDirTask(f *vfs.File) (*kernel.Task, bool) {
	df, ok := f.Impl().(*dirFile)
	if !ok || !df.d.process {
		return nil, false
	}
	return df.d.owner.task(), true
}

// newTaskDir builds /proc/PID or /proc/PID/task/TID (thread: true).
func (fs *FS) newTaskDir(tid int32, parentIno uint64, key string, thread bool) *dirNode {
	ref := &taskRef{fs: fs, tid: tid}
	d := fs.newDir(key, parentIno, 0o555, ref, nil)
	d.statWhenGone = true
	// Cached entries go with the task (lookups then fail with ESRCH).
	d.exists = func(string) bool { return ref.task() != nil }
	d.list = func(vfs.Context) ([]child, error) { return fs.taskEntries(ref, key, d.ino, thread), nil }
	return d
}

// taskEntries returns the entries of a process or thread directory.
func (fs *FS) taskEntries(ref *taskRef, key string, ino uint64, thread bool) []child {
	k := key + "/"
	var out []child
	add := func(name string, in vfs.Inode) { out = append(out, childOf(name, in)) }
	reg := func(name string, mode uint32, gen func(vfs.Context) ([]byte, error)) *regNode {
		r := fs.newReg(k+name, mode, ref, gen)
		add(name, r)
		return r
	}
	withTask := func(f func(ctx vfs.Context, t *kernel.Task) (string, error)) func(vfs.Context) ([]byte, error) {
		return func(ctx vfs.Context) ([]byte, error) {
			t := ref.task()
			if t == nil {
				return nil, unix.ESRCH
			}
			s, err := f(ctx, t)
			return []byte(s), err
		}
	}
	withTaskBytes := func(f func(ctx vfs.Context, t *kernel.Task) ([]byte, error)) func(vfs.Context) ([]byte, error) {
		return func(ctx vfs.Context) ([]byte, error) {
			t := ref.task()
			if t == nil {
				return nil, unix.ESRCH
			}
			return f(ctx, t)
		}
	}

	reg("auxv", 0o400, withTaskBytes(func(_ vfs.Context, t *kernel.Task) ([]byte, error) { return auxvBytes(t), nil }))
	reg("cgroup", 0o444, static("0::/\n"))
	reg("cmdline", 0o444, withTaskBytes(func(_ vfs.Context, t *kernel.Task) ([]byte, error) { return cmdline(t), nil }))
	comm := reg("comm", 0o644, withTask(func(_ vfs.Context, t *kernel.Task) (string, error) { return t.Name() + "\n", nil }))
	comm.write = func(ctx vfs.Context, src []byte, _ int64) (int, error) {
		t := ref.task()
		if t == nil {
			return 0, unix.ESRCH
		}
		c := callerTask(ctx)
		if c != nil && c.ThreadGroup() != t.ThreadGroup() {
			return 0, unix.EINVAL
		}
		n := len(src)
		name := src
		if len(name) > 15 {
			name = name[:15]
		}
		if i := strings.IndexByte(string(name), 0); i >= 0 {
			name = name[:i]
		}
		t.SetName(string(name))
		return n, nil
	}
	fs.addLinks(ref, k, add)
	reg("environ", 0o400, withTaskBytes(func(_ vfs.Context, t *kernel.Task) ([]byte, error) { return environ(t), nil }))
	add("fd", fs.newFDDir(ref, k+"fd", ino))
	add("fdinfo", fs.newFdinfoDir(ref, k+"fdinfo", ino))
	reg("gid_map", 0o644, static(formatIDMap(0, 0, 4294967295)))
	reg("io", 0o400, static("rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"))
	reg("limits", 0o444, withTask(func(_ vfs.Context, t *kernel.Task) (string, error) {
		tg := t.ThreadGroup()
		return formatLimits(func(r int) unix.Rlimit { return tg.GetLimit(r) }), nil
	}))
	reg("loginuid", 0o644, static("4294967295"))
	reg("maps", 0o444, withTask(func(_ vfs.Context, t *kernel.Task) (string, error) {
		m := liveTask(t).MMSafe()
		if m == nil {
			return "", nil
		}
		return formatMaps(m.Mappings()), nil
	}))
	reg("mountinfo", 0o444, withTask(func(ctx vfs.Context, t *kernel.Task) (string, error) {
		return formatMountinfo(fs.mountEntries(ctx, t)), nil
	}))
	reg("mounts", 0o444, withTask(func(ctx vfs.Context, t *kernel.Task) (string, error) {
		return formatMounts(fs.mountEntries(ctx, t)), nil
	}))
	add("net", fs.newDir(k+"net", ino, 0o555, ref, func(vfs.Context) ([]child, error) { return nil, nil }))
	add("ns", fs.newNSDir(ref, k+"ns", ino))
	oomAdj := reg("oom_adj", 0o644, withTask(func(_ vfs.Context, t *kernel.Task) (string, error) {
		v := fs.getOOMAdj(t)
		return strconv.Itoa(v*17/1000) + "\n", nil
	}))
	oomAdj.write = func(ctx vfs.Context, src []byte, _ int64) (int, error) {
		v, err := parseInt(src, -17, 15)
		if err != nil {
			return 0, err
		}
		adj := v * 1000 / 17
		if v == 15 {
			adj = 1000
		}
		return len(src), fs.setOOMAdj(ctx, ref, adj)
	}
	reg("oom_score", 0o444, static("0\n"))
	oomScoreAdj := reg("oom_score_adj", 0o644, withTask(func(_ vfs.Context, t *kernel.Task) (string, error) {
		return strconv.Itoa(fs.getOOMAdj(t)) + "\n", nil
	}))
	oomScoreAdj.write = func(ctx vfs.Context, src []byte, _ int64) (int, error) {
		v, err := parseInt(src, -1000, 1000)
		if err != nil {
			return 0, err
		}
		return len(src), fs.setOOMAdj(ctx, ref, v)
	}
	reg("personality", 0o400, static("00000000\n"))
	reg("sessionid", 0o444, static("4294967295"))
	reg("setgroups", 0o644, static("allow\n"))
	reg("smaps", 0o444, withTask(func(_ vfs.Context, t *kernel.Task) (string, error) {
		m := liveTask(t).MMSafe()
		if m == nil {
			return "", nil
		}
		return smaps(m), nil
	}))
	reg("stat", 0o444, withTask(func(ctx vfs.Context, t *kernel.Task) (string, error) {
		return formatStat(fs.statInfo(ctx, t, !thread)), nil
	}))
	reg("statm", 0o444, withTask(func(_ vfs.Context, t *kernel.Task) (string, error) {
		ms, ok := memOf(t)
		if !ok {
			return "0 0 0 0 0 0 0\n", nil
		}
		return formatStatm(ms), nil
	}))
	reg("status", 0o444, withTask(func(ctx vfs.Context, t *kernel.Task) (string, error) {
		return formatStatus(fs.statusInfo(ctx, t)), nil
	}))
	if !thread {
		add("task", fs.newTaskListDir(ref, k+"task", ino))
	}
	reg("timerslack_ns", 0o644, static("50000\n"))
	reg("uid_map", 0o644, static(formatIDMap(0, 0, 4294967295)))
	reg("wchan", 0o444, static("0"))
	return out
}

// addLinks adds cwd, exe and root.
func (fs *FS) addLinks(ref *taskRef, k string, add func(string, vfs.Inode)) {
	loc := func(which string) func(t *kernel.Task) (vfs.Location, error) {
		return func(t *kernel.Task) (vfs.Location, error) {
			_, fsc := liveTask(t).FilesAndFS()
			if fsc == nil {
				return vfs.Location{}, unix.ENOENT
			}
			var l vfs.Location
			if which == "cwd" {
				l = fsc.Cwd()
			} else {
				l = fsc.Root()
			}
			if !l.Ok() {
				return vfs.Location{}, unix.ENOENT
			}
			return l, nil
		}
	}
	for _, which := range []string{"cwd", "root"} {
		get := loc(which)
		add(which, fs.newMagicLink(k+which, 0o777, ref,
			func(ctx vfs.Context) (string, error) {
				t := ref.task()
				if t == nil {
					return "", unix.ENOENT
				}
				l, err := get(t)
				if err != nil {
					return "", err
				}
				defer l.DecRef()
				return fs.pathOf(ctx, t, l)
			},
			func(ctx vfs.Context) (vfs.Location, error) {
				t := ref.task()
				if t == nil {
					return vfs.Location{}, unix.ENOENT
				}
				return get(t)
			}))
	}
	add("exe", fs.newMagicLink(k+"exe", 0o777, ref,
		func(ctx vfs.Context) (string, error) {
			t := ref.task()
			if t == nil {
				return "", unix.ENOENT
			}
			if el, ok := t.ThreadGroup().Ext.(ExeLocationer); ok {
				if l, ok := el.ExeLocation(); ok {
					defer l.DecRef()
					return fs.pathOf(ctx, t, l)
				}
			}
			if p := exePath(t); p != "" {
				return p, nil
			}
			return "", unix.ENOENT
		},
		func(ctx vfs.Context) (vfs.Location, error) {
			t := ref.task()
			if t == nil {
				return vfs.Location{}, unix.ENOENT
			}
			if el, ok := t.ThreadGroup().Ext.(ExeLocationer); ok {
				if l, ok := el.ExeLocation(); ok {
					return l, nil
				}
			}
			p := exePath(t)
			if p == "" {
				return vfs.Location{}, unix.ENOENT
			}
			// Resolve the recorded path from the process's root.
			_, fsc := liveTask(t).FilesAndFS()
			if fsc == nil {
				return vfs.Location{}, unix.ENOENT
			}
			root := fsc.Root()
			defer root.DecRef()
			if !root.Ok() {
				return vfs.Location{}, unix.ENOENT
			}
			return fs.resolveLocked(ctx, root, p)
		}))
}

// exePath returns the executable path recorded by execve.
func exePath(t *kernel.Task) string {
	if en, ok := t.ThreadGroup().Ext.(ExeNamer); ok {
		return en.ExePath()
	}
	return ""
}

// liveTask returns a task of t's process that has not exited (t itself if
// it is live), for state shared by the process (mm, files, fs).
func liveTask(t *kernel.Task) *kernel.Task {
	tasks := t.ThreadGroup().Tasks()
	for _, o := range tasks {
		if o == t {
			return t
		}
	}
	if len(tasks) > 0 {
		return tasks[0]
	}
	return t
}

// readerRoot returns the root directory paths are shown relative to: the
// reader's, or else the target's. The caller drops the reference.
func readerRoot(ctx vfs.Context, target *kernel.Task) vfs.Location {
	var caller *kernel.Task
	if ctx != nil {
		caller = callerTask(ctx)
	}
	for _, t := range []*kernel.Task{caller, target} {
		if t == nil {
			continue
		}
		if _, fsc := t.FilesAndFS(); fsc != nil {
			if r := fsc.Root(); r.Ok() {
				return r
			}
		}
	}
	return vfs.Location{}
}

// pathOf returns the path of l as seen by the reader. It is called from
// Readlink, where the VFS already holds its namespace lock for reading;
// vfs.PathOf takes that lock again, which would deadlock behind a waiting
// writer, so it runs on another goroutine and a wait that lasts gives up
// with EAGAIN (releasing our read lock lets the writer and then the
// goroutine finish).
func (fs *FS) pathOf(ctx vfs.Context, target *kernel.Task, l vfs.Location) (string, error) {
	root := readerRoot(ctx, target)
	defer root.DecRef()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := fs.v.PathOf(root, l)
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(100 * time.Millisecond):
		return "", unix.EAGAIN
	}
}

// resolveLocked resolves an absolute path from root for Getlink (called
// with the VFS lock held, so it uses the same goroutine trick as pathOf).
func (fs *FS) resolveLocked(ctx vfs.Context, root vfs.Location, p string) (vfs.Location, error) {
	type res struct {
		l   vfs.Location
		err error
	}
	ch := make(chan res, 1)
	root.IncRef()
	go func() {
		defer root.DecRef()
		l, err := fs.v.GetLocation(ctx, root, root, p, 0)
		ch <- res{l, err}
	}()
	select {
	case r := <-ch:
		return r.l, r.err
	case <-time.After(100 * time.Millisecond):
		go func() {
			if r := <-ch; r.err == nil {
				r.l.DecRef()
			}
		}()
		return vfs.Location{}, unix.EAGAIN
	}
}

// memOf returns the memory statistics of t's address space.
func memOf(t *kernel.Task) (memStats, bool) {
	lt := liveTask(t)
	if lt.ThreadGroup().IsZombie() {
		return memStats{}, false
	}
	m := lt.MMSafe()
	if m == nil {
		return memStats{}, false
	}
	return computeMemStats(m.Mappings(), uint64(m.RSS()), exePath(t)), true
}

func (fs *FS) statInfo(ctx vfs.Context, t *kernel.Task, process bool) *statInfo {
	tg := t.ThreadGroup()
	lt := liveTask(t)
	s := &statInfo{
		PID:        t.TID(),
		Comm:       t.Name(),
		State:      t.StateLetter(),
		PPID:       tg.PPID(),
		PGRP:       tg.PGID(),
		Session:    tg.SID(),
		TPGID:      -1,
		Flags:      0x400000, // PF_RANDOMIZE
		Priority:   20 + int64(t.Nice()),
		Nice:       int64(t.Nice()),
		NumThreads: int64(tg.NumThreads()),
		RSSLim:     tg.GetLimit(unix.RLIMIT_RSS).Cur,
		ExitSignal: tg.ExitSignal(),
	}
	if process {
		u, sy, cu, cs := tg.CPUTimes()
		s.UTime, s.STime, s.CUTime, s.CSTime = clockTicks(u), clockTicks(sy), clockTicks(cu), clockTicks(cs)
		for _, o := range tg.Tasks() {
			s.MinFlt += uint64(o.Faults())
		}
	} else {
		u, sy := t.CPUTimes()
		s.UTime, s.STime = clockTicks(u), clockTicks(sy)
		s.MinFlt = uint64(t.Faults())
	}
	if s.State == 'Z' && process && tg.IsZombie() {
		s.NumThreads = 1
	}
	boot, start := t.ProcStartTime()
	s.StartTime = clockTicks(int64(start.Sub(boot)))
	sig := t.ProcSignalState()
	s.Signal = uint64(sig.Pending | sig.SharedPending)
	s.Blocked = uint64(sig.Blocked)
	s.SigIgnore = uint64(sig.Ignored)
	s.SigCatch = uint64(sig.Caught)
	if st, exiting := tg.ExitStatus(); exiting && tg.IsZombie() {
		s.ExitCode = st
	}
	if !tg.IsZombie() {
		if m := lt.MMSafe(); m != nil {
			ms := m.Mappings()
			s.VSize = 0
			for _, x := range ms {
				s.VSize += x.End - x.Start
			}
			s.RSS = uint64(m.RSS())
			s.StartCode, s.EndCode, s.StartData, s.EndData = codeDataBounds(ms, exePath(t))
			s.StartBrk = m.BrkStart()
			s.ArgStart, s.ArgEnd, s.EnvStart, s.EnvEnd = m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd
			for _, x := range ms {
				if x.Name == "[stack]" {
					s.StartStack = x.End
				}
			}
			if m.ArgStart != 0 {
				// The initial stack pointer lies below argv; argc's
				// address is not recorded, so show the lowest string.
				s.StartStack = m.ArgStart &^ 15
			}
		}
	}
	return s
}

// codeDataBounds approximates start_code/end_code (the executable mapping
// of the program) and start_data/end_data (its writable mapping).
func codeDataBounds(ms []mm.Mapping, exe string) (sc, ec, sd, ed uint64) {
	for _, m := range ms {
		if m.Name == "" || m.Name[0] != '/' || (exe != "" && m.Name != exe) {
			continue
		}
		if exe == "" && m.Offset != 0 && sc == 0 {
			continue
		}
		if m.Perm.Execute && sc == 0 {
			sc, ec = m.Start, m.End
		} else if m.Perm.Write && sc != 0 && sd == 0 {
			sd, ed = m.Start, m.End
		}
		if exe == "" && sc != 0 && sd != 0 {
			break
		}
	}
	return
}

func (fs *FS) statusInfo(ctx vfs.Context, t *kernel.Task) *statusInfo {
	tg := t.ThreadGroup()
	c := t.Creds()
	s := &statusInfo{
		Name:    t.Name(),
		State:   t.StateLetter(),
		Tgid:    tg.ID(),
		Pid:     t.TID(),
		PPid:    tg.PPID(),
		PGID:    tg.PGID(),
		SID:     tg.SID(),
		Threads: tg.NumThreads(),
		CPUs:    fs.cpus,
	}
	if c != nil {
		s.UID = [4]uint32{c.RealUID, c.EffectiveUID, c.SavedUID, c.FSUID}
		s.GID = [4]uint32{c.RealGID, c.EffectiveGID, c.SavedGID, c.FSGID}
		s.Groups = c.Groups
		s.CapInh, s.CapPrm, s.CapEff, s.CapBnd, s.CapAmb = c.Inheritable, c.Permitted, c.Effective, c.Bounding, c.Ambient
	}
	files, fsc := liveTask(t).FilesAndFS()
	s.FDSize = 64
	if files != nil {
		for s.FDSize < files.Size() {
			s.FDSize *= 2
		}
	}
	if fsc != nil {
		s.Umask, s.HaveUmask = fsc.Umask(), true
	}
	if tg.IsZombie() {
		s.Threads = 1
	}
	s.Mem, s.HaveMM = memOf(t)
	sig := t.ProcSignalState()
	s.SigQueued = uint64(sig.Queued)
	s.SigLimit = tg.GetLimit(unix.RLIMIT_SIGPENDING).Cur
	s.SigPnd, s.ShdPnd = uint64(sig.Pending), uint64(sig.SharedPending)
	s.SigBlk, s.SigIgn, s.SigCgt = uint64(sig.Blocked), uint64(sig.Ignored), uint64(sig.Caught)
	s.NoNewPrivs = t.NoNewPrivs()
	s.Seccomp, s.SeccompFilters = t.SeccompMode(), t.SeccompFilters()
	return s
}

// readMem reads guest memory [start, end), stopping at the first fault.
func readMem(m *mm.MM, start, end uint64) []byte {
	if m == nil || end <= start || end-start > 1<<24 {
		return nil
	}
	buf := make([]byte, end-start)
	n, _ := m.CopyIn(start, buf)
	return buf[:n]
}

// cmdline implements /proc/PID/cmdline, including Linux's handling of a
// process that overwrote its arguments (setproctitle): when the last byte
// of the argument area is not NUL the text runs on into the environment
// area up to the first NUL.
func cmdline(t *kernel.Task) []byte {
	lt := liveTask(t)
	if lt.ThreadGroup().IsZombie() {
		return nil
	}
	m := lt.MMSafe()
	if m == nil || m.ArgEnd <= m.ArgStart {
		return nil
	}
	args := readMem(m, m.ArgStart, m.ArgEnd)
	if len(args) == 0 || args[len(args)-1] == 0 {
		return args
	}
	envEnd := m.ArgEnd
	if m.EnvStart == m.ArgEnd && m.EnvEnd >= m.EnvStart {
		envEnd = m.EnvEnd
	}
	all := readMem(m, m.ArgStart, envEnd)
	for i, c := range all {
		if c == 0 {
			return all[:i+1]
		}
	}
	return all
}

func environ(t *kernel.Task) []byte {
	lt := liveTask(t)
	if lt.ThreadGroup().IsZombie() {
		return nil
	}
	m := lt.MMSafe()
	if m == nil {
		return nil
	}
	return readMem(m, m.EnvStart, m.EnvEnd)
}

func auxvBytes(t *kernel.Task) []byte {
	m := liveTask(t).MMSafe()
	if m == nil {
		return nil
	}
	av := m.Auxv
	if len(av)%2 == 1 {
		av = av[:len(av)-1]
	}
	if len(av) < 2 || av[len(av)-2] != 0 {
		av = append(append([]uint64(nil), av...), 0, 0)
	}
	b := make([]byte, 8*len(av))
	for i, v := range av {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// smaps renders /proc/PID/smaps. Residency is counted page by page for
// mappings up to 256 MiB (larger ones show Rss 0).
func smaps(m *mm.MM) string {
	var b strings.Builder
	for _, x := range m.Mappings() {
		var rss uint64
		if x.End-x.Start <= 256<<20 {
			for a := x.Start; a < x.End; a += 4096 {
				if m.Resident(a) {
					rss += 4096
				}
			}
		}
		b.WriteString(formatSmapsEntry(x, rss))
	}
	return b.String()
}

func parseInt(src []byte, lo, hi int) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(string(src)))
	if err != nil || v < lo || v > hi {
		return 0, unix.EINVAL
	}
	return v, nil
}

func (fs *FS) getOOMAdj(t *kernel.Task) int {
	if v, ok := fs.oomAdj.Load(t.ThreadGroup()); ok {
		return v.(int)
	}
	return 0
}

// setOOMAdj stores oom_score_adj; lowering it needs CAP_SYS_RESOURCE.
func (fs *FS) setOOMAdj(ctx vfs.Context, ref *taskRef, v int) error {
	t := ref.task()
	if t == nil {
		return unix.ESRCH
	}
	if v < fs.getOOMAdj(t) && !ctx.Credentials().HasCap(unix.CAP_SYS_RESOURCE) {
		return unix.EACCES
	}
	fs.oomAdj.Store(t.ThreadGroup(), v)
	return nil
}

// newNSDir builds /proc/PID/ns: links naming the (single) namespaces.
func (fs *FS) newNSDir(ref *taskRef, key string, parentIno uint64) *dirNode {
	names := []struct {
		name string
		ino  uint64
	}{
		{"cgroup", 4026531835}, {"ipc", 4026531839}, {"mnt", 4026531841}, {"net", 4026531840},
		{"pid", 4026531836}, {"pid_for_children", 4026531836}, {"time", 4026531834},
		{"time_for_children", 4026531834}, {"user", 4026531837}, {"uts", 4026531838},
	}
	return fs.newDir(key, parentIno, 0o511, ref, func(vfs.Context) ([]child, error) {
		var out []child
		for _, n := range names {
			kind := strings.TrimSuffix(n.name, "_for_children")
			target := fmt.Sprintf("%s:[%d]", kind, n.ino)
			out = append(out, childOf(n.name, fs.newLink(key+"/"+n.name, ref,
				func(vfs.Context) (string, error) { return target, nil })))
		}
		return out, nil
	})
}

// newTaskListDir builds /proc/PID/task.
func (fs *FS) newTaskListDir(ref *taskRef, key string, parentIno uint64) *dirNode {
	d := fs.newDir(key, parentIno, 0o555, ref, nil)
	d.list = func(vfs.Context) ([]child, error) {
		t := ref.task()
		if t == nil {
			return nil, unix.ENOENT
		}
		var out []child
		for _, o := range t.ThreadGroup().Tasks() {
			tid := o.TID()
			c := childOf(strconv.Itoa(int(tid)), fs.newTaskDir(tid, d.ino, fmt.Sprintf("%s/%d", key, tid), true))
			c.off = 2 + int64(tid)
			out = append(out, c)
		}
		return out, nil
	}
	d.exists = fs.taskExists
	d.lookup = func(ctx vfs.Context, name string) (vfs.Inode, error) {
		t := ref.task()
		if t == nil {
			return nil, unix.ENOENT
		}
		tid, err := strconv.ParseInt(name, 10, 32)
		if err != nil {
			return nil, unix.ENOENT
		}
		o := fs.k.TaskByTID(int32(tid))
		if o == nil || o.ThreadGroup() != t.ThreadGroup() {
			return nil, unix.ENOENT
		}
		return fs.newTaskDir(int32(tid), d.ino, fmt.Sprintf("%s/%d", key, tid), true), nil
	}
	return d
}
