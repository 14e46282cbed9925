package mm

import (
	"bytes"
	"slices"
	"testing"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// backedFile is a Mappable whose pages live in a backing file of its own,
// as a tmpfs over a host file.
type backedFile struct {
	mf    *memfile.File
	pages map[int64]int64 // file page index -> offset in mf, one reference each
}

func (f *backedFile) Page(off int64) (int64, error) {
	p, ok := f.pages[off/pageSize]
	if !ok {
		var err error
		if p, err = f.mf.Allocate(); err != nil {
			return 0, err
		}
		f.pages[off/pageSize] = p
	}
	f.mf.IncRef(p)
	return p, nil
}
func (f *backedFile) IncRef()                   {}
func (f *backedFile) DecRef()                   {}
func (f *backedFile) MemoryFile() *memfile.File { return f.mf }

func newMemFile(t *testing.T) *memfile.File {
	t.Helper()
	mf, err := memfile.New("mm-test", 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	return mf
}

// TestSecondBackingFile: pages of a file in the second backing file are
// mapped from it (the platform is told which file), read and written
// there by the sentry's copies, copied into the memory file on a private
// write, shared by fork, and their references all given back.
func TestSecondBackingFile(t *testing.T) {
	mem, other := newMemFile(t), newMemFile(t)
	m, err := New(memfile.Files{mem, other}, fakePlatform{})
	if err != nil {
		t.Fatal(err)
	}
	as := &recordingAS{}
	m.as = as
	f := &backedFile{mf: other, pages: map[int64]int64{}}
	shared, err := m.Map(MapOpts{Length: 2 * pageSize, Perm: platform.ReadWrite, Shared: true, File: f})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.HandleFault(shared, platform.Access{Read: true}, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := []platform.Mapping{{Addr: uintptr(shared), Length: 2 * pageSize, Offset: f.pages[0], Perm: platform.ReadWrite, File: 1}}
	if len(as.maps) != 1 || !slices.Equal(as.maps[0], want) || f.pages[1] != f.pages[0]+pageSize {
		t.Fatalf("fault mapped %v, want %v", as.maps, want)
	}
	if _, err := m.CopyOut(shared+10, []byte("in the other file")); err != nil {
		t.Fatal(err)
	}
	if got := other.Page(f.pages[0])[10:27]; string(got) != "in the other file" {
		t.Fatalf("backing page holds %q", got)
	}
	if n := mem.InUse(); n != 0 {
		t.Fatalf("%d memory-file pages in use for a mapping of the other file", n)
	}
	if file, off, ok, err := m.SharedOffset(shared + 16); err != nil || !ok || file != 1 || off != f.pages[0]+16 {
		t.Fatalf("SharedOffset = %d, %#x, %v, %v; want file 1 offset %#x", file, off, ok, err, f.pages[0]+16)
	}

	// A private mapping reads the file's page and writes a copy of it in
	// the memory file.
	private, err := m.Map(MapOpts{Length: pageSize, Perm: platform.ReadWrite, File: f})
	if err != nil {
		t.Fatal(err)
	}
	as.maps = nil
	if _, err := m.HandleFault(private, platform.Access{Read: true}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if ms := as.maps[0]; ms[0].File != 1 || ms[0].Offset != f.pages[0] || ms[0].Perm.Write {
		t.Fatalf("private read fault mapped %v, want file 1's page read-only", ms)
	}
	as.maps = nil
	if _, err := m.HandleFault(private, platform.Access{Write: true}, nil, nil); err != nil {
		t.Fatal(err)
	}
	cp := as.maps[0][0]
	if cp.File != 0 || !cp.Perm.Write || !bytes.Equal(mem.Page(cp.Offset)[10:27], []byte("in the other file")) {
		t.Fatalf("private write fault mapped %+v, want a writable copy in the memory file", cp)
	}
	var b [3]byte
	if _, err := m.CopyOut(private+10, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyIn(shared+10, b[:]); err != nil || string(b[:]) != "in " {
		t.Fatalf("shared mapping reads %q (%v) after a private write", b, err)
	}

	c, err := m.Fork(fakePlatform{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyIn(shared+10, b[:]); err != nil || string(b[:]) != "in " {
		t.Fatalf("child reads %q (%v)", b, err)
	}
	if got := other.Refs(f.pages[0]); got != 3 {
		t.Fatalf("file page has %d references with the file, parent and child; want 3", got)
	}
	c.Release()
	m.Release()
	if got := other.Refs(f.pages[0]); got != 1 {
		t.Fatalf("file page has %d references after both address spaces went, want the file's only", got)
	}
	if n := mem.InUse(); n != 0 {
		t.Fatalf("%d memory-file pages still in use", n)
	}
}

// TestUnknownBackingFile: a Mappable whose pages are in a file the address
// space cannot map is a fault the guest gets SIGBUS for, and no page is
// taken.
func TestUnknownBackingFile(t *testing.T) {
	mem, stray := newMemFile(t), newMemFile(t)
	m, err := New(memfile.Files{mem}, fakePlatform{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	f := &backedFile{mf: stray, pages: map[int64]int64{}}
	for _, shared := range []bool{true, false} {
		addr, err := m.Map(MapOpts{Length: pageSize, Perm: platform.ReadWrite, Shared: shared, File: f})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.HandleFault(addr, platform.Access{Write: true}, nil, nil); err != errUnknownFile {
			t.Errorf("shared %v: fault gave %v, want errUnknownFile", shared, err)
		}
		if _, err := m.CopyOut(addr, []byte{1}); err == nil {
			t.Errorf("shared %v: CopyOut succeeded", shared)
		}
	}
	if n := stray.InUse(); n != 0 {
		t.Fatalf("%d pages of the unknown file taken", n)
	}
}
