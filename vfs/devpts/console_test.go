package devpts

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs"
)

// TestAddTerminal: a host terminal takes the lowest free index as a new
// pty would, shows as a replica there, opens through its own function,
// and frees the index when removed.
func TestAddTerminal(t *testing.T) {
	v := vfs.New()
	fsys, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	ns := v.NewMountNamespace(fsys, 0)
	root := ns.Root()
	terms, err := TerminalsAt(v, root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := vfs.NewContext(vfs.RootCredentials())
	opened := 0
	open := func(vfs.Context, uint32) (vfs.FileImpl, error) { opened++; return nil, unix.ENXIO }
	loc, remove, err := terms.AddTerminal(ctx, open)
	if err != nil {
		t.Fatal(err)
	}
	defer loc.DecRef()
	st, err := v.Stat(ctx, root, root, "0", 0)
	if err != nil {
		t.Fatalf("stat 0: %v", err)
	}
	if st.Mode != unix.S_IFCHR|0o620 || st.Rdev_major != ReplicaMajor || st.Rdev_minor != 0 || st.Gid != TTYGID || st.Ino != replicaIno(0) {
		t.Errorf("entry 0: mode %#o rdev %d:%d gid %d ino %d", st.Mode, st.Rdev_major, st.Rdev_minor, st.Gid, st.Ino)
	}
	if loc.Dentry.Inode() != fsys.Impl().(*Filesystem).consoles[0].inode {
		t.Errorf("AddTerminal's location is not the entry's")
	}
	if _, err := v.OpenAt(ctx, root, root, "0", unix.O_RDWR, 0); err != unix.ENXIO || opened != 1 {
		t.Errorf("open of the entry: %v after %d calls, want the terminal's open (ENXIO) once", err, opened)
	}
	// The next pty skips the terminal's index.
	pfs := fsys.Impl().(*Filesystem)
	p, err := pfs.newPty(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.index != 1 {
		t.Errorf("a pty beside the terminal got index %d, want 1", p.index)
	}
	remove()
	if _, err := v.Stat(ctx, root, root, "0", 0); err != unix.ENOENT {
		t.Errorf("stat of a removed terminal: %v, want ENOENT", err)
	}
	if loc2, remove2, err := terms.AddTerminal(ctx, open); err != nil || loc2.Dentry.Inode().(*replicaInode).index != 0 {
		t.Errorf("after removal the index is not reused: %v", err)
	} else {
		remove2()
		loc2.DecRef()
	}
}
