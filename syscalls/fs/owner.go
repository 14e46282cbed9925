package fs

import (
	"runtime"
	"sync"
	"weak"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs"
)

// fileSide is per-open-file state the VFS does not keep: the F_SETOWN
// owner and the F_SETSIG signal. It is only recorded, since the kernel does
// not deliver SIGIO yet. Entries are keyed weakly and vanish when the File
// is garbage collected.
type fileSide struct {
	ownerType int32 // F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP
	ownerPID  int32
	sig       int32
}

var (
	sideMu sync.Mutex
	sides  = map[weak.Pointer[vfs.File]]*fileSide{}
)

// sideOf returns f's side state, creating it if create.
func sideOf(f *vfs.File, create bool) *fileSide {
	k := weak.Make(f)
	sideMu.Lock()
	defer sideMu.Unlock()
	s := sides[k]
	if s == nil && create {
		s = &fileSide{ownerType: fOwnerPID}
		sides[k] = s
		runtime.AddCleanup(f, func(k weak.Pointer[vfs.File]) {
			sideMu.Lock()
			delete(sides, k)
			sideMu.Unlock()
		}, k)
	}
	return s
}

// f_owner_ex types.
const (
	fOwnerTID  = 0
	fOwnerPID  = 1
	fOwnerPGRP = 2
)

// fcntlOwner implements F_GETOWN, F_SETOWN, F_GETOWN_EX, F_SETOWN_EX,
// F_GETSIG and F_SETSIG.
func fcntlOwner(t *kernel.Task, f *vfs.File, cmd int32, arg uint64) (uint64, error) {
	switch cmd {
	case unix.F_GETOWN:
		s := sideOf(f, false)
		if s == nil {
			return 0, nil
		}
		sideMu.Lock()
		defer sideMu.Unlock()
		if s.ownerType == fOwnerPGRP {
			return uint64(-int64(s.ownerPID)), nil
		}
		return uint64(int64(s.ownerPID)), nil
	case unix.F_SETOWN:
		pid := argInt(arg)
		typ := int32(fOwnerPID)
		if pid < 0 {
			typ, pid = fOwnerPGRP, -pid
		}
		return 0, setOwner(f, typ, pid)
	case fGetOwnEx:
		var typ, pid int32 = fOwnerPID, 0
		if s := sideOf(f, false); s != nil {
			sideMu.Lock()
			typ, pid = s.ownerType, s.ownerPID
			sideMu.Unlock()
		}
		b := make([]byte, 8)
		le.PutUint32(b[0:], uint32(typ))
		le.PutUint32(b[4:], uint32(pid))
		return 0, copyOut(t, arg, b)
	case fSetOwnEx:
		b := make([]byte, 8)
		if err := copyIn(t, arg, b); err != nil {
			return 0, err
		}
		typ, pid := int32(le.Uint32(b[0:])), int32(le.Uint32(b[4:]))
		if typ < fOwnerTID || typ > fOwnerPGRP || pid < 0 {
			return 0, unix.EINVAL
		}
		return 0, setOwner(f, typ, pid)
	case fGetSig:
		if s := sideOf(f, false); s != nil {
			sideMu.Lock()
			defer sideMu.Unlock()
			return uint64(s.sig), nil
		}
		return 0, nil
	case fSetSig:
		sig := argInt(arg)
		if sig < 0 || sig > 64 {
			return 0, unix.EINVAL
		}
		s := sideOf(f, true)
		sideMu.Lock()
		s.sig = sig
		sideMu.Unlock()
		return 0, nil
	}
	return 0, unix.EINVAL
}

func setOwner(f *vfs.File, typ, pid int32) error {
	s := sideOf(f, true)
	sideMu.Lock()
	s.ownerType, s.ownerPID = typ, pid
	sideMu.Unlock()
	return nil
}
