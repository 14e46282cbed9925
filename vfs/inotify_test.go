package vfs_test

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

type event struct {
	wd     int32
	mask   uint32
	cookie uint32
	name   string
}

// readEvents reads and decodes every queued event of in.
func readEvents(t *testing.T, e *env, in *vfs.Inotify) []event {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := in.Read(e.ctx, buf)
	if err == unix.EAGAIN {
		return nil
	}
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var out []event
	for b := buf[:n]; len(b) > 0; {
		l := int(binary.LittleEndian.Uint32(b[12:]))
		name := string(b[16 : 16+l])
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		out = append(out, event{int32(binary.LittleEndian.Uint32(b)), binary.LittleEndian.Uint32(b[4:]),
			binary.LittleEndian.Uint32(b[8:]), name})
		b = b[16+l:]
	}
	return out
}

func (e *env) watch(in *vfs.Inotify, p string, mask uint32) int32 {
	e.t.Helper()
	loc, err := e.v.GetLocation(e.ctx, e.root, e.root, p, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	defer loc.DecRef()
	wd, err := in.AddWatch(loc, mask)
	if err != nil {
		e.t.Fatalf("add watch %s: %v", p, err)
	}
	return wd
}

func TestInotifyEvents(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	in := e.v.NewInotify()
	defer in.Release(e.ctx)
	wd := e.watch(in, "/d", unix.IN_ALL_EVENTS)
	e.write("/d/f", "x")
	wf := e.watch(in, "/d/f", unix.IN_ALL_EVENTS)
	wantEvents(t, "create", readEvents(t, e, in), []event{
		{wd, unix.IN_CREATE, 0, "f"},
		{wd, unix.IN_OPEN, 0, "f"},
		{wd, unix.IN_MODIFY, 0, "f"},
		{wd, unix.IN_CLOSE_WRITE, 0, "f"},
	})
	wantErr(t, "rename", e.v.Rename(e.ctx, e.root, e.root, "/d/f", e.root, "/d/g", 0), nil)
	got := readEvents(t, e, in)
	if len(got) != 3 || got[0].mask != unix.IN_MOVED_FROM || got[1].mask != unix.IN_MOVED_TO ||
		got[0].cookie == 0 || got[0].cookie != got[1].cookie || got[2] != (event{wf, unix.IN_MOVE_SELF, 0, ""}) {
		t.Errorf("rename events %+v", got)
	}
	wantErr(t, "unlink", e.v.Unlink(e.ctx, e.root, e.root, "/d/g"), nil)
	wantEvents(t, "unlink", readEvents(t, e, in), []event{
		{wf, unix.IN_ATTRIB, 0, ""},
		{wf, unix.IN_DELETE_SELF, 0, ""},
		{wf, unix.IN_IGNORED, 0, ""},
		{wd, unix.IN_DELETE, 0, "g"},
	})
}

func wantEvents(t *testing.T, what string, got, want []event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: events %+v, want %+v", what, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: event %d: %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func TestInotifyWatchRules(t *testing.T) {
	e := newEnv(t)
	e.write("/f", "")
	in := e.v.NewInotify()
	defer in.Release(e.ctx)
	loc, err := e.v.GetLocation(e.ctx, e.root, e.root, "/f", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer loc.DecRef()
	for _, tc := range []struct {
		mask uint32
		want error
	}{
		{0, unix.EINVAL},
		{unix.IN_ONLYDIR | unix.IN_CREATE, unix.ENOTDIR},
		{unix.IN_MASK_ADD | unix.IN_MASK_CREATE | unix.IN_CREATE, unix.EINVAL},
	} {
		if _, err := in.AddWatch(loc, tc.mask); err != tc.want {
			t.Errorf("mask %#x: %v, want %v", tc.mask, err, tc.want)
		}
	}
	wd, err := in.AddWatch(loc, unix.IN_MODIFY|unix.IN_MASK_CREATE)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.AddWatch(loc, unix.IN_ATTRIB|unix.IN_MASK_CREATE); err != unix.EEXIST {
		t.Errorf("IN_MASK_CREATE twice: %v", err)
	}
	if wd2, err := in.AddWatch(loc, unix.IN_ATTRIB|unix.IN_MASK_ADD); wd2 != wd || err != nil {
		t.Errorf("IN_MASK_ADD: %d %v", wd2, err)
	}
	wantErr(t, "rm", in.RmWatch(wd), nil)
	wantErr(t, "rm again", in.RmWatch(wd), unix.EINVAL)
	if got := readEvents(t, e, in); len(got) != 1 || got[0] != (event{wd, unix.IN_IGNORED, 0, ""}) {
		t.Errorf("after rm: %+v", got)
	}
	if _, err := in.Read(e.ctx, make([]byte, 64)); err != unix.EAGAIN {
		t.Errorf("empty read: %v", err)
	}
}
