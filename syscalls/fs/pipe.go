package fs

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/vfs/pipe"
)

// oNotificationPipe is O_NOTIFICATION_PIPE (== O_EXCL), for watch queues.
const oNotificationPipe = unix.O_EXCL

// checkPipeFlags validates pipe2 flags: O_CLOEXEC, O_NONBLOCK and O_DIRECT
// (packet mode). O_NOTIFICATION_PIPE (watch queues) is refused with EINVAL,
// as a kernel without them does.
func checkPipeFlags(flags uint32) error {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return unix.EINVAL
	}
	return nil
}

// pipe2 makes a pipe and stores its two descriptors at addr.
func pipe2(t *kernel.Task, addr uint64, flags uint32) (uint64, error) {
	if err := checkPipeFlags(flags); err != nil {
		return 0, err
	}
	r, w, err := pipe.NewPipe(t.Kernel().VFS(), ctx(t), flags&(unix.O_NONBLOCK|unix.O_DIRECT))
	if err != nil {
		return 0, err
	}
	defer r.DecRef(ctx(t))
	defer w.DecRef(ctx(t))
	cloexec := flags&unix.O_CLOEXEC != 0
	rfd, err := t.NewFD(r, cloexec)
	if err != nil {
		return 0, err
	}
	wfd, err := t.NewFD(w, cloexec)
	if err != nil {
		removeFD(t, rfd)
		return 0, err
	}
	b := make([]byte, 8)
	le.PutUint32(b[0:], uint32(rfd))
	le.PutUint32(b[4:], uint32(wfd))
	if err := copyOut(t, addr, b); err != nil {
		removeFD(t, rfd)
		removeFD(t, wfd)
		return 0, err
	}
	return 0, nil
}

// removeFD undoes a NewFD of this call.
func removeFD(t *kernel.Task, fd int32) {
	if f, err := t.Files.Remove(fd); err == nil {
		f.DecRef(ctx(t))
	}
}

// Pipe implements pipe(2).
func Pipe(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return pipe2(t, a[0], 0)
}

// Pipe2 implements pipe2(2).
func Pipe2(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	return pipe2(t, a[0], argFlags(a[1]))
}
