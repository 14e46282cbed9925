//go:build linux

package gofer

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	pb "github.com/runsc-lite/runsc-lite/gofer/proto"
)

// rawEnv is a server with a raw socket in the test's hands, to send what
// no well-behaved client would.
func rawEnv(t *testing.T) (sock int, root string) {
	root = t.TempDir()
	srv, err := NewServer([]Mount{{HostPath: root}})
	if err != nil {
		t.Fatal(err)
	}
	sfd, cfd := newSeqpacketPair(t)
	done := make(chan error, 1)
	go func() { done <- srv.ServeFD(sfd) }()
	t.Cleanup(func() {
		unix.Close(cfd)
		if err := <-done; err != nil {
			t.Errorf("ServeFD: %v", err)
		}
		unix.Close(sfd)
		srv.Close()
	})
	return cfd, root
}

func rawRoundTrip(t *testing.T, sock int, data []byte, fd int) *pb.Response {
	t.Helper()
	if err := sendPacket(sock, data, fd, 0); err != nil {
		t.Fatalf("send: %v", err)
	}
	buf := make([]byte, MaxMessageSize)
	oob := make([]byte, oobSpace)
	n, fds, _, err := recvPacket(sock, buf, oob, 0)
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	closeAll(fds)
	resp := &pb.Response{}
	if err := proto.Unmarshal(buf[:n], resp); err != nil {
		t.Fatalf("bad response: %v", err)
	}
	return resp
}

func marshal(t testing.TB, req *pb.Request) []byte {
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedPackets(t *testing.T) {
	sock, _ := rawEnv(t)
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 1000)
	rng.Read(random)
	huge := make([]byte, MaxMessageSize+1000)
	rng.Read(huge)
	devNull, _ := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	defer unix.Close(devNull)
	tests := []struct {
		name  string
		data  []byte
		fd    int
		errno unix.Errno
	}{
		{"random bytes", random, -1, unix.EINVAL},
		{"empty packet", nil, -1, unix.EINVAL},
		{"huge packet", huge, -1, unix.EINVAL},
		{"truncated varint", []byte{0x08, 0xff}, -1, unix.EINVAL},
		{"length past end", []byte{0x12, 0x7f, 0x08}, -1, unix.EINVAL},
		{"no op", marshal(t, &pb.Request{Id: 5}), -1, unix.EINVAL},
		{"empty attach with FD attached", marshal(t, &pb.Request{Id: 6, Op: &pb.Request_Attach{Attach: &pb.AttachRequest{}}}), devNull, 0},
		{"unknown fid", marshal(t, &pb.Request{Id: 7, Op: &pb.Request_Stat{Stat: &pb.StatRequest{Fid: 1 << 63}}}), -1, unix.EBADF},
		{"huge mount", marshal(t, &pb.Request{Id: 8, Op: &pb.Request_Attach{Attach: &pb.AttachRequest{Mount: 1<<32 - 1}}}), -1, unix.EINVAL},
		{"negative offset", marshal(t, &pb.Request{Id: 9, Op: &pb.Request_Readdir{Readdir: &pb.ReaddirRequest{Fid: 1, Offset: -5}}}), -1, unix.EINVAL},
		{"huge count", marshal(t, &pb.Request{Id: 10, Op: &pb.Request_Readdir{Readdir: &pb.ReaddirRequest{Fid: 1, Count: 1<<32 - 1}}}), -1, 0},
		{"negative size", marshal(t, &pb.Request{Id: 11, Op: &pb.Request_SetAttr{SetAttr: &pb.SetAttrRequest{Fid: 1, Mask: SetAttrSize, Size: -1}}}), -1, unix.EINVAL},
		{"all flags", marshal(t, &pb.Request{Id: 12, Op: &pb.Request_Open{Open: &pb.OpenRequest{Fid: 1, Flags: 1<<32 - 1}}}), -1, unix.EINVAL},
		{"too many walk names", marshal(t, &pb.Request{Id: 13, Op: &pb.Request_Walk{Walk: &pb.WalkRequest{Fid: 1, Names: make([]string, maxWalkNames+1)}}}), -1, unix.EINVAL},
		{"invalid utf8 name", marshal(t, &pb.Request{Id: 14, Op: &pb.Request_Walk{Walk: &pb.WalkRequest{Fid: 1}}})[:0], -1, unix.EINVAL},
		{"unknown fields", append(marshal(t, &pb.Request{Id: 15, Op: &pb.Request_Stat{Stat: &pb.StatRequest{Fid: 1}}}), 0xf8, 0x07, 0x01), -1, 0},
	}
	for _, tc := range tests {
		resp := rawRoundTrip(t, sock, tc.data, tc.fd)
		if unix.Errno(resp.Errno) != tc.errno {
			t.Errorf("%s: errno %v, want %v", tc.name, unix.Errno(resp.Errno), tc.errno)
		}
	}
	// The server still serves a well-formed request.
	resp := rawRoundTrip(t, sock, marshal(t, &pb.Request{Id: 99, Op: &pb.Request_Attach{Attach: &pb.AttachRequest{Directfs: true}}}), -1)
	if resp.Errno != 0 || resp.Id != 99 || resp.GetFid() == nil {
		t.Errorf("after garbage: %+v", resp)
	}
}

// TestMalformedThenClient checks a normal client works on a connection
// that has carried garbage.
func TestMalformedThenClient(t *testing.T) {
	sock, root := rawEnv(t)
	os.WriteFile(filepath.Join(root, "f"), []byte("ok"), 0o644)
	for i := 0; i < 100; i++ {
		junk := make([]byte, rand.Intn(200))
		rand.Read(junk)
		sendPacket(sock, junk, -1, 0)
	}
	// A dup, so that c.Close (which must run to stop its reader) and
	// rawEnv's cleanup each close their own FD.
	dup, _ := unix.FcntlInt(uintptr(sock), unix.F_DUPFD_CLOEXEC, 0)
	c, err := NewClient(dup)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fid, _, fd, err := c.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	res, err := c.Walk(fid, []string{"f"})
	if err != nil {
		t.Fatal(err)
	}
	fd, err = c.Open(res[0].FID, unix.O_RDONLY)
	if err != nil || readFD(t, fd) != "ok" {
		t.Fatalf("open after garbage: %v", err)
	}
	unix.Close(fd)
}

// FuzzServe feeds arbitrary packets to the request handler of a server
// over a scratch directory. It must never panic, leak an FD it did not
// return, or touch anything outside the mount.
func FuzzServe(f *testing.F) {
	seeds := []*pb.Request{
		{Op: &pb.Request_Attach{Attach: &pb.AttachRequest{Directfs: true}}},
		{Op: &pb.Request_Walk{Walk: &pb.WalkRequest{Fid: 1, Names: []string{"d", "f"}}}},
		{Op: &pb.Request_Walk{Walk: &pb.WalkRequest{Fid: 1, Names: []string{"..", "etc"}}}},
		{Op: &pb.Request_Open{Open: &pb.OpenRequest{Fid: 1, Flags: unix.O_RDONLY}}},
		{Op: &pb.Request_Create{Create: &pb.CreateRequest{DirFid: 1, Name: "n", Flags: unix.O_RDWR, Mode: 0o644}}},
		{Op: &pb.Request_Mkdir{Mkdir: &pb.MkdirRequest{DirFid: 1, Name: "m", Mode: 0o755}}},
		{Op: &pb.Request_Unlink{Unlink: &pb.UnlinkRequest{DirFid: 1, Name: "n"}}},
		{Op: &pb.Request_Rename{Rename: &pb.RenameRequest{OldDirFid: 1, OldName: "d", NewDirFid: 1, NewName: "e", Flags: unix.RENAME_EXCHANGE}}},
		{Op: &pb.Request_Readlink{Readlink: &pb.ReadlinkRequest{Fid: 2}}},
		{Op: &pb.Request_Symlink{Symlink: &pb.SymlinkRequest{DirFid: 1, Name: "s", Target: "/etc"}}},
		{Op: &pb.Request_Link{Link: &pb.LinkRequest{DirFid: 1, Name: "h", TargetFid: 2}}},
		{Op: &pb.Request_Readdir{Readdir: &pb.ReaddirRequest{Fid: 1, Count: 3}}},
		{Op: &pb.Request_SetAttr{SetAttr: &pb.SetAttrRequest{Fid: 2, Mask: setAttrAll, Size: 10}}},
		{Op: &pb.Request_StatFs{StatFs: &pb.StatFSRequest{Fid: 1}}},
		{Op: &pb.Request_Clunk{Clunk: &pb.ClunkRequest{Fid: 3}}},
	}
	for _, s := range seeds {
		f.Add(marshal(f, s))
	}
	f.Add([]byte{0xff, 0xff, 0xff})

	base := f.TempDir()
	root := filepath.Join(base, "root")
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "d", "f"), []byte("x"), 0o644)
	sentinel := filepath.Join(base, "outside")
	os.WriteFile(sentinel, []byte("untouched"), 0o600)
	srv, err := NewServer([]Mount{{HostPath: root}, {HostPath: root, ReadOnly: true}})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	// fid 1 is the root and fid 2 a file, so mutated requests hit real files.
	srv.handle(&pb.Request{Op: &pb.Request_Attach{Attach: &pb.AttachRequest{}}})
	srv.handle(&pb.Request{Op: &pb.Request_Walk{Walk: &pb.WalkRequest{Fid: 1, Names: []string{"d", "f"}}}})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxMessageSize {
			return // the socket layer truncates these; see TestMalformedPackets
		}
		resp, fd := srv.handlePacket(data)
		if resp == nil {
			t.Fatal("nil response")
		}
		if fd >= 0 != resp.HasFd {
			t.Fatalf("fd %d with has_fd=%v", fd, resp.HasFd)
		}
		if fd >= 0 {
			unix.Close(fd)
		}
		if _, err := proto.Marshal(resp); err != nil {
			t.Fatalf("response does not marshal: %v", err)
		}
		if b, err := os.ReadFile(sentinel); err != nil || string(b) != "untouched" {
			t.Fatalf("file outside the mount changed: %q %v", b, err)
		}
	})
}
