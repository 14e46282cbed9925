//go:build linux

package gofer

import (
	"golang.org/x/sys/unix"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

// SetAttr mask bits: which fields of an Attr to apply.
const (
	SetAttrMode = 1 << iota
	SetAttrUID
	SetAttrGID
	SetAttrSize
	SetAttrAtime
	SetAttrMtime

	setAttrAll = SetAttrMode | SetAttrUID | SetAttrGID | SetAttrSize | SetAttrAtime | SetAttrMtime
)

func validNsec(nsec int64) bool {
	return nsec == unix.UTIME_NOW || nsec == unix.UTIME_OMIT || (nsec >= 0 && nsec < 1e9)
}

// setAttr applies size, then owner, then mode (chown may clear set-ID bits,
// so the requested mode must come after it), then times (last, since every
// other change touches ctime/mtime).
func (s *Server) setAttr(r *pb.SetAttrRequest) *pb.Response {
	mask := r.GetMask()
	if mask&^uint32(setAttrAll) != 0 || r.GetMode()&^07777 != 0 ||
		!validNsec(r.GetAtimeNsec()) || !validNsec(r.GetMtimeNsec()) {
		return errResponse(unix.EINVAL)
	}
	e, err := s.fids.get(r.GetFid())
	if err != nil {
		return errResponse(err)
	}
	defer e.decRef()
	if mask != 0 && e.readOnly {
		return errResponse(unix.EROFS)
	}
	if mask&SetAttrSize != 0 {
		if err := s.truncate(e, r.GetSize()); err != nil {
			return errResponse(err)
		}
	}
	if mask&(SetAttrUID|SetAttrGID) != 0 {
		uid, gid := -1, -1
		if mask&SetAttrUID != 0 {
			uid = int(r.GetUid())
		}
		if mask&SetAttrGID != 0 {
			gid = int(r.GetGid())
		}
		if err := chownFD(e.fd, uid, gid); err != nil {
			return errResponse(err)
		}
	}
	if mask&SetAttrMode != 0 {
		if e.fileType == unix.S_IFLNK {
			return errResponse(unix.EOPNOTSUPP)
		}
		if err := s.chmodFD(e.fd, r.GetMode()); err != nil {
			return errResponse(err)
		}
	}
	if mask&(SetAttrAtime|SetAttrMtime) != 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if mask&SetAttrAtime != 0 {
			ts[0] = unix.Timespec{Sec: r.GetAtimeSec(), Nsec: r.GetAtimeNsec()}
		}
		if mask&SetAttrMtime != 0 {
			ts[1] = unix.Timespec{Sec: r.GetMtimeSec(), Nsec: r.GetMtimeNsec()}
		}
		if err := unix.UtimesNanoAt(e.fd, "", ts, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return errResponse(err)
		}
	}
	st, err := statFD(e.fd)
	if err != nil {
		return errResponse(err)
	}
	return &pb.Response{Result: &pb.Response_Stat{Stat: statToProto(&st)}}
}

// truncate needs a writable FD, which O_PATH is not, so it reopens the
// exact inode through /proc/self/fd.
func (s *Server) truncate(e *fidEntry, size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	switch e.fileType {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return unix.EISDIR
	default:
		return unix.EINVAL
	}
	fd, err := s.reopen(e.fd, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return ignoringEINTR(func() error { return unix.Ftruncate(fd, size) })
}
