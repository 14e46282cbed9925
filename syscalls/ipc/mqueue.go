package ipc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/ipc"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// mqFile is an open message queue descriptor. Reading it shows the queue's
// status line; poll and epoll see its messages and room.
type mqFile struct {
	*ipc.MQueue // Readiness, EventRegister, EventUnregister
	ns          *ipc.Namespace
}

func (m *mqFile) Release(vfs.Context) { m.ns.MQClose(m.MQueue) }

func (m *mqFile) PRead(_ vfs.Context, dst []byte, off int64) (int, error) {
	s := m.Status()
	if off >= int64(len(s)) {
		return 0, nil
	}
	return copy(dst, s[off:]), nil
}

func (m *mqFile) PWrite(vfs.Context, []byte, int64) (int, error) { return 0, unix.EINVAL }

func (m *mqFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		off += cur
	default:
		return 0, unix.EINVAL
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}

// mqOpenFlags are the mq_open flags with a meaning.
const mqOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NONBLOCK | unix.O_CLOEXEC

// MqOpen implements mq_open(2); the C library has removed the leading
// slash of the name.
func MqOpen(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	flags, mode := uint32(a[1]), uint16(a[2])
	name, err := mqName(t, a[0])
	if err != nil {
		return 0, err
	}
	var attr *ipc.MQAttr
	if flags&unix.O_CREAT != 0 && a[3] != 0 {
		var b [32]byte
		if err := copyIn(t, a[3], b[:]); err != nil {
			return 0, err
		}
		attr = &ipc.MQAttr{MaxMsg: int64(le.Uint64(b[8:])), MsgSize: int64(le.Uint64(b[16:]))}
	}
	// An access mode of 3 (read and write bits both) creates a queue the
	// descriptor can neither read nor write, and cannot open one.
	acc := flags & unix.O_ACCMODE
	mode &^= uint16(t.FS.Umask())
	ns := t.Kernel().IPC
	q, err := ns.MQOpen(creds(t), name, flags&unix.O_CREAT != 0, flags&unix.O_EXCL != 0, mode, attr,
		acc == unix.O_RDONLY || acc == unix.O_RDWR, acc == unix.O_WRONLY || acc == unix.O_RDWR, acc == unix.O_ACCMODE,
		t.ThreadGroup().GetLimit(unix.RLIMIT_MSGQUEUE).Cur)
	if err != nil {
		return 0, err
	}
	v := t.Kernel().VFS()
	ctx := t.VFSContext()
	in := v.NewAnonInode(ctx, unix.S_IFREG|uint32(mode))
	f := v.NewFile(v.NewAnonLocation("/"+q.Name(), in, unix.S_IFREG), &mqFile{q, ns}, flags&mqOpenFlags&^(unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC))
	defer f.DecRef(ctx)
	fd, err := t.NewFD(f, flags&unix.O_CLOEXEC != 0)
	return uint64(fd), err
}

// mqName reads a queue name (NAME_MAX bytes at most).
func mqName(t *kernel.Task, addr uint64) (string, error) {
	name, err := t.CopyInString(addr, 256)
	if err == unix.ENAMETOOLONG {
		return "", err
	}
	if err != nil {
		return "", unix.EFAULT
	}
	return name, nil
}

// restartSys makes an interrupted queue operation restartable: like
// Linux, a handler with SA_RESTART restarts it (the timeout is absolute).
func restartSys(err error) error {
	if err == unix.EINTR {
		return kernel.ErrRestartSys
	}
	return err
}

// MqUnlink implements mq_unlink(2).
func MqUnlink(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	name, err := mqName(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.Kernel().IPC.MQUnlink(creds(t), name)
}

// mqDeadline reads an absolute CLOCK_REALTIME timeout (0: none).
func mqDeadline(t *kernel.Task, addr uint64) (kernel.Deadline, error) {
	if addr == 0 {
		return kernel.Deadline{}, nil
	}
	var b [16]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return kernel.Deadline{}, err
	}
	sec, nsec := int64(le.Uint64(b[:])), int64(le.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return kernel.Deadline{}, unix.EINVAL
	}
	return t.Kernel().Clock.At(unix.CLOCK_REALTIME, int64(kernel.SpecDuration(sec, nsec)))
}

// Access a queue descriptor must have.
const (
	mqAny = iota
	mqRead
	mqWrite
)

// mqFileOf returns the queue open at fd and whether the descriptor is
// non-blocking; EBADF if fd is not a queue or lacks the access.
func mqFileOf(t *kernel.Task, fd int32, access int) (*ipc.MQueue, bool, error) {
	f, err := t.GetFile(fd)
	if err != nil {
		return nil, false, unix.EBADF
	}
	defer f.DecRef(t.VFSContext())
	m, ok := f.Impl().(*mqFile)
	if !ok || (access == mqWrite && !f.Writable()) || (access == mqRead && !f.Readable()) {
		return nil, false, unix.EBADF
	}
	return m.MQueue, f.StatusFlags()&unix.O_NONBLOCK != 0, nil
}

// MqTimedsend implements mq_timedsend(2).
func MqTimedsend(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	size, prio := a[2], a[3]
	deadline, err := mqDeadline(t, a[4])
	if err != nil {
		return 0, err
	}
	if prio >= ipc.MQPrioMax {
		return 0, unix.EINVAL
	}
	q, nonblock, err := mqFileOf(t, int32(a[0]), mqWrite)
	if err != nil {
		return 0, err
	}
	if size > uint64(q.Attr().MsgSize) {
		return 0, unix.EMSGSIZE
	}
	data := make([]byte, size)
	if err := copyIn(t, a[1], data); err != nil {
		return 0, err
	}
	c := t.Creds()
	err = q.Send(data, uint32(prio), nonblock, block(t, deadline), ipc.MQSender{TGID: tgid(t), UID: c.RealUID})
	return 0, restartSys(err)
}

// MqTimedreceive implements mq_timedreceive(2).
func MqTimedreceive(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	deadline, err := mqDeadline(t, a[4])
	if err != nil {
		return 0, err
	}
	q, nonblock, err := mqFileOf(t, int32(a[0]), mqRead)
	if err != nil {
		return 0, err
	}
	data, prio, err := q.Receive(int64(min(a[2], 1<<62)), nonblock, block(t, deadline))
	if err != nil {
		return 0, restartSys(err)
	}
	if err := copyOut(t, a[1], data); err != nil {
		return 0, err
	}
	if a[3] != 0 {
		var b [4]byte
		le.PutUint32(b[:], prio)
		if err := copyOut(t, a[3], b[:]); err != nil {
			return 0, err
		}
	}
	return uint64(len(data)), nil
}

// MqGetsetattr implements mq_getsetattr(2): only O_NONBLOCK can change.
func MqGetsetattr(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	var newFlags *uint64
	if a[1] != 0 {
		var b [64]byte
		if err := copyIn(t, a[1], b[:]); err != nil {
			return 0, err
		}
		fl := le.Uint64(b[:])
		if fl&^unix.O_NONBLOCK != 0 {
			return 0, unix.EINVAL
		}
		newFlags = &fl
	}
	f, err := t.GetFile(int32(a[0]))
	if err != nil {
		return 0, unix.EBADF
	}
	ctx := t.VFSContext()
	defer f.DecRef(ctx)
	m, ok := f.Impl().(*mqFile)
	if !ok {
		return 0, unix.EBADF
	}
	attr := m.Attr()
	old := uint64(f.StatusFlags() & unix.O_NONBLOCK)
	if newFlags != nil {
		if err := f.SetStatusFlags(ctx, f.StatusFlags()&^unix.O_NONBLOCK|uint32(*newFlags)); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		var b [64]byte
		for i, v := range []uint64{old, uint64(attr.MaxMsg), uint64(attr.MsgSize), uint64(attr.CurMsgs)} {
			le.PutUint64(b[8*i:], v)
		}
		if err := copyOut(t, a[2], b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sigevent notification kinds.
const (
	sigevSignal = 0
	sigevNone   = 1
	siMesgq     = -3 // SI_MESGQ
)

// MqNotify implements mq_notify(2) for SIGEV_NONE and SIGEV_SIGNAL.
func MqNotify(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	var n *ipc.MQNotification
	if a[1] != 0 {
		var b [16]byte
		if err := copyIn(t, a[1], b[:]); err != nil {
			return 0, err
		}
		value, signo, kind := le.Uint64(b[:]), int32(le.Uint32(b[8:])), int32(le.Uint32(b[12:]))
		switch kind {
		case sigevNone:
			signo = 0
		case sigevSignal:
			if signo < 0 || signo > 64 { // 0 registers without a signal
				return 0, unix.EINVAL
			}
		default:
			return 0, unix.EINVAL // SIGEV_THREAD needs a netlink socket
		}
		n = &ipc.MQNotification{TGID: tgid(t), Signo: signo, Fire: mqSignal(t.Kernel(), tgid(t), signo, value)}
	}
	q, _, err := mqFileOf(t, int32(a[0]), mqAny)
	if err != nil {
		return 0, err
	}
	return 0, q.SetNotify(tgid(t), n)
}

// mqSignal returns the delivery of a SIGEV_SIGNAL notification to process
// tgid (none for SIGEV_NONE).
func mqSignal(k *kernel.Kernel, tgid, signo int32, value uint64) func(ipc.MQSender) {
	return func(s ipc.MQSender) {
		if signo == 0 {
			return
		}
		if t := k.TaskByTID(tgid); t != nil {
			t.ThreadGroup().SendSignal(&kernel.SigInfo{Signo: signo, Code: siMesgq, PID: s.TGID,
				UID: int32(s.UID), Value: value})
		}
	}
}
