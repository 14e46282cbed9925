//go:build linux

package gofer

import (
	"golang.org/x/sys/unix"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

// Stat mirrors the fields of struct statx. Times are nanoseconds since the
// Unix epoch; Mask says which fields the host filled in (STATX_* bits), so
// Btime is meaningful only when Mask has STATX_BTIME.
type Stat struct {
	Mask       uint32
	Mode       uint32 // file type and permission bits, as st_mode
	Nlink      uint32
	UID        uint32
	GID        uint32
	Size       uint64
	Blocks     uint64
	Blksize    uint32
	Atime      int64
	Mtime      int64
	Ctime      int64
	Btime      int64
	Ino        uint64
	DevMajor   uint32
	DevMinor   uint32
	RdevMajor  uint32
	RdevMinor  uint32
	Attributes uint64
}

// StatFS mirrors struct statfs.
type StatFS struct {
	Type    int64
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Namelen int64
	Frsize  int64
	Flags   int64
}

func stxTime(t unix.StatxTimestamp) int64 {
	return t.Sec*1e9 + int64(t.Nsec)
}

func statToProto(s *unix.Statx_t) *pb.Stat {
	return &pb.Stat{
		Mask:       s.Mask,
		Mode:       uint32(s.Mode),
		Nlink:      s.Nlink,
		Uid:        s.Uid,
		Gid:        s.Gid,
		Size:       s.Size,
		Blocks:     s.Blocks,
		Blksize:    s.Blksize,
		AtimeNs:    stxTime(s.Atime),
		MtimeNs:    stxTime(s.Mtime),
		CtimeNs:    stxTime(s.Ctime),
		BtimeNs:    stxTime(s.Btime),
		Ino:        s.Ino,
		DevMajor:   s.Dev_major,
		DevMinor:   s.Dev_minor,
		RdevMajor:  s.Rdev_major,
		RdevMinor:  s.Rdev_minor,
		Attributes: s.Attributes,
	}
}

func statFromProto(p *pb.Stat) Stat {
	if p == nil {
		return Stat{}
	}
	return Stat{
		Mask:       p.Mask,
		Mode:       p.Mode,
		Nlink:      p.Nlink,
		UID:        p.Uid,
		GID:        p.Gid,
		Size:       p.Size,
		Blocks:     p.Blocks,
		Blksize:    p.Blksize,
		Atime:      p.AtimeNs,
		Mtime:      p.MtimeNs,
		Ctime:      p.CtimeNs,
		Btime:      p.BtimeNs,
		Ino:        p.Ino,
		DevMajor:   p.DevMajor,
		DevMinor:   p.DevMinor,
		RdevMajor:  p.RdevMajor,
		RdevMinor:  p.RdevMinor,
		Attributes: p.Attributes,
	}
}

func statFSToProto(s *unix.Statfs_t) *pb.StatFS {
	return &pb.StatFS{
		Type:    int64(s.Type),
		Bsize:   int64(s.Bsize),
		Blocks:  s.Blocks,
		Bfree:   s.Bfree,
		Bavail:  s.Bavail,
		Files:   s.Files,
		Ffree:   s.Ffree,
		Namelen: int64(s.Namelen),
		Frsize:  int64(s.Frsize),
		Flags:   int64(s.Flags),
	}
}

func statFSFromProto(p *pb.StatFS) StatFS {
	if p == nil {
		return StatFS{}
	}
	return StatFS{
		Type:    p.Type,
		Bsize:   p.Bsize,
		Blocks:  p.Blocks,
		Bfree:   p.Bfree,
		Bavail:  p.Bavail,
		Files:   p.Files,
		Ffree:   p.Ffree,
		Namelen: p.Namelen,
		Frsize:  p.Frsize,
		Flags:   p.Flags,
	}
}
