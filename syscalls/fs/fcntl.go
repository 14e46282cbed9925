package fs

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
)

// fcntl commands not all spelled by x/sys.
const (
	fSetOwnEx     = 15
	fGetOwnEx     = 16
	fSetSig       = 10
	fGetSig       = 11
	fSetLease     = 1024
	fGetLease     = 1025
	fNotify       = 1026
	fDupfdCloexec = 1030
	fSetPipeSz    = 1031
	fGetPipeSz    = 1032
	fAddSeals     = 1033
	fGetSeals     = 1034
	fGetRwHint    = 1035
	fSetRwHint    = 1036
)

// Fcntl implements fcntl(2).
func Fcntl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	fd, cmd, arg := argFD(a[0]), argInt(a[1]), a[2]
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	// O_PATH descriptors serve only the descriptor-level commands.
	switch cmd {
	case unix.F_DUPFD, fDupfdCloexec, unix.F_GETFD, unix.F_SETFD, unix.F_GETFL:
	default:
		if f.IsPath() {
			return 0, unix.EBADF
		}
	}
	switch cmd {
	case unix.F_DUPFD, fDupfdCloexec:
		return fcntlDup(t, f, arg, cmd == fDupfdCloexec)
	case unix.F_GETFD:
		g, cloexec, err := t.Files.Get(fd)
		if err != nil {
			return 0, err
		}
		g.DecRef(ctx(t))
		if cloexec {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		return 0, t.Files.SetCloexec(fd, arg&unix.FD_CLOEXEC != 0)
	case unix.F_GETFL:
		return uint64(f.StatusFlags()), nil
	case unix.F_SETFL:
		return 0, f.SetStatusFlags(ctx(t), uint32(arg))
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		return 0, fcntlLock(t, f, cmd, arg)
	case unix.F_GETOWN, unix.F_SETOWN, fGetOwnEx, fSetOwnEx, fGetSig, fSetSig:
		return fcntlOwner(t, f, cmd, arg)
	case fGetPipeSz, fSetPipeSz:
		return fcntlPipe(t, f, cmd, arg)
	case fAddSeals, fGetSeals:
		return fcntlSeals(t, f, cmd, arg)
	case fGetLease:
		return unix.F_UNLCK, nil
	case fSetLease, fNotify:
		// Leases and dnotify need kernel machinery we do not have.
		return 0, unix.EINVAL
	case fGetRwHint, fSetRwHint:
		return fcntlRwHint(t, cmd, arg)
	}
	return 0, unix.EINVAL
}

// fcntlDup implements F_DUPFD and F_DUPFD_CLOEXEC: the lowest free
// descriptor >= arg, EINVAL if arg is beyond RLIMIT_NOFILE.
func fcntlDup(t *kernel.Task, f *vfs.File, arg uint64, cloexec bool) (uint64, error) {
	min := uint64(argUint(arg))
	if min >= t.NoFileLimit() || min > 1<<31-1 {
		return 0, unix.EINVAL
	}
	fd, err := t.Files.NewFD(f, int32(min), cloexec, t.NoFileLimit())
	return uint64(fd), err
}

// fcntlPipe implements F_GETPIPE_SZ and F_SETPIPE_SZ; other files are
// EBADF, as in Linux.
func fcntlPipe(t *kernel.Task, f *vfs.File, cmd int32, arg uint64) (uint64, error) {
	e, ok := f.Impl().(*pipe.Endpoint)
	if !ok {
		return 0, unix.EBADF
	}
	if cmd == fGetPipeSz {
		return uint64(e.PipeSize()), nil
	}
	n, err := e.SetPipeSize(ctx(t), int64(argUint(arg)))
	return uint64(n), err
}

// rwHint holds F_SET_RW_HINT values per file: advisory only.
const rwHintMax = 5

func fcntlRwHint(t *kernel.Task, cmd int32, arg uint64) (uint64, error) {
	b := make([]byte, 8)
	if cmd == fGetRwHint {
		return 0, copyOut(t, arg, b)
	}
	if err := copyIn(t, arg, b); err != nil {
		return 0, err
	}
	if le.Uint64(b) > rwHintMax {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// lockKey returns the lock-table key of f.
func lockKey(t *kernel.Task, f *vfs.File) (fileKey, error) {
	st, err := f.Stat(ctx(t))
	if err != nil {
		return fileKey{}, err
	}
	return fileKey{vfs: f.VFS(), dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino}, nil
}

// processOwner is the owner of t's POSIX locks: its thread group.
func processOwner(t *kernel.Task) *lockOwner {
	tg := t.ThreadGroup()
	return &lockOwner{id: tg, pid: tg.ID(), posix: true, alive: func() bool { return tg.NumThreads() > 0 }}
}

// fileOwner is the owner of an open file description's OFD and flock
// locks. It is alive while the file has references.
func fileOwner(f *vfs.File) *lockOwner {
	return &lockOwner{id: f, pid: -1, alive: func() bool {
		if !f.TryIncRef() {
			return false
		}
		f.DecRef(vfs.NewContext(vfs.RootCredentials()))
		return true
	}}
}

// releasePOSIXLocks drops the caller's process locks on f's file (any
// close of a descriptor of the file does that).
func releasePOSIXLocks(t *kernel.Task, f *vfs.File) {
	if !locks.hasLocks() || f.IsPath() {
		return
	}
	k, err := lockKey(t, f)
	if err != nil {
		return
	}
	locks.releaseOwner(&k, t.ThreadGroup())
}

// releaseFileLocks drops f's OFD and flock locks once f is released.
func releaseFileLocks(f *vfs.File) {
	if locks.hasLocks() {
		locks.releaseOwner(nil, f)
	}
}

// fcntlLock implements the record-lock commands.
func fcntlLock(t *kernel.Task, f *vfs.File, cmd int32, arg uint64) error {
	b := make([]byte, flockSize)
	if err := copyIn(t, arg, b); err != nil {
		return err
	}
	fl := decodeFlock(b)
	ofd := cmd == unix.F_OFD_GETLK || cmd == unix.F_OFD_SETLK || cmd == unix.F_OFD_SETLKW
	if ofd && fl.pid != 0 {
		return unix.EINVAL
	}
	owner := processOwner(t)
	if ofd {
		owner = fileOwner(f)
	}
	if fl.typ != lockRead && fl.typ != lockWrite && fl.typ != lockUnlock {
		return unix.EINVAL
	}
	var size int64
	if fl.whence == unix.SEEK_END {
		st, err := f.Stat(ctx(t))
		if err != nil {
			return err
		}
		size = int64(st.Size)
	}
	start, end, err := lockSpan(fl, f.Offset(), size)
	if err != nil {
		return err
	}
	k, err := lockKey(t, f)
	if err != nil {
		return err
	}
	if cmd == unix.F_GETLK || cmd == unix.F_OFD_GETLK {
		if fl.typ == lockUnlock && !ofd {
			return unix.EINVAL
		}
		out := flockRange{typ: lockUnlock, whence: fl.whence, start: fl.start, len: fl.len, pid: fl.pid}
		if c, found := locks.testRecord(k, owner.id, fl.typ, start, end); found {
			out = spanToFlock(c)
		}
		return copyOut(t, arg, encodeFlock(out))
	}
	if (fl.typ == lockRead && !f.Readable()) || (fl.typ == lockWrite && !f.Writable()) {
		return unix.EBADF
	}
	wait := cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW
	return lockWait(t, wait, func() error {
		return locks.setRecord(k, owner, fl.typ, start, end, wait)
	}, owner.id)
}

// lockRecheck bounds how long a blocked locker sleeps before looking again
// for holders that died without releasing their locks.
const lockRecheck = 100 * time.Millisecond

// lockWait runs try, and if wait, retries it each time a lock is released
// until it stops failing with EAGAIN. A signal restarts the call.
func lockWait(t *kernel.Task, wait bool, try func() error, owner any) error {
	defer locks.stopWaiting(owner)
	for {
		ch := locks.waitChan()
		err := try()
		if err != unix.EAGAIN || !wait {
			return err
		}
		if berr := t.Block(ch, t.Kernel().Clock.After(lockRecheck)); berr == kernel.ErrInterrupted {
			return kernel.ErrRestartSys
		}
	}
}

// flock(2) operations.
const (
	lockSH   = 1
	lockEX   = 2
	lockNB   = 4
	lockUN   = 8
	lockMand = 32 // LOCK_MAND: ignored since Linux 5.15
)

// Flock implements flock(2).
func Flock(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	op := argUint(a[1])
	if op&lockMand != 0 {
		// Linux ignores the long-broken LOCK_MAND requests (with a
		// warning) before it even looks at the descriptor.
		return 0, nil
	}
	var typ int16
	switch op &^ lockNB {
	case lockSH:
		typ = lockRead
	case lockEX:
		typ = lockWrite
	case lockUN:
		typ = lockUnlock
	default:
		return 0, unix.EINVAL
	}
	f, err := getIOFile(t, argFD(a[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx(t))
	if typ != lockUnlock && !f.Readable() && !f.Writable() {
		return 0, unix.EBADF // access mode 3 allows neither
	}
	k, err := lockKey(t, f)
	if err != nil {
		return 0, err
	}
	owner := fileOwner(f)
	wait := op&lockNB == 0 && typ != lockUnlock
	return 0, lockWait(t, wait, func() error { return locks.setFlock(k, owner, typ) }, f)
}
