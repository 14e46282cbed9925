package proc

import (
	"crypto/rand"
	"encoding/binary"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

func systemSyscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_UNAME:         {Name: "uname", Fn: Uname},
		unix.SYS_SETHOSTNAME:   {Name: "sethostname", Fn: Sethostname},
		unix.SYS_SETDOMAINNAME: {Name: "setdomainname", Fn: Setdomainname},
		unix.SYS_SYSINFO:       {Name: "sysinfo", Fn: Sysinfo},
		unix.SYS_GETRANDOM:     {Name: "getrandom", Fn: Getrandom},
		unix.SYS_GETRLIMIT:     {Name: "getrlimit", Fn: Getrlimit},
		unix.SYS_SETRLIMIT:     {Name: "setrlimit", Fn: Setrlimit},
		unix.SYS_PRLIMIT64:     {Name: "prlimit64", Fn: Prlimit64},
		unix.SYS_GETRUSAGE:     {Name: "getrusage", Fn: Getrusage, Partial: "only CPU times and maxrss; the other fields are zero"},
		unix.SYS_SCHED_YIELD:   {Name: "sched_yield", Fn: func(*kernel.Task, *kernel.SyscallArgs) (uint64, error) { runtime.Gosched(); return 0, nil }},
		unix.SYS_GETPRIORITY:   {Name: "getpriority", Fn: Getpriority},
		unix.SYS_SETPRIORITY:   {Name: "setpriority", Fn: Setpriority},
		unix.SYS_PERSONALITY:   {Name: "personality", Fn: Personality, Partial: "kept and inherited; no flag (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC...) has an effect"},
		unix.SYS_UMASK:         {Name: "umask", Fn: Umask},
	}
}

func utsField(s string) []byte {
	b := make([]byte, 65)
	copy(b, s)
	return b[:65]
}

// Uname implements uname(2).
func Uname(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	host, domain := t.Kernel().Hostname()
	var out []byte
	for _, f := range []string{kernel.OSType, host, kernel.OSRelease, kernel.OSVersion, "x86_64", domain} {
		out = append(out, utsField(f)...)
	}
	if _, err := t.CopyOut(a[0], out); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

func readName(t *kernel.Task, addr, n uint64) (string, error) {
	if int64(n) < 0 || n > 64 {
		return "", unix.EINVAL
	}
	if !t.Creds().HasCap(unix.CAP_SYS_ADMIN) {
		return "", unix.EPERM
	}
	b := make([]byte, n)
	if _, err := t.CopyIn(addr, b); err != nil {
		return "", unix.EFAULT
	}
	return string(b), nil
}

// Sethostname implements sethostname(2).
func Sethostname(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	s, err := readName(t, a[0], a[1])
	if err != nil {
		return 0, err
	}
	t.Kernel().SetHostname(s)
	return 0, nil
}

// Setdomainname implements setdomainname(2).
func Setdomainname(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	s, err := readName(t, a[0], a[1])
	if err != nil {
		return 0, err
	}
	t.Kernel().SetDomainname(s)
	return 0, nil
}

// Sysinfo implements sysinfo(2).
func Sysinfo(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	k := t.Kernel()
	b := make([]byte, 112)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(k.Uptime().Seconds()))
	total := k.MemTotal()
	used := min(uint64(k.MemFile.InUse())*4096, total)
	le.PutUint64(b[32:], total)
	le.PutUint64(b[40:], total-used)
	le.PutUint16(b[80:], uint16(len(k.ThreadGroups())))
	le.PutUint32(b[104:], 1) // mem_unit
	if _, err := t.CopyOut(a[0], b); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

const (
	// maxRWCount is Linux's MAX_RW_COUNT, the most one getrandom returns.
	maxRWCount = 0x7ffff000
	// taskSize is TASK_SIZE_MAX: a buffer must end below it (access_ok).
	taskSize = 0x7ffffffff000
	// randomChunk is how much getrandom draws and copies out at a time:
	// the size of a request never becomes the size of a sentry buffer
	// (a guest asking for 2 GiB in many threads at once would otherwise
	// have the sentry allocate as much).
	randomChunk = 64 << 10
)

// Getrandom implements getrandom(2) as Linux's get_random_bytes_user does:
// up to MAX_RW_COUNT bytes, in steps, stopping early (with what it copied)
// at a fault or when a signal is pending.
func Getrandom(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if a[2]&^uint64(unix.GRND_NONBLOCK|unix.GRND_RANDOM|unix.GRND_INSECURE) != 0 ||
		a[2]&(unix.GRND_RANDOM|unix.GRND_INSECURE) == unix.GRND_RANDOM|unix.GRND_INSECURE {
		return 0, unix.EINVAL
	}
	addr, n := a[0], min(a[1], maxRWCount)
	if addr > taskSize || n > taskSize-addr {
		return 0, unix.EFAULT
	}
	buf := make([]byte, min(n, randomChunk))
	var done uint64
	for done < n {
		b := buf[:min(n-done, uint64(len(buf)))]
		rand.Read(b)
		w, err := t.CopyOut(addr+done, b)
		done += uint64(w)
		if err != nil || w < len(b) || (done < n && t.Interrupted()) {
			break
		}
	}
	if done == 0 && n > 0 {
		return 0, unix.EFAULT
	}
	return done, nil
}

func putRlimit(t *kernel.Task, addr uint64, r unix.Rlimit) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], r.Cur)
	binary.LittleEndian.PutUint64(b[8:], r.Max)
	if _, err := t.CopyOut(addr, b[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

// Getrlimit implements getrlimit(2).
func Getrlimit(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if a[0] >= 16 {
		return 0, unix.EINVAL
	}
	return 0, putRlimit(t, a[1], t.ThreadGroup().GetLimit(int(a[0])))
}

// Setrlimit implements setrlimit(2).
func Setrlimit(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return Prlimit64(t, &kernel.SyscallArgs{0, a[0], a[1], 0})
}

// Prlimit64 implements prlimit64(2).
func Prlimit64(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	pid, res, newAddr, oldAddr := int32(a[0]), a[1], a[2], a[3]
	if res >= 16 {
		return 0, unix.EINVAL
	}
	tg := t.ThreadGroup()
	if pid != 0 {
		target := t.Kernel().TaskByTID(pid)
		if target == nil {
			return 0, unix.ESRCH
		}
		tg = target.ThreadGroup()
		if tg != t.ThreadGroup() && !mayPrlimit(t.Creds(), target.Creds()) {
			return 0, unix.EPERM
		}
	}
	old := tg.GetLimit(int(res))
	if newAddr != 0 {
		var b [16]byte
		if _, err := t.CopyIn(newAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		nv := unix.Rlimit{Cur: binary.LittleEndian.Uint64(b[0:]), Max: binary.LittleEndian.Uint64(b[8:])}
		var err error
		if old, err = tg.SetLimit(int(res), nv, t.Creds().HasCap(unix.CAP_SYS_RESOURCE)); err != nil {
			return 0, err
		}
	}
	if oldAddr != 0 {
		return 0, putRlimit(t, oldAddr, old)
	}
	return 0, nil
}

// mayPrlimit reports whether c may read or change the limits of a process
// with credentials tc: its real, effective and saved IDs must all be c's
// real ID, unless c has CAP_SYS_RESOURCE.
func mayPrlimit(c, tc *kernel.Credentials) bool {
	same := c.RealUID == tc.RealUID && c.RealUID == tc.EffectiveUID && c.RealUID == tc.SavedUID &&
		c.RealGID == tc.RealGID && c.RealGID == tc.EffectiveGID && c.RealGID == tc.SavedGID
	return same || c.HasCap(unix.CAP_SYS_RESOURCE)
}

// Getrusage implements getrusage(2) with CPU times.
func Getrusage(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	u, s, cu, cs := t.ThreadGroup().CPUTimes()
	switch int32(a[0]) {
	case unix.RUSAGE_SELF:
	case unix.RUSAGE_CHILDREN:
		u, s = cu, cs
	case unix.RUSAGE_THREAD:
		u, s = t.CPUTimes()
	default:
		return 0, unix.EINVAL
	}
	return 0, copyOutRusage(t, a[1], u, s, int64(t.MM().RSS()*4))
}

// copyOutRusage writes a struct rusage with user and system time (ns)
// and the maximum resident set size (KiB) to addr.
func copyOutRusage(t *kernel.Task, addr uint64, user, sys, maxRSS int64) error {
	b := make([]byte, 144)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(user/1e9))
	le.PutUint64(b[8:], uint64(user%1e9/1e3))
	le.PutUint64(b[16:], uint64(sys/1e9))
	le.PutUint64(b[24:], uint64(sys%1e9/1e3))
	le.PutUint64(b[32:], uint64(maxRSS))
	if _, err := t.CopyOut(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

// Personality implements personality(2): the value is kept and inherited;
// the sentry acts on none of its flags.
func Personality(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	if uint32(a[0]) == 0xffffffff {
		return uint64(t.Personality()), nil
	}
	return uint64(t.SetPersonality(uint32(a[0]))), nil
}

// Umask implements umask(2).
func Umask(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return uint64(t.FS.SwapUmask(uint32(a[0]) & 0o777)), nil
}
