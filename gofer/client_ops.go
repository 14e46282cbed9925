//go:build linux

package gofer

import (
	"fmt"

	"golang.org/x/sys/unix"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

// WalkResult is one component walked by Walk.
type WalkResult struct {
	FID  uint64
	Stat Stat
}

// Dirent is one directory entry. Off is the offset to pass to Readdir to
// continue after this entry; Type is a DT_* value.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8
	Off  int64
}

// Attr holds the attributes SetAttr changes; Mask (SetAttr* bits) says
// which. Atime/Mtime Nsec may be unix.UTIME_NOW or unix.UTIME_OMIT.
type Attr struct {
	Mask  uint32
	Mode  uint32 // permission bits only (07777)
	UID   uint32
	GID   uint32
	Size  int64
	Atime unix.Timespec
	Mtime unix.Timespec
}

func fidResult(resp *pb.Response) (uint64, Stat, error) {
	r := resp.GetFid()
	if r == nil {
		return 0, Stat{}, fmt.Errorf("gofer: response without fid result")
	}
	return r.Fid, statFromProto(r.Stat), nil
}

// Attach returns a fid for the root of mount (0 is the sandbox root) and,
// when c.DirectFS is set, an O_RDONLY|O_DIRECTORY FD of it (else -1).
func (c *Client) Attach(mount int) (fid uint64, st Stat, dirFD int, err error) {
	if mount < 0 || mount > 1<<31 {
		return 0, Stat{}, -1, unix.EINVAL
	}
	resp, fd, err := c.call(&pb.Request{Op: &pb.Request_Attach{Attach: &pb.AttachRequest{
		Mount: uint32(mount), Directfs: c.DirectFS,
	}}})
	if err != nil {
		return 0, Stat{}, -1, err
	}
	fid, st, err = fidResult(resp)
	if err != nil && fd >= 0 {
		unix.Close(fd)
		fd = -1
	}
	return fid, st, fd, err
}

// Walk walks names from the directory fid, one component at a time, never
// following symlinks. It returns one result (a new fid) per component
// walked; if it stopped early, err says why and the results so far are
// still returned (and must be clunked).
func (c *Client) Walk(fid uint64, names []string) ([]WalkResult, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_Walk{Walk: &pb.WalkRequest{Fid: fid, Names: names}}})
	if resp == nil {
		return nil, err
	}
	walked := resp.GetWalk().GetWalked()
	out := make([]WalkResult, len(walked))
	for i, w := range walked {
		out[i] = WalkResult{FID: w.Fid, Stat: statFromProto(w.Stat)}
	}
	if err == nil && len(out) != len(names) {
		err = fmt.Errorf("gofer: walked %d of %d names without error", len(out), len(names))
	}
	return out, err
}

// Stat returns the attributes of fid (of a symlink itself, not its target).
func (c *Client) Stat(fid uint64) (Stat, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_Stat{Stat: &pb.StatRequest{Fid: fid}}})
	if err != nil {
		return Stat{}, err
	}
	return statFromProto(resp.GetStat()), nil
}

// Open opens the file of fid with open(2) flags (no O_CREAT/O_PATH) and
// returns a host FD the caller owns. Only regular files and directories
// can be opened; a symlink gives ELOOP.
func (c *Client) Open(fid uint64, flags int) (int, error) {
	if flags < 0 || flags > 1<<31 {
		return -1, unix.EINVAL
	}
	_, fd, err := c.call(&pb.Request{Op: &pb.Request_Open{Open: &pb.OpenRequest{Fid: fid, Flags: uint32(flags)}}})
	if err != nil {
		return -1, err
	}
	if fd < 0 {
		return -1, fmt.Errorf("gofer: open: no FD in response")
	}
	return fd, nil
}

// Create creates the regular file name in dirFID exclusively (O_CREAT|O_EXCL
// are implied), owned by uid:gid with exactly mode's permission bits, and
// returns its fid, stat and a host FD opened with flags.
func (c *Client) Create(dirFID uint64, name string, flags int, mode, uid, gid uint32) (fid uint64, st Stat, hostFD int, err error) {
	if flags < 0 || flags > 1<<31 {
		return 0, Stat{}, -1, unix.EINVAL
	}
	resp, fd, err := c.call(&pb.Request{Op: &pb.Request_Create{Create: &pb.CreateRequest{
		DirFid: dirFID, Name: name, Flags: uint32(flags), Mode: mode, Uid: uid, Gid: gid,
	}}})
	if err != nil {
		return 0, Stat{}, -1, err
	}
	fid, st, err = fidResult(resp)
	if err == nil && fd < 0 {
		err = fmt.Errorf("gofer: create: no FD in response")
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return 0, Stat{}, -1, err
	}
	return fid, st, fd, nil
}

// Mkdir creates directory name in dirFID and returns a fid for it.
func (c *Client) Mkdir(dirFID uint64, name string, mode, uid, gid uint32) (uint64, Stat, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_Mkdir{Mkdir: &pb.MkdirRequest{
		DirFid: dirFID, Name: name, Mode: mode, Uid: uid, Gid: gid,
	}}})
	if err != nil {
		return 0, Stat{}, err
	}
	return fidResult(resp)
}

// Unlink removes name from dirFID; flags may be unix.AT_REMOVEDIR.
func (c *Client) Unlink(dirFID uint64, name string, flags int) error {
	_, _, err := c.call(&pb.Request{Op: &pb.Request_Unlink{Unlink: &pb.UnlinkRequest{
		DirFid: dirFID, Name: name, Flags: uint32(flags),
	}}})
	return err
}

// Rename is renameat2; flags may be unix.RENAME_NOREPLACE or RENAME_EXCHANGE.
func (c *Client) Rename(oldDirFID uint64, oldName string, newDirFID uint64, newName string, flags uint) error {
	_, _, err := c.call(&pb.Request{Op: &pb.Request_Rename{Rename: &pb.RenameRequest{
		OldDirFid: oldDirFID, OldName: oldName, NewDirFid: newDirFID, NewName: newName, Flags: uint32(flags),
	}}})
	return err
}

// Readlink returns the target of the symlink fid.
func (c *Client) Readlink(fid uint64) (string, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_Readlink{Readlink: &pb.ReadlinkRequest{Fid: fid}}})
	if err != nil {
		return "", err
	}
	return resp.GetReadlink().GetTarget(), nil
}

// Symlink creates symlink name -> target in dirFID, owned by uid:gid.
func (c *Client) Symlink(dirFID uint64, name, target string, uid, gid uint32) (uint64, Stat, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_Symlink{Symlink: &pb.SymlinkRequest{
		DirFid: dirFID, Name: name, Target: target, Uid: uid, Gid: gid,
	}}})
	if err != nil {
		return 0, Stat{}, err
	}
	return fidResult(resp)
}

// Link creates name in dirFID as a hard link to the file of targetFID.
func (c *Client) Link(dirFID uint64, name string, targetFID uint64) (uint64, Stat, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_Link{Link: &pb.LinkRequest{
		DirFid: dirFID, Name: name, TargetFid: targetFID,
	}}})
	if err != nil {
		return 0, Stat{}, err
	}
	return fidResult(resp)
}

// Readdir returns up to count entries of directory fid starting at offset
// (0, or the Off of the last entry seen). "." and ".." are not returned; an
// empty result means the end of the directory.
func (c *Client) Readdir(fid uint64, offset int64, count int) ([]Dirent, error) {
	if count < 0 || count > 1<<31 {
		return nil, unix.EINVAL
	}
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_Readdir{Readdir: &pb.ReaddirRequest{
		Fid: fid, Offset: offset, Count: uint32(count),
	}}})
	if err != nil {
		return nil, err
	}
	entries := resp.GetReaddir().GetEntries()
	out := make([]Dirent, len(entries))
	for i, e := range entries {
		out[i] = Dirent{Name: e.Name, Ino: e.Ino, Type: uint8(e.Type), Off: e.NextOffset}
	}
	return out, nil
}

// SetAttr applies the attributes selected by a.Mask and returns the new stat.
func (c *Client) SetAttr(fid uint64, a Attr) (Stat, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_SetAttr{SetAttr: &pb.SetAttrRequest{
		Fid: fid, Mask: a.Mask, Mode: a.Mode, Uid: a.UID, Gid: a.GID, Size: a.Size,
		AtimeSec: a.Atime.Sec, AtimeNsec: a.Atime.Nsec, MtimeSec: a.Mtime.Sec, MtimeNsec: a.Mtime.Nsec,
	}}})
	if err != nil {
		return Stat{}, err
	}
	return statFromProto(resp.GetStat()), nil
}

// StatFS returns statfs(2) of the file system holding fid.
func (c *Client) StatFS(fid uint64) (StatFS, error) {
	resp, _, err := c.call(&pb.Request{Op: &pb.Request_StatFs{StatFs: &pb.StatFSRequest{Fid: fid}}})
	if err != nil {
		return StatFS{}, err
	}
	return statFSFromProto(resp.GetStatFs()), nil
}

// Clunk releases fid. FDs obtained through it stay valid.
func (c *Client) Clunk(fid uint64) error {
	_, _, err := c.call(&pb.Request{Op: &pb.Request_Clunk{Clunk: &pb.ClunkRequest{Fid: fid}}})
	return err
}
