package host

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// memCtx is a vfs.Context with a flat guest memory at address memBase.
type memCtx struct {
	mem []byte
}

const memBase = 0x10000

func newMemCtx() *memCtx { return &memCtx{mem: make([]byte, 4096)} }

func (m *memCtx) Credentials() *vfs.Credentials { return vfs.RootCredentials() }

func (m *memCtx) CopyIn(addr uintptr, dst []byte) (int, error) {
	if addr < memBase || addr-memBase+uintptr(len(dst)) > uintptr(len(m.mem)) {
		return 0, unix.EFAULT
	}
	return copy(dst, m.mem[addr-memBase:]), nil
}

func (m *memCtx) CopyOut(addr uintptr, src []byte) (int, error) {
	if addr < memBase || addr-memBase+uintptr(len(src)) > uintptr(len(m.mem)) {
		return 0, unix.EFAULT
	}
	return copy(m.mem[addr-memBase:], src), nil
}

var ctx = vfs.NewContext(vfs.RootCredentials())

func hostPipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return p[0], p[1]
}

func waitNotified(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no notification for %s", what)
	}
}

func TestPipeRead(t *testing.T) {
	v := vfs.New()
	r, w := hostPipe(t)
	defer unix.Close(w)
	f, err := NewFile(v, r, unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)

	buf := make([]byte, 16)
	if n, err := f.Read(ctx, buf); err != unix.EAGAIN {
		t.Fatalf("empty pipe: Read = %d, %v; want EAGAIN", n, err)
	}
	if got := f.Readiness(waiter.ReadableEvents); got != 0 {
		t.Fatalf("empty pipe readiness %#x", got)
	}
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	f.EventRegister(e)
	defer f.EventUnregister(e)

	go func() {
		time.Sleep(20 * time.Millisecond)
		unix.Write(w, []byte("hello"))
	}()
	waitNotified(t, ch, "pipe write")
	if got := f.Readiness(waiter.ReadableEvents); got&waiter.EventIn == 0 {
		t.Fatalf("readiness after write %#x", got)
	}
	n, err := f.Read(ctx, buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if _, err := f.Read(ctx, buf); err != unix.EAGAIN {
		t.Fatalf("drained pipe: %v; want EAGAIN", err)
	}

	// Closing the write end: EOF and HUP.
	unix.Close(w)
	waitNotified(t, ch, "hangup")
	if got := f.Readiness(waiter.ReadableEvents); got&waiter.EventHUp == 0 {
		t.Fatalf("readiness after close %#x, want HUP", got)
	}
	if n, err := f.Read(ctx, buf); n != 0 || err != nil {
		t.Fatalf("EOF read = %d, %v", n, err)
	}
}

func TestPipeWrite(t *testing.T) {
	v := vfs.New()
	r, w := hostPipe(t)
	defer unix.Close(r)
	f, err := NewFile(v, w, unix.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	if n, err := f.Write(ctx, []byte("abc")); n != 3 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 8)
	if n, _ := unix.Read(r, buf); string(buf[:n]) != "abc" {
		t.Fatalf("host read %q", buf[:n])
	}
	// Fill the pipe: a partial write then EAGAIN.
	big := make([]byte, 1<<20)
	total := 0
	for {
		n, err := f.Write(ctx, big)
		total += n
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if total > 8<<20 {
			t.Fatal("pipe never filled")
		}
	}
	if f.Readiness(waiter.WritableEvents) != 0 {
		t.Fatal("full pipe reported writable")
	}
	e, ch := waiter.NewChannelEntry(waiter.WritableEvents)
	f.EventRegister(e)
	defer f.EventUnregister(e)
	go func() {
		time.Sleep(20 * time.Millisecond)
		b := make([]byte, 1<<16)
		unix.Read(r, b)
	}()
	// Waiters may be woken spuriously (a stale edge from before the pipe
	// filled) and must re-check: wait until a notification finds the pipe
	// writable.
	deadline := time.Now().Add(5 * time.Second)
	for {
		waitNotified(t, ch, "pipe drained")
		if f.Readiness(waiter.WritableEvents)&waiter.EventOut != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not writable after drain")
		}
	}
	if _, err := f.Seek(ctx, 0, unix.SEEK_SET); err != unix.ESPIPE {
		t.Fatalf("Seek = %v, want ESPIPE", err)
	}
	if _, err := f.PWrite(ctx, []byte("x"), 0); err != unix.ESPIPE {
		t.Fatalf("PWrite = %v, want ESPIPE", err)
	}
}

func TestPipeStat(t *testing.T) {
	v := vfs.New()
	r, w := hostPipe(t)
	defer unix.Close(w)
	f, err := NewFile(v, r, unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	st, err := f.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hst unix.Stat_t
	unix.Fstat(w, &hst)
	if st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Ino != hst.Ino {
		t.Fatalf("stat mode %#o ino %d; host ino %d", st.Mode, st.Ino, hst.Ino)
	}
	p, err := v.PathOf(vfs.Location{}, f.Location())
	if err != nil || p != fmt.Sprintf("pipe:[%d]", hst.Ino) {
		t.Fatalf("PathOf = %q, %v", p, err)
	}
	if _, err := f.Ioctl(newMemCtx(), unix.TCGETS, memBase); err != unix.ENOTTY {
		t.Fatalf("TCGETS on pipe = %v, want ENOTTY", err)
	}
	if IsTTY(f) {
		t.Fatal("pipe is a tty")
	}
	unix.Write(w, []byte("12345"))
	m := newMemCtx()
	if _, err := f.Ioctl(m, fionread, memBase); err != nil || binary.LittleEndian.Uint32(m.mem) != 5 {
		t.Fatalf("FIONREAD = %d, %v", binary.LittleEndian.Uint32(m.mem), err)
	}
}

func TestRegularFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		hostFlags int
		ops       func(t *testing.T, f *vfs.File)
		want      string
	}{
		{"append", unix.O_WRONLY | unix.O_APPEND, func(t *testing.T, f *vfs.File) {
			if f.StatusFlags()&unix.O_APPEND == 0 {
				t.Error("O_APPEND not reported")
			}
			for _, s := range []string{"def", "gh"} {
				if n, err := f.Write(ctx, []byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			// Sequential I/O uses the host file description's offset.
			if off, err := f.Seek(ctx, 0, unix.SEEK_CUR); off != 8 || err != nil {
				t.Errorf("offset %d (%v), want 8", off, err)
			}
		}, "abcdefgh"},
		{"overwrite", unix.O_RDWR, func(t *testing.T, f *vfs.File) {
			if n, err := f.Write(ctx, []byte("X")); n != 1 || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			buf := make([]byte, 8)
			n, err := f.Read(ctx, buf)
			if err != nil || string(buf[:n]) != "bc" {
				t.Fatalf("Read = %q, %v", buf[:n], err)
			}
			if off, err := f.Seek(ctx, 1, unix.SEEK_END); off != 4 || err != nil {
				t.Fatalf("SEEK_END = %d, %v", off, err)
			}
			if n, err := f.PWrite(ctx, []byte("Z"), 2); n != 1 || err != nil {
				t.Fatalf("PWrite = %d, %v", n, err)
			}
			if n, err := f.PRead(ctx, buf, 1); err != nil || string(buf[:n]) != "bZ" {
				t.Fatalf("PRead = %q, %v", buf[:n], err)
			}
			if err := f.Truncate(ctx, 2); err != nil {
				t.Fatal(err)
			}
		}, "Xb"},
		{"readonly", unix.O_RDONLY, func(t *testing.T, f *vfs.File) {
			st, err := f.Stat(ctx)
			if err != nil || st.Size != 3 || st.Mode&unix.S_IFMT != unix.S_IFREG {
				t.Fatalf("Stat = size %d mode %#o, %v", st.Size, st.Mode, err)
			}
			if f.Readiness(waiter.ReadableEvents) != waiter.ReadableEvents {
				t.Error("regular file not readable")
			}
			if _, err := f.Ioctl(newMemCtx(), unix.TCGETS, memBase); err != unix.ENOTTY {
				t.Errorf("TCGETS = %v", err)
			}
		}, "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
				t.Fatal(err)
			}
			fd, err := unix.Open(p, tc.hostFlags|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f, err := NewFile(vfs.New(), fd, uint32(tc.hostFlags&unix.O_ACCMODE))
			if err != nil {
				t.Fatal(err)
			}
			tc.ops(t, f)
			f.DecRef(ctx)
			if err := unix.Close(fd); err != unix.EBADF {
				t.Errorf("host fd not closed on release: %v", err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tc.want {
				t.Errorf("file = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRegularFileInheritsOffset(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("0123456789"), 0o644)
	fd, _ := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	unix.Seek(fd, 4, unix.SEEK_SET)
	f, err := NewFile(vfs.New(), fd, unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	buf := make([]byte, 3)
	if n, err := f.Read(ctx, buf); err != nil || string(buf[:n]) != "456" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}

func TestDevNull(t *testing.T) {
	fd, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skip(err)
	}
	f, err := NewFile(vfs.New(), fd, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	if n, err := f.Read(ctx, make([]byte, 4)); n != 0 || err != nil {
		t.Errorf("Read = %d, %v", n, err)
	}
	if n, err := f.Write(ctx, []byte("abc")); n != 3 || err != nil {
		t.Errorf("Write = %d, %v", n, err)
	}
	if off, err := f.Seek(ctx, 10, unix.SEEK_SET); off != 0 || err != nil {
		t.Errorf("Seek = %d, %v", off, err)
	}
	if f.Readiness(waiter.ReadableEvents|waiter.WritableEvents) == 0 {
		t.Error("/dev/null not ready")
	}
	if IsTTY(f) {
		t.Error("/dev/null is a tty")
	}
	if p, _ := f.VFS().PathOf(vfs.Location{}, f.Location()); p != "/dev/null" {
		t.Errorf("PathOf = %q", p)
	}
}

// openPTY opens a host pty pair: master and slave FDs.
func openPTY(t *testing.T) (master, slave int, n int) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		t.Skipf("unlockpt: %v", err)
	}
	n, err = unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		t.Skipf("ptsname: %v", err)
	}
	s, err := unix.Open(fmt.Sprintf("/dev/pts/%d", n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(m)
		t.Skipf("open slave: %v", err)
	}
	return m, s, n
}

func TestTTY(t *testing.T) {
	master, slave, ptn := openPTY(t)
	defer unix.Close(master)
	// Keep our own reference to the slave for host-side checks.
	hs, err := unix.Dup(slave)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(hs)
	v := vfs.New()
	f, err := NewFile(v, slave, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	if !IsTTY(f) {
		t.Fatal("pty slave not a tty")
	}
	if p, _ := v.PathOf(vfs.Location{}, f.Location()); p != fmt.Sprintf("/dev/pts/%d", ptn) {
		t.Errorf("PathOf = %q", p)
	}
	m := newMemCtx()

	// TCGETS: the host's termios, 36 bytes.
	want, err := unix.IoctlGetTermios(hs, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Ioctl(m, unix.TCGETS, memBase); err != nil {
		t.Fatalf("TCGETS: %v", err)
	}
	wantBytes := (*[sizeofTermios]byte)(unsafe.Pointer(want))[:]
	if !bytes.Equal(m.mem[:sizeofTermios], wantBytes) {
		t.Errorf("TCGETS = %x, want %x", m.mem[:sizeofTermios], wantBytes)
	}
	// TCSETS: clear ECHO through the guest, check on the host.
	lflag := binary.LittleEndian.Uint32(m.mem[12:])
	binary.LittleEndian.PutUint32(m.mem[12:], lflag&^unix.ECHO)
	if _, err := f.Ioctl(m, unix.TCSETS, memBase); err != nil {
		t.Fatalf("TCSETS: %v", err)
	}
	if got, _ := unix.IoctlGetTermios(hs, unix.TCGETS); got.Lflag&unix.ECHO != 0 {
		t.Error("TCSETS did not reach the host")
	}

	// TIOCGWINSZ / TIOCSWINSZ.
	if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatal(err)
	}
	clear(m.mem)
	if _, err := f.Ioctl(m, unix.TIOCGWINSZ, memBase); err != nil {
		t.Fatalf("TIOCGWINSZ: %v", err)
	}
	if r, c := binary.LittleEndian.Uint16(m.mem), binary.LittleEndian.Uint16(m.mem[2:]); r != 24 || c != 80 {
		t.Errorf("TIOCGWINSZ = %dx%d", r, c)
	}
	binary.LittleEndian.PutUint16(m.mem, 50)
	binary.LittleEndian.PutUint16(m.mem[2:], 132)
	if _, err := f.Ioctl(m, unix.TIOCSWINSZ, memBase); err != nil {
		t.Fatalf("TIOCSWINSZ: %v", err)
	}
	if ws, _ := unix.IoctlGetWinsize(hs, unix.TIOCGWINSZ); ws.Row != 50 || ws.Col != 132 {
		t.Errorf("host winsize %dx%d", ws.Row, ws.Col)
	}

	// Guest-side process group.
	if _, err := f.Ioctl(m, unix.TIOCGPGRP, memBase); err != nil || binary.LittleEndian.Uint32(m.mem) != DefaultForeground {
		t.Errorf("TIOCGPGRP = %d, %v", binary.LittleEndian.Uint32(m.mem), err)
	}
	binary.LittleEndian.PutUint32(m.mem, 42)
	if _, err := f.Ioctl(m, unix.TIOCSPGRP, memBase); err != nil {
		t.Fatalf("TIOCSPGRP: %v", err)
	}
	// A second File on the same terminal sees it.
	hs2, _ := unix.Dup(hs)
	f2, err := NewFile(v, hs2, unix.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	clear(m.mem)
	if _, err := f2.Ioctl(m, unix.TIOCGPGRP, memBase); err != nil || binary.LittleEndian.Uint32(m.mem) != 42 {
		t.Errorf("TIOCGPGRP via second file = %d, %v", binary.LittleEndian.Uint32(m.mem), err)
	}
	f2.DecRef(ctx)
	if _, err := f.Ioctl(m, unix.TIOCGSID, memBase); err != nil || binary.LittleEndian.Uint32(m.mem) != DefaultForeground {
		t.Errorf("TIOCGSID = %d, %v", binary.LittleEndian.Uint32(m.mem), err)
	}

	simple := []struct {
		name string
		cmd  uint32
		arg  uintptr
		want error
	}{
		{"TIOCSCTTY", unix.TIOCSCTTY, 0, nil},
		{"TIOCNOTTY", unix.TIOCNOTTY, 0, nil},
		{"TIOCGPTN", unix.TIOCGPTN, memBase, unix.ENOTTY},
		{"TIOCSTI refused", unix.TIOCSTI, memBase, unix.ENOTTY},
		{"TCFLSH", unix.TCFLSH, unix.TCIFLUSH, nil},
		{"TCXONC", unix.TCXONC, unix.TCOON, nil},
		{"FIONREAD", fionread, memBase, nil},
		{"TIOCOUTQ", unix.TIOCOUTQ, memBase, nil},
		{"TCGETS bad address", unix.TCGETS, 8, unix.EFAULT},
		{"TCSETS bad address", unix.TCSETS, 8, unix.EFAULT},
	}
	for _, tc := range simple {
		if _, err := f.Ioctl(m, tc.cmd, tc.arg); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := f.Ioctl(ctx, unix.TCGETS, memBase); err != unix.EFAULT {
		t.Errorf("TCGETS without memory: %v, want EFAULT", err)
	}

	// Raw mode so that single bytes are readable.
	tio, _ := unix.IoctlGetTermios(hs, unix.TCGETS)
	tio.Lflag &^= unix.ICANON | unix.ECHO
	tio.Oflag &^= unix.OPOST
	unix.IoctlSetTermios(hs, unix.TCSETS, tio)

	// Reading: EAGAIN, then a notification when the master writes.
	buf := make([]byte, 64)
	if _, err := f.Read(ctx, buf); err != unix.EAGAIN {
		t.Fatalf("empty tty read: %v, want EAGAIN", err)
	}
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	f.EventRegister(e)
	go func() {
		time.Sleep(20 * time.Millisecond)
		unix.Write(master, []byte("typed"))
	}()
	waitNotified(t, ch, "tty input")
	f.EventUnregister(e)
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 5 && time.Now().Before(deadline) {
		n, err := f.Read(ctx, buf)
		if err == unix.EAGAIN {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "typed" {
		t.Errorf("tty read %q", got)
	}
	// Writing reaches the master.
	if n, err := f.Write(ctx, []byte("out")); n != 3 || err != nil {
		t.Fatalf("tty write = %d, %v", n, err)
	}
	mb := make([]byte, 16)
	n, _ := unix.Read(master, mb)
	if !strings.HasPrefix(string(mb[:n]), "out") {
		t.Errorf("master read %q", mb[:n])
	}
	if _, err := f.Seek(ctx, 0, unix.SEEK_CUR); err != unix.ESPIPE {
		t.Errorf("tty seek: %v", err)
	}
}

type jobCtx struct{ *memCtx }

func (jobCtx) ProcessGroupID() int32 { return 7 }
func (jobCtx) SessionID() int32      { return 5 }

func TestTIOCSCTTYRecordsSession(t *testing.T) {
	master, slave, _ := openPTY(t)
	defer unix.Close(master)
	f, err := NewFile(vfs.New(), slave, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef(ctx)
	if _, err := f.Ioctl(jobCtx{newMemCtx()}, unix.TIOCSCTTY, 0); err != nil {
		t.Fatal(err)
	}
	pgrp, sid, err := Foreground(f)
	if err != nil || pgrp != 7 || sid != 5 {
		t.Fatalf("Foreground = %d %d %v", pgrp, sid, err)
	}
	if err := SetForeground(f, 9, 9); err != nil {
		t.Fatal(err)
	}
	if pgrp, _, _ := Foreground(f); pgrp != 9 {
		t.Fatalf("pgrp %d after SetForeground", pgrp)
	}
}

func TestNewFileErrors(t *testing.T) {
	if _, err := NewFile(vfs.New(), -1, unix.O_RDONLY); err != unix.EBADF {
		t.Errorf("fd -1: %v", err)
	}
	d, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	if _, err := NewFile(vfs.New(), d, unix.O_RDONLY); err != unix.EINVAL {
		t.Errorf("directory: %v", err)
	}
}

func TestStreamKinds(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T) (ours, peer int)
	}{
		{"pipe", func(t *testing.T) (int, int) { return hostPipe(t) }},
		{"nonblocking pipe", func(t *testing.T) (int, int) {
			r, w := hostPipe(t)
			unix.SetNonblock(r, true)
			return r, w
		}},
		{"socketpair", func(t *testing.T) (int, int) {
			sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			return sp[0], sp[1]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ours, peer := tc.make(t)
			defer unix.Close(peer)
			f, err := NewFile(vfs.New(), ours, unix.O_RDONLY)
			if err != nil {
				t.Fatal(err)
			}
			defer f.DecRef(ctx)
			buf := make([]byte, 8)
			if _, err := f.Read(ctx, buf); err != unix.EAGAIN {
				t.Fatalf("empty: %v, want EAGAIN", err)
			}
			e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
			f.EventRegister(e)
			defer f.EventUnregister(e)
			go func() {
				time.Sleep(10 * time.Millisecond)
				unix.Write(peer, []byte("ping"))
			}()
			waitNotified(t, ch, "peer write")
			if n, err := f.Read(ctx, buf); err != nil || string(buf[:n]) != "ping" {
				t.Fatalf("Read = %q, %v", buf[:n], err)
			}
		})
	}
}
