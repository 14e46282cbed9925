//go:build linux

package gofer

import (
	"golang.org/x/sys/unix"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

// maxWalkNames bounds one Walk so its reply fits in MaxMessageSize.
const maxWalkNames = 256

// handle serves one decoded request. It returns the response and an FD to
// send with it (or -1); the caller closes that FD after sending.
func (s *Server) handle(req *pb.Request) (*pb.Response, int) {
	switch op := req.Op.(type) {
	case *pb.Request_Attach:
		return s.attach(op.Attach)
	case *pb.Request_Walk:
		return s.walk(op.Walk), -1
	case *pb.Request_Stat:
		return s.stat(op.Stat), -1
	case *pb.Request_Open:
		return s.open(op.Open)
	case *pb.Request_Create:
		return s.create(op.Create)
	case *pb.Request_Mkdir:
		return s.mkdir(op.Mkdir), -1
	case *pb.Request_Unlink:
		return s.unlink(op.Unlink), -1
	case *pb.Request_Rename:
		return s.rename(op.Rename), -1
	case *pb.Request_Readlink:
		return s.readlink(op.Readlink), -1
	case *pb.Request_Symlink:
		return s.symlink(op.Symlink), -1
	case *pb.Request_Link:
		return s.link(op.Link), -1
	case *pb.Request_Readdir:
		return s.readdir(op.Readdir), -1
	case *pb.Request_SetAttr:
		return s.setAttr(op.SetAttr), -1
	case *pb.Request_StatFs:
		return s.statFS(op.StatFs), -1
	case *pb.Request_Clunk:
		if err := s.fids.remove(op.Clunk.GetFid()); err != nil {
			return errResponse(err), -1
		}
		return &pb.Response{}, -1
	default:
		return errResponse(unix.EINVAL), -1
	}
}

// fidResponse registers fd (owned from now on by the fid table) as a new
// fid below parent's mount and answers with it.
func (s *Server) newFID(fd int, mount int, readOnly bool, st *unix.Statx_t) *pb.FIDResult {
	e := &fidEntry{fd: fd, mount: mount, readOnly: readOnly, fileType: uint32(st.Mode) & unix.S_IFMT}
	return &pb.FIDResult{Fid: s.fids.add(e, 0), Stat: statToProto(st)}
}

func fidResponse(r *pb.FIDResult) *pb.Response {
	return &pb.Response{Result: &pb.Response_Fid{Fid: r}}
}

func (s *Server) attach(r *pb.AttachRequest) (*pb.Response, int) {
	idx := int(r.GetMount())
	if uint64(r.GetMount()) >= uint64(len(s.mounts)) {
		return errResponse(unix.EINVAL), -1
	}
	m := s.mounts[idx]
	fd, err := unix.FcntlInt(uintptr(m.rootFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return errResponse(err), -1
	}
	st, err := statFD(fd)
	if err != nil {
		unix.Close(fd)
		return errResponse(err), -1
	}
	res := s.newFID(fd, idx, m.readOnly, &st)
	resp := fidResponse(res)
	if !r.GetDirectfs() {
		return resp, -1
	}
	dirFD, err := s.reopen(m.rootFD, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		s.fids.remove(res.Fid)
		return errResponse(err), -1
	}
	resp.HasFd = true
	return resp, dirFD
}

// walk opens names one by one, each relative to the previous one, and
// stops at the first failure, answering with the fids walked so far.
func (s *Server) walk(r *pb.WalkRequest) *pb.Response {
	names := r.GetNames()
	if len(names) == 0 || len(names) > maxWalkNames {
		return errResponse(unix.EINVAL)
	}
	parent, err := s.fids.get(r.GetFid())
	if err != nil {
		return errResponse(err)
	}
	res := &pb.WalkResult{}
	resp := &pb.Response{Result: &pb.Response_Walk{Walk: res}}
	// cur holds a reference of ours, so a Clunk of a fid the client has
	// guessed before we answer cannot close the FD we walk from.
	cur := parent
	defer func() { cur.decRef() }()
	for _, name := range names {
		if err := checkName(name); err != nil {
			resp.Errno = int32(toErrno(err))
			break
		}
		fd, err := openPath(cur.fd, name, 0)
		if err != nil {
			resp.Errno = int32(toErrno(err))
			break
		}
		st, err := statFD(fd)
		if err != nil {
			unix.Close(fd)
			resp.Errno = int32(toErrno(err))
			break
		}
		e := &fidEntry{fd: fd, mount: cur.mount, readOnly: cur.readOnly, fileType: uint32(st.Mode) & unix.S_IFMT}
		fid := s.fids.add(e, 1)
		res.Walked = append(res.Walked, &pb.FIDResult{Fid: fid, Stat: statToProto(&st)})
		cur.decRef()
		cur = e
	}
	return resp
}

func (s *Server) stat(r *pb.StatRequest) *pb.Response {
	e, err := s.fids.get(r.GetFid())
	if err != nil {
		return errResponse(err)
	}
	defer e.decRef()
	st, err := statFD(e.fd)
	if err != nil {
		return errResponse(err)
	}
	return &pb.Response{Result: &pb.Response_Stat{Stat: statToProto(&st)}}
}

// openFlags are the open(2) flags Open accepts; creation and O_PATH are
// not among them (Create creates; fids already are O_PATH).
const openFlags = unix.O_ACCMODE | unix.O_APPEND | unix.O_TRUNC | unix.O_DIRECT | unix.O_DIRECTORY |
	unix.O_NOATIME | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_SYNC | oLargeFile | unix.O_CLOEXEC |
	unix.O_NOFOLLOW | unix.O_NOCTTY

// passFlags are the open flags forwarded to the host open.
const passFlags = unix.O_ACCMODE | unix.O_APPEND | unix.O_TRUNC | unix.O_DIRECT | unix.O_DIRECTORY |
	unix.O_NOATIME | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_SYNC

func (s *Server) open(r *pb.OpenRequest) (*pb.Response, int) {
	flags := int(r.GetFlags())
	if r.GetFlags()&^uint32(openFlags) != 0 || flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return errResponse(unix.EINVAL), -1
	}
	e, err := s.fids.get(r.GetFid())
	if err != nil {
		return errResponse(err), -1
	}
	defer e.decRef()
	acc := flags & unix.O_ACCMODE
	if e.readOnly && (acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0) {
		return errResponse(unix.EROFS), -1
	}
	switch e.fileType {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		if acc != unix.O_RDONLY {
			return errResponse(unix.EISDIR), -1
		}
	case unix.S_IFLNK:
		// O_NOFOLLOW semantics: the sentry resolves symlinks.
		return errResponse(unix.ELOOP), -1
	case unix.S_IFSOCK:
		return errResponse(unix.ENXIO), -1
	default:
		// FIFOs would block the server in open and device nodes would
		// hand out host devices: neither is served.
		return errResponse(unix.EPERM), -1
	}
	fd, err := s.reopen(e.fd, flags&passFlags)
	if err != nil {
		return errResponse(err), -1
	}
	return &pb.Response{HasFd: true}, fd
}

// createFlags are the flags Create accepts; O_CREAT|O_EXCL are implied.
const createFlags = unix.O_ACCMODE | unix.O_APPEND | unix.O_TRUNC | unix.O_DIRECT | unix.O_NOATIME |
	unix.O_NONBLOCK | unix.O_DSYNC | unix.O_SYNC | oLargeFile | unix.O_CLOEXEC | unix.O_CREAT |
	unix.O_EXCL | unix.O_NOFOLLOW | unix.O_NOCTTY

func (s *Server) create(r *pb.CreateRequest) (*pb.Response, int) {
	flags := int(r.GetFlags())
	if r.GetFlags()&^uint32(createFlags) != 0 || flags&unix.O_ACCMODE == unix.O_ACCMODE || r.GetMode()&^07777 != 0 {
		return errResponse(unix.EINVAL), -1
	}
	dir, err := s.writableDir(r.GetDirFid(), r.GetName())
	if err != nil {
		return errResponse(err), -1
	}
	defer dir.decRef()
	name := r.GetName()
	hostFlags := flags&(passFlags&^unix.O_TRUNC&^unix.O_DIRECTORY) | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY
	var fd int
	err = ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(dir.fd, name, hostFlags, r.GetMode())
		return err
	})
	if err != nil {
		return errResponse(err), -1
	}
	res, err := s.finishCreate(dir, name, 0, fd, r.GetUid(), r.GetGid(), r.GetMode())
	if err != nil {
		unix.Close(fd)
		return errResponse(err), -1
	}
	resp := fidResponse(res)
	resp.HasFd = true
	return resp, fd
}

// finishCreate makes the fid for a file just created in dir as name: pathFD
// is taken from openFD when the file is open, else by name (the name cannot
// be swapped for something the mount does not contain). On failure it
// removes the file again so a failed Create leaves nothing behind.
func (s *Server) finishCreate(dir *fidEntry, name string, unlinkFlags int, openFD int, uid, gid, mode uint32) (res *pb.FIDResult, err error) {
	defer func() {
		if err != nil {
			unix.Unlinkat(dir.fd, name, unlinkFlags)
		}
	}()
	var pathFD int
	if openFD >= 0 {
		pathFD, err = s.reopen(openFD, unix.O_PATH)
	} else {
		extra := 0
		if unlinkFlags == unix.AT_REMOVEDIR {
			extra = unix.O_DIRECTORY
		}
		pathFD, err = openPath(dir.fd, name, extra)
	}
	if err != nil {
		return nil, err
	}
	st, err := statFD(pathFD)
	if err == nil {
		var changed bool
		changed, err = s.fixOwnerMode(pathFD, &st, uid, gid, mode, unlinkFlags == unix.AT_REMOVEDIR)
		if err == nil && changed {
			st, err = statFD(pathFD)
		}
	}
	if err != nil {
		unix.Close(pathFD)
		return nil, err
	}
	return s.newFID(pathFD, dir.mount, dir.readOnly, &st), nil
}

// writableDir looks up the directory fid of a request that creates or
// removes name in it, refusing read-only mounts and bad names.
func (s *Server) writableDir(fid uint64, name string) (*fidEntry, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	dir, err := s.fids.get(fid)
	if err != nil {
		return nil, err
	}
	if dir.readOnly {
		dir.decRef()
		return nil, unix.EROFS
	}
	return dir, nil
}

func (s *Server) mkdir(r *pb.MkdirRequest) *pb.Response {
	if r.GetMode()&^07777 != 0 {
		return errResponse(unix.EINVAL)
	}
	dir, err := s.writableDir(r.GetDirFid(), r.GetName())
	if err != nil {
		return errResponse(err)
	}
	defer dir.decRef()
	if err := ignoringEINTR(func() error { return unix.Mkdirat(dir.fd, r.GetName(), r.GetMode()) }); err != nil {
		return errResponse(err)
	}
	res, err := s.finishCreate(dir, r.GetName(), unix.AT_REMOVEDIR, -1, r.GetUid(), r.GetGid(), r.GetMode())
	if err != nil {
		return errResponse(err)
	}
	return fidResponse(res)
}

// maxSymlinkTarget is PATH_MAX less the terminating NUL.
const maxSymlinkTarget = 4095

func (s *Server) symlink(r *pb.SymlinkRequest) *pb.Response {
	target := r.GetTarget()
	if target == "" {
		return errResponse(unix.ENOENT)
	}
	if len(target) > maxSymlinkTarget {
		return errResponse(unix.ENAMETOOLONG)
	}
	dir, err := s.writableDir(r.GetDirFid(), r.GetName())
	if err != nil {
		return errResponse(err)
	}
	defer dir.decRef()
	// A target containing NUL fails here with EINVAL (from x/sys).
	if err := ignoringEINTR(func() error { return unix.Symlinkat(target, dir.fd, r.GetName()) }); err != nil {
		return errResponse(err)
	}
	res, err := s.finishCreate(dir, r.GetName(), 0, -1, r.GetUid(), r.GetGid(), 0777)
	if err != nil {
		return errResponse(err)
	}
	return fidResponse(res)
}

func (s *Server) link(r *pb.LinkRequest) *pb.Response {
	dir, err := s.writableDir(r.GetDirFid(), r.GetName())
	if err != nil {
		return errResponse(err)
	}
	defer dir.decRef()
	target, err := s.fids.get(r.GetTargetFid())
	if err != nil {
		return errResponse(err)
	}
	defer target.decRef()
	if target.mount != dir.mount {
		return errResponse(unix.EXDEV)
	}
	if target.fileType == unix.S_IFDIR {
		return errResponse(unix.EPERM)
	}
	// AT_EMPTY_PATH links the exact inode our FD holds (needs
	// CAP_DAC_READ_SEARCH, which the gofer keeps).
	if err := ignoringEINTR(func() error {
		return unix.Linkat(target.fd, "", dir.fd, r.GetName(), unix.AT_EMPTY_PATH)
	}); err != nil {
		return errResponse(err)
	}
	pathFD, err := openPath(dir.fd, r.GetName(), 0)
	if err != nil {
		return errResponse(err)
	}
	st, err := statFD(pathFD)
	if err != nil {
		unix.Close(pathFD)
		return errResponse(err)
	}
	return fidResponse(s.newFID(pathFD, dir.mount, dir.readOnly, &st))
}

func (s *Server) unlink(r *pb.UnlinkRequest) *pb.Response {
	if r.GetFlags()&^uint32(unix.AT_REMOVEDIR) != 0 {
		return errResponse(unix.EINVAL)
	}
	dir, err := s.writableDir(r.GetDirFid(), r.GetName())
	if err != nil {
		return errResponse(err)
	}
	defer dir.decRef()
	if err := ignoringEINTR(func() error { return unix.Unlinkat(dir.fd, r.GetName(), int(r.GetFlags())) }); err != nil {
		return errResponse(err)
	}
	return &pb.Response{}
}

func (s *Server) rename(r *pb.RenameRequest) *pb.Response {
	// RENAME_WHITEOUT is left out: it makes a device node (CAP_MKNOD).
	if r.GetFlags()&^uint32(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 {
		return errResponse(unix.EINVAL)
	}
	if err := checkName(r.GetNewName()); err != nil {
		return errResponse(err)
	}
	oldDir, err := s.writableDir(r.GetOldDirFid(), r.GetOldName())
	if err != nil {
		return errResponse(err)
	}
	defer oldDir.decRef()
	newDir, err := s.writableDir(r.GetNewDirFid(), r.GetNewName())
	if err != nil {
		return errResponse(err)
	}
	defer newDir.decRef()
	if oldDir.mount != newDir.mount {
		return errResponse(unix.EXDEV)
	}
	if err := ignoringEINTR(func() error {
		return unix.Renameat2(oldDir.fd, r.GetOldName(), newDir.fd, r.GetNewName(), uint(r.GetFlags()))
	}); err != nil {
		return errResponse(err)
	}
	return &pb.Response{}
}

func (s *Server) readlink(r *pb.ReadlinkRequest) *pb.Response {
	e, err := s.fids.get(r.GetFid())
	if err != nil {
		return errResponse(err)
	}
	defer e.decRef()
	if e.fileType != unix.S_IFLNK {
		return errResponse(unix.EINVAL)
	}
	buf := make([]byte, maxSymlinkTarget+1)
	var n int
	if err := ignoringEINTR(func() (err error) {
		n, err = unix.Readlinkat(e.fd, "", buf)
		return err
	}); err != nil {
		return errResponse(err)
	}
	return &pb.Response{Result: &pb.Response_Readlink{Readlink: &pb.ReadlinkResult{Target: string(buf[:n])}}}
}

func (s *Server) statFS(r *pb.StatFSRequest) *pb.Response {
	e, err := s.fids.get(r.GetFid())
	if err != nil {
		return errResponse(err)
	}
	defer e.decRef()
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(e.fd, &st) }); err != nil {
		return errResponse(err)
	}
	return &pb.Response{Result: &pb.Response_StatFs{StatFs: statFSToProto(&st)}}
}
