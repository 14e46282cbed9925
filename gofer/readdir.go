//go:build linux

package gofer

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

const (
	// maxReaddirCount caps entries per Readdir reply.
	maxReaddirCount = 1024
	// readdirBudget keeps a reply well inside MaxMessageSize: each entry
	// costs its name plus at most ~32 bytes of protobuf framing.
	readdirBudget  = MaxMessageSize - 4096
	direntOverhead = 32
)

// readdir reads entries from offset on. The fid is O_PATH, so each call
// opens the directory afresh and seeks: the gofer keeps no per-directory
// state and offsets are the host's d_off cookies. "." and ".." are left
// out because the sentry synthesises them (".." of a mount root is the
// sentry's business). An empty reply means end of directory.
func (s *Server) readdir(r *pb.ReaddirRequest) *pb.Response {
	if r.GetOffset() < 0 {
		return errResponse(unix.EINVAL)
	}
	count := int(r.GetCount())
	if count == 0 || count > maxReaddirCount {
		count = maxReaddirCount
	}
	e, err := s.fids.get(r.GetFid())
	if err != nil {
		return errResponse(err)
	}
	defer e.decRef()
	if e.fileType != unix.S_IFDIR {
		return errResponse(unix.ENOTDIR)
	}
	dfd, err := s.reopen(e.fd, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return errResponse(err)
	}
	defer unix.Close(dfd)
	if _, err := unix.Seek(dfd, r.GetOffset(), unix.SEEK_SET); err != nil {
		return errResponse(err)
	}
	res := &pb.ReaddirResult{}
	budget := readdirBudget
	// Size the buffer for the entries wanted: the host file system does
	// work for every entry it fills in, and the surplus is thrown away.
	buf := make([]byte, min(16<<10, max(1<<10, count*300)))
	for len(res.Entries) < count {
		var n int
		if err := ignoringEINTR(func() (err error) {
			n, err = unix.Getdents(dfd, buf)
			return err
		}); err != nil {
			if len(res.Entries) > 0 {
				break // return what we have; the error will recur
			}
			return errResponse(err)
		}
		if n <= 0 {
			break
		}
		if !parseDirents(buf[:n], res, count, &budget) {
			break
		}
	}
	return &pb.Response{Result: &pb.Response_Readdir{Readdir: res}}
}

// parseDirents appends the linux_dirent64 records in buf to res. It returns
// false when count or the byte budget is reached.
func parseDirents(buf []byte, res *pb.ReaddirResult, count int, budget *int) bool {
	const hdr = 19 // d_ino(8) d_off(8) d_reclen(2) d_type(1)
	for len(buf) >= hdr {
		reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
		if reclen < hdr || reclen > len(buf) {
			return false
		}
		rec := buf[:reclen]
		buf = buf[reclen:]
		nameBytes := rec[hdr:]
		for i, c := range nameBytes {
			if c == 0 {
				nameBytes = nameBytes[:i]
				break
			}
		}
		name := string(nameBytes)
		if name == "." || name == ".." {
			continue
		}
		if len(res.Entries) >= count || *budget < len(name)+direntOverhead {
			return false
		}
		*budget -= len(name) + direntOverhead
		res.Entries = append(res.Entries, &pb.Dirent{
			Name:       name,
			Ino:        binary.NativeEndian.Uint64(rec[0:8]),
			Type:       uint32(rec[18]),
			NextOffset: int64(binary.NativeEndian.Uint64(rec[8:16])),
		})
	}
	return true
}
