package sandbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenOverlayFile creates the host file that holds the file data of the
// root overlay's upper layer, in dir: unnamed (O_TMPFILE; O_EXCL so that it
// can never be linked into the directory), so that nothing is left behind
// even when the sandbox is killed, and size bytes long, sparse. It also
// checks that dir's file system can reserve blocks and give them back
// (fallocate), which the sentry relies on to turn a full disk into ENOSPC.
func OpenOverlayFile(dir string, size int64) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC|unix.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) {
			return nil, fmt.Errorf("its file system cannot make unnamed files (O_TMPFILE): %w", err)
		}
		return nil, fmt.Errorf("creating an unnamed file: %w", err)
	}
	f := os.NewFile(uintptr(fd), "overlay")
	if err := unix.Ftruncate(fd, size); err != nil {
		f.Close()
		return nil, fmt.Errorf("sizing the file to %d bytes: %w", size, err)
	}
	if err := unix.Fallocate(fd, 0, 0, 4096); err != nil {
		f.Close()
		return nil, fmt.Errorf("reserving space (fallocate): %w", err)
	}
	if err := unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 4096); err != nil {
		f.Close()
		return nil, fmt.Errorf("giving space back (fallocate punch hole): %w", err)
	}
	return f, nil
}
