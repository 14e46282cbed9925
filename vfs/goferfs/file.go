package goferfs

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/vfs"
	"golang.org/x/sys/unix"
)

// regFile is an open host regular file.
type regFile struct {
	fd int
}

// Release implements vfs.FileImpl.
func (f *regFile) Release(vfs.Context) { unix.Close(f.fd) }

// PRead implements vfs.FileImpl.
func (f *regFile) PRead(_ vfs.Context, dst []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(f.fd, dst, off)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, err
	}
}

// PWrite implements vfs.FileImpl.
func (f *regFile) PWrite(_ vfs.Context, src []byte, off int64) (int, error) {
	for {
		n, err := unix.Pwrite(f.fd, src, off)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, err
	}
}

// Seek implements vfs.FileImpl; SEEK_DATA/SEEK_HOLE ask the host.
func (f *regFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	switch whence {
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		// The host FD's own offset is unused (pread/pwrite), so lseek on
		// it is harmless.
		return unix.Seek(f.fd, off, whence)
	case unix.SEEK_END:
		var st unix.Stat_t
		if err := unix.Fstat(f.fd, &st); err != nil {
			return 0, err
		}
		return vfs.GenericSeek(off, whence, cur, st.Size)
	}
	return vfs.GenericSeek(off, whence, cur, -1)
}

// Sync implements vfs.Syncer.
func (f *regFile) Sync(vfs.Context) error { return unix.Fsync(f.fd) }

// Allocate implements vfs.Allocator.
func (f *regFile) Allocate(_ vfs.Context, mode uint32, off, length int64) error {
	return unix.Fallocate(f.fd, mode, off, length)
}

// dirFile is an open host directory. Offsets are the host's d_off cookies.
type dirFile struct {
	vfs.FileImplBase
	in *inode
	fd int
}

// Release implements vfs.FileImpl.
func (f *dirFile) Release(vfs.Context) { unix.Close(f.fd) }

// IterDirents implements vfs.DirFile.
func (f *dirFile) IterDirents(_ vfs.Context, off int64, cb func(vfs.Dirent) bool) error {
	if f.in.fs.rpc != nil {
		return f.in.fs.rpc.iterDirents(f.in, off, cb)
	}
	if _, err := unix.Seek(f.fd, off, unix.SEEK_SET); err != nil {
		return err
	}
	buf := make([]byte, 16<<10)
	for {
		n, err := unix.Getdents(f.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.LittleEndian.Uint16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				return unix.EIO
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			d := vfs.Dirent{
				Name:    string(name),
				Ino:     binary.LittleEndian.Uint64(b[0:]),
				NextOff: int64(binary.LittleEndian.Uint64(b[8:])),
				Type:    b[18],
			}
			if !cb(d) {
				return nil
			}
			b = b[reclen:]
		}
	}
}

// Seek implements vfs.FileImpl.
func (f *dirFile) Seek(_ vfs.Context, off int64, whence int, cur int64) (int64, error) {
	switch whence {
	case unix.SEEK_SET:
		return off, nil
	case unix.SEEK_CUR:
		return cur + off, nil
	}
	return 0, unix.EINVAL
}
