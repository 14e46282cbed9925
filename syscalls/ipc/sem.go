package ipc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/ipc"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// semOPM is the most operations one semop may carry.
const semOPM = 500

// Semget implements semget(2).
func Semget(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, err := t.Kernel().IPC.SemGet(creds(t), int32(a[0]), int32(a[1]), int32(a[2]))
	return uint64(id), err
}

// Semop implements semop(2).
func Semop(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, semop(t, int32(a[0]), a[1], a[2], 0)
}

// Semtimedop implements semtimedop(2): the timeout is relative.
func Semtimedop(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return 0, semop(t, int32(a[0]), a[1], a[2], a[3])
}

func semop(t *kernel.Task, id int32, sopsAddr, nsops, timeout uint64) error {
	if int64(nsops) < 1 || id < 0 {
		return unix.EINVAL
	}
	if nsops > semOPM {
		return unix.E2BIG
	}
	raw := make([]byte, 6*nsops)
	if err := copyIn(t, sopsAddr, raw); err != nil {
		return err
	}
	ops := make([]ipc.SemBuf, nsops)
	for i := range ops {
		b := raw[6*i:]
		ops[i] = ipc.SemBuf{Num: le.Uint16(b), Op: int16(le.Uint16(b[2:])), Flg: int16(le.Uint16(b[4:]))}
	}
	var deadline kernel.Deadline
	if timeout != 0 {
		var ts [16]byte
		if err := copyIn(t, timeout, ts[:]); err != nil {
			return err
		}
		sec, nsec := int64(le.Uint64(ts[:])), int64(le.Uint64(ts[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return unix.EINVAL
		}
		deadline = t.Kernel().Clock.After(kernel.SpecDuration(sec, nsec))
	}
	return t.Kernel().IPC.SemOp(creds(t), tgid(t), id, ops, block(t, deadline))
}

// semidSize is sizeof(struct semid64_ds).
const semidSize = 104

// Semctl implements semctl(2).
func Semctl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, num, cmd, arg := int32(a[0]), int32(a[1]), int32(a[2])&^ipc.IPC64, a[3]
	ns := t.Kernel().IPC
	var args ipc.SemCtlArgs
	switch cmd {
	case ipc.SemSetVal:
		args.Val = int32(arg)
	case ipc.IPCSet:
		b := make([]byte, semidSize)
		if err := copyIn(t, arg, b); err != nil {
			return 0, err
		}
		args.UID, args.GID, args.Mode = getPermSet(b)
	case ipc.SemSetAll:
		n, err := ns.SemCount(id)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*n)
		if err := copyIn(t, arg, b); err != nil {
			return 0, err
		}
		args.Values = make([]uint16, n)
		for i := range args.Values {
			args.Values[i] = le.Uint16(b[2*i:])
		}
	}
	ret, res, err := ns.SemCtl(creds(t), id, num, cmd, args)
	if err != nil {
		return 0, err
	}
	switch {
	case res.Status != nil:
		b := make([]byte, semidSize)
		putPerm(b, &res.Status.Perm)
		le.PutUint64(b[48:], uint64(res.Status.OTime))
		le.PutUint64(b[64:], uint64(res.Status.CTime))
		le.PutUint64(b[80:], res.Status.NSems)
		err = copyOut(t, arg, b)
	case res.Values != nil:
		b := make([]byte, 2*len(res.Values))
		for i, v := range res.Values {
			le.PutUint16(b[2*i:], v)
		}
		err = copyOut(t, arg, b)
	case res.Info != nil:
		in := res.Info
		b := make([]byte, 40)
		for i, v := range []int32{in.Map, in.MNI, in.MNS, in.MNU, in.MSL, in.OPM, in.UME, in.USZ, in.VMX, in.AEM} {
			le.PutUint32(b[4*i:], uint32(v))
		}
		err = copyOut(t, arg, b)
	}
	if err != nil {
		return 0, err
	}
	return uint64(ret), nil
}
