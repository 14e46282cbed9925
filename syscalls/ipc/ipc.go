// Package ipc implements the System V IPC system calls (semget, semop,
// semtimedop, semctl, msgget, msgsnd, msgrcv, msgctl, shmget, shmat, shmdt,
// shmctl) and POSIX message queues (mq_*), over the sandbox's IPC namespace
// (sentry/ipc).
package ipc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/ipc"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

var le = binary.LittleEndian

// Syscalls returns the System V IPC system calls.
func Syscalls() map[uintptr]kernel.Syscall {
	return map[uintptr]kernel.Syscall{
		unix.SYS_SEMGET:     {Name: "semget", Fn: Semget},
		unix.SYS_SEMOP:      {Name: "semop", Fn: Semop},
		unix.SYS_SEMTIMEDOP: {Name: "semtimedop", Fn: Semtimedop},
		unix.SYS_SEMCTL:     {Name: "semctl", Fn: Semctl},
		unix.SYS_MSGGET:     {Name: "msgget", Fn: Msgget},
		unix.SYS_MSGSND:     {Name: "msgsnd", Fn: Msgsnd},
		unix.SYS_MSGRCV:     {Name: "msgrcv", Fn: Msgrcv, Partial: "MSG_COPY: ENOSYS"},
		unix.SYS_MSGCTL:     {Name: "msgctl", Fn: Msgctl},
		unix.SYS_SHMGET:     {Name: "shmget", Fn: Shmget},
		unix.SYS_SHMAT:      {Name: "shmat", Fn: Shmat},
		unix.SYS_SHMDT:      {Name: "shmdt", Fn: Shmdt},
		unix.SYS_SHMCTL:     {Name: "shmctl", Fn: Shmctl},

		unix.SYS_MQ_OPEN:         {Name: "mq_open", Fn: MqOpen},
		unix.SYS_MQ_UNLINK:       {Name: "mq_unlink", Fn: MqUnlink},
		unix.SYS_MQ_TIMEDSEND:    {Name: "mq_timedsend", Fn: MqTimedsend},
		unix.SYS_MQ_TIMEDRECEIVE: {Name: "mq_timedreceive", Fn: MqTimedreceive},
		unix.SYS_MQ_NOTIFY:       {Name: "mq_notify", Fn: MqNotify, Partial: "SIGEV_THREAD: EINVAL"},
		unix.SYS_MQ_GETSETATTR:   {Name: "mq_getsetattr", Fn: MqGetsetattr},
	}
}

// creds returns the caller's identity for IPC permission checks.
func creds(t *kernel.Task) *ipc.Creds {
	c := t.Creds()
	return &ipc.Creds{UID: c.EffectiveUID, GID: c.EffectiveGID, Groups: c.Groups, Caps: c.Effective}
}

// block waits for an IPC object to change, interruptibly, until the
// deadline (zero: none).
func block(t *kernel.Task, deadline kernel.Deadline) ipc.BlockFunc {
	return func(ch <-chan struct{}) error { return t.Block(ch, deadline) }
}

func tgid(t *kernel.Task) int32 { return t.ThreadGroup().Leader().TID() }

func copyIn(t *kernel.Task, addr uint64, b []byte) error {
	if _, err := t.CopyIn(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

func copyOut(t *kernel.Task, addr uint64, b []byte) error {
	if _, err := t.CopyOut(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

// permSize is sizeof(struct ipc64_perm).
const permSize = 48

// putPerm encodes struct ipc64_perm.
func putPerm(b []byte, p *ipc.Perm) {
	le.PutUint32(b[0:], uint32(p.Key))
	le.PutUint32(b[4:], p.UID)
	le.PutUint32(b[8:], p.GID)
	le.PutUint32(b[12:], p.CUID)
	le.PutUint32(b[16:], p.CGID)
	le.PutUint32(b[20:], uint32(p.Mode))
	le.PutUint16(b[24:], p.Seq)
}

// getPermSet decodes IPC_SET's uid, gid and mode from struct ipc64_perm.
func getPermSet(b []byte) (uid, gid uint32, mode uint16) {
	return le.Uint32(b[4:]), le.Uint32(b[8:]), uint16(le.Uint32(b[20:]))
}
