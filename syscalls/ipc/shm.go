package ipc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/ipc"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// shmat flags.
const (
	shmRdonly = 0o10000
	shmRnd    = 0o20000
	shmRemap  = 0o40000
	shmExec   = 0o100000
	shmLBA    = linux.PageSize
)

// Shmget implements shmget(2).
func Shmget(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	k := t.Kernel()
	id, err := k.IPC.ShmGet(creds(t), tgid(t), int32(a[0]), a[1], int32(a[2]), func() mm.Mappable {
		return mm.NewSharedMemory(k.MemFile)
	})
	return uint64(id), err
}

// Shmat implements shmat(2): the segment is mapped shared, at addr (rounded
// down with SHM_RND) if given.
func Shmat(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, addr, flags := int32(a[0]), a[1], int32(a[2])
	if addr&(shmLBA-1) != 0 {
		if flags&shmRnd == 0 {
			return 0, unix.EINVAL
		}
		addr &^= shmLBA - 1
	}
	if addr == 0 && flags&shmRemap != 0 {
		return 0, unix.EINVAL
	}
	att, err := t.Kernel().IPC.ShmAt(creds(t), tgid(t), id, flags&shmRdonly == 0)
	if err != nil {
		return 0, err
	}
	o := mm.MapOpts{
		Addr: addr, Length: att.Size(), Shared: true, File: att,
		Perm:      platform.Access{Read: true, Write: flags&shmRdonly == 0, Execute: flags&shmExec != 0},
		MaxPerm:   platform.Access{Read: true, Write: flags&shmRdonly == 0, Execute: true},
		Fixed:     addr != 0 && flags&shmRemap != 0,
		NoReplace: addr != 0 && flags&shmRemap == 0,
		Name:      fmt.Sprintf("/SYSV%08x (deleted)", uint32(att.Key())),
	}
	got, err := t.MM().Map(o)
	if err == unix.EEXIST {
		return 0, unix.EINVAL // the range is in use and SHM_REMAP was not given
	}
	return got, err
}

// Shmdt implements shmdt(2).
func Shmdt(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	addr := a[0]
	if addr&(linux.PageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	att, ok := t.MM().ObjectAt(addr).(*ipc.ShmAttachment)
	if !ok {
		return 0, unix.EINVAL
	}
	if err := t.MM().UnmapObject(addr, att, att.Size()); err != nil {
		return 0, err
	}
	t.Kernel().IPC.ShmDetached(att, tgid(t))
	return 0, nil
}

// Sizes of shmctl's structures: struct shmid64_ds, shminfo64 and shm_info.
const (
	shmidSize   = 112
	shminfoSize = 72
	shmInfoSize = 48
)

// Shmctl implements shmctl(2).
func Shmctl(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	id, cmd, buf := int32(a[0]), int32(a[1])&^ipc.IPC64, a[2]
	var set *ipc.ShmStatus
	if cmd == ipc.IPCSet {
		b := make([]byte, shmidSize)
		if err := copyIn(t, buf, b); err != nil {
			return 0, err
		}
		set = &ipc.ShmStatus{}
		set.Perm.UID, set.Perm.GID, set.Perm.Mode = getPermSet(b)
	}
	ret, st, info, err := t.Kernel().IPC.ShmCtl(creds(t), id, cmd, set)
	if err != nil {
		return 0, err
	}
	switch {
	case st != nil:
		b := make([]byte, shmidSize)
		putPerm(b, &st.Perm)
		le.PutUint64(b[48:], st.Size)
		le.PutUint64(b[56:], uint64(st.ATime))
		le.PutUint64(b[64:], uint64(st.DTime))
		le.PutUint64(b[72:], uint64(st.CTime))
		le.PutUint32(b[80:], uint32(st.CPID))
		le.PutUint32(b[84:], uint32(st.LPID))
		le.PutUint64(b[88:], st.NAttch)
		return uint64(ret), copyOut(t, buf, b)
	case info != nil && cmd == ipc.IPCInfo:
		b := make([]byte, shminfoSize)
		for i, v := range []uint64{info.Max, info.Min, info.MNI, info.Seg, info.All} {
			le.PutUint64(b[i*8:], v)
		}
		return uint64(ret), copyOut(t, buf, b)
	case info != nil:
		b := make([]byte, shmInfoSize)
		le.PutUint32(b[0:], uint32(info.Used))
		le.PutUint64(b[8:], info.Tot)
		le.PutUint64(b[16:], info.RSS)
		return uint64(ret), copyOut(t, buf, b)
	}
	return uint64(ret), nil
}
