package ipc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/ipc"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// msgMax is the largest message (MSGMAX).
const msgMax = 8192

// restartNoHand gives an interrupted msgsnd/msgrcv Linux's result: EINTR
// after a signal handler, even with SA_RESTART, but a transparent restart
// after a stop.
func restartNoHand(err error) error {
	if err == unix.EINTR {
		return kernel.ErrRestartNoHand
	}
	return err
}

// Msgget implements msgget(2).
func Msgget(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, err := t.Kernel().IPC.MsgGet(creds(t), int32(a[0]), int32(a[1]))
	return uint64(id), err
}

// Msgsnd implements msgsnd(2): msgp points at a long type and the text.
func Msgsnd(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, msgp, size, flags := int32(a[0]), a[1], a[2], int32(a[3])
	var typ [8]byte
	if err := copyIn(t, msgp, typ[:]); err != nil {
		return 0, err
	}
	if size > msgMax || int64(size) < 0 || id < 0 {
		return 0, unix.EINVAL
	}
	m := ipc.Message{Type: int64(le.Uint64(typ[:])), Text: make([]byte, size)}
	if m.Type < 1 {
		return 0, unix.EINVAL
	}
	if err := copyIn(t, msgp+8, m.Text); err != nil {
		return 0, err
	}
	return 0, restartNoHand(t.Kernel().IPC.MsgSnd(creds(t), tgid(t), id, m, flags, block(t, kernel.Deadline{})))
}

// Msgrcv implements msgrcv(2).
func Msgrcv(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, msgp, size, typ, flags := int32(a[0]), a[1], a[2], int64(a[3]), int32(a[4])
	if id < 0 || int64(size) < 0 {
		return 0, unix.EINVAL
	}
	m, err := t.Kernel().IPC.MsgRcv(creds(t), tgid(t), id, int(min(size, 1<<30)), typ, flags, block(t, kernel.Deadline{}))
	if err != nil {
		return 0, restartNoHand(err)
	}
	b := make([]byte, 8+len(m.Text))
	le.PutUint64(b, uint64(m.Type))
	copy(b[8:], m.Text)
	if err := copyOut(t, msgp, b); err != nil {
		return 0, err
	}
	return uint64(len(m.Text)), nil
}

// msqidSize is sizeof(struct msqid64_ds).
const msqidSize = 120

// Msgctl implements msgctl(2).
func Msgctl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, cmd, buf := int32(a[0]), int32(a[1])&^ipc.IPC64, a[2]
	var set *ipc.MsgStatus
	if cmd == ipc.IPCSet {
		b := make([]byte, msqidSize)
		if err := copyIn(t, buf, b); err != nil {
			return 0, err
		}
		set = &ipc.MsgStatus{QBytes: le.Uint64(b[88:])}
		set.Perm.UID, set.Perm.GID, set.Perm.Mode = getPermSet(b)
	}
	ret, st, info, err := t.Kernel().IPC.MsgCtl(creds(t), id, cmd, set)
	if err != nil {
		return 0, err
	}
	switch {
	case st != nil:
		b := make([]byte, msqidSize)
		putPerm(b, &st.Perm)
		for i, v := range []uint64{uint64(st.STime), uint64(st.RTime), uint64(st.CTime), st.CBytes, st.QNum, st.QBytes} {
			le.PutUint64(b[48+8*i:], v)
		}
		le.PutUint32(b[96:], uint32(st.LSPID))
		le.PutUint32(b[100:], uint32(st.LRPID))
		err = copyOut(t, buf, b)
	case info != nil:
		b := make([]byte, 32)
		for i, v := range []int32{info.Pool, info.Map, info.Max, info.MNB, info.MNI, info.SSZ, info.TQL} {
			le.PutUint32(b[4*i:], uint32(v))
		}
		le.PutUint16(b[28:], info.Seg)
		err = copyOut(t, buf, b)
	}
	if err != nil {
		return 0, err
	}
	return uint64(ret), nil
}
