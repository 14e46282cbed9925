package mm

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// A platform whose address spaces only accept requests: mm decides
// everything, the platform is a cache.
type fakeAS struct{}

func (fakeAS) MapFile(uintptr, uintptr, int64, platform.Access) error { return nil }
func (fakeAS) MapFiles([]platform.Mapping) error                      { return nil }
func (fakeAS) Unmap(uintptr, uintptr) error                           { return nil }
func (fakeAS) Protect(uintptr, uintptr, platform.Access) error        { return nil }
func (fakeAS) Release()                                               {}

type fakePlatform struct{}

func (fakePlatform) NewAddressSpace() (platform.AddressSpace, error) { return fakeAS{}, nil }
func (fakePlatform) NewContext() (platform.Context, error)           { return nil, unix.ENOSYS }
func (fakePlatform) MaxUserAddress() uintptr                         { return 0x7ffffffff000 }
func (fakePlatform) Close() error                                    { return nil }

func newTestMM(t *testing.T) *MM {
	t.Helper()
	mf, err := memfile.New("mm-test", 16<<20)
	if err != nil {
		t.Skipf("memfile: %v", err)
	}
	t.Cleanup(func() { mf.Close() })
	m, err := New(memfile.Files{mf}, fakePlatform{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Release)
	return m
}

// mremap(MREMAP_FIXED) to an address whose end wraps past 2^64 is EINVAL
// and leaves the mapping alone (found by test/fuzz: the sentry created a
// vma fffffffffffff000-00001000).
func TestRemapFixedWraps(t *testing.T) {
	m := newTestMM(t)
	addr, err := m.Map(MapOpts{Length: pageSize, Perm: platform.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyOut(addr, []byte{1}); err != nil {
		t.Fatal(err)
	}
	const mayMove, fixed = 1, 2
	for _, newAddr := range []uint64{0xfffffffffffff000, 0xffffffffffffe000, 1 << 63} {
		if got, err := m.Remap(addr, pageSize, 2*pageSize, mayMove|fixed, newAddr); err != unix.EINVAL {
			t.Errorf("Remap to %#x: %#x, %v; want EINVAL", newAddr, got, err)
		}
	}
	for _, v := range m.Mappings() {
		if v.End <= v.Start {
			t.Errorf("mapping %#x-%#x ends before it starts", v.Start, v.End)
		}
	}
	if ms := m.Mappings(); len(ms) != 1 || ms[0].Start != addr {
		t.Errorf("mappings after failed mremaps: %+v", ms)
	}
	var b [1]byte
	if _, err := m.CopyIn(addr, b[:]); err != nil || b[0] != 1 {
		t.Errorf("old mapping: %v %v", b, err)
	}
}

// The page that triggers an eviction is cached (and freed by the next
// eviction), not leaked with the cache's reference.
func TestPageCacheEvictNoLeak(t *testing.T) {
	mf, err := memfile.New("pc-test", 16<<20)
	if err != nil {
		t.Skipf("memfile: %v", err)
	}
	defer mf.Close()
	c := NewPageCache(mf, 1)
	read := func(p []byte, off int64) (int, error) { return len(p), nil }
	for key := 0; key < 4; key++ {
		p, err := c.Page(key, 0, pageSize, read)
		if err != nil {
			t.Fatal(err)
		}
		mf.DecRef(p) // the caller's reference
	}
	// Only the cache's page of the last key is left.
	if n := mf.InUse(); n != 1 {
		t.Errorf("%d pages in use after 4 evicting lookups, want 1", n)
	}
}

// A MAP_SHARED|MAP_ANONYMOUS page first touched after fork is shared by
// parent and child.
func TestSharedAnonAfterFork(t *testing.T) {
	m := newTestMM(t)
	addr, err := m.Map(MapOpts{Length: 2 * pageSize, Perm: platform.ReadWrite, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyOut(addr, []byte{1}); err != nil { // first page touched before fork
		t.Fatal(err)
	}
	c, err := m.Fork(fakePlatform{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []uint64{addr, addr + pageSize} {
		if _, err := c.CopyOut(a, []byte{42}); err != nil {
			t.Fatal(err)
		}
		var b [1]byte
		if _, err := m.CopyIn(a, b[:]); err != nil || b[0] != 42 {
			t.Errorf("parent reads %v (%v) at page %d of the shared mapping after the child wrote 42", b[0], err, (a-addr)/pageSize)
		}
	}
	// Everything is freed when both are gone.
	c.Release()
	if err := m.Unmap(addr, 2*pageSize); err != nil {
		t.Fatal(err)
	}
	if n := m.mf.InUse(); n != 0 {
		t.Errorf("%d pages in use after unmapping the shared mapping everywhere", n)
	}
}

// testFile is a Mappable over memory-file pages.
type testFile struct {
	mf    *memfile.File
	pages []int64
}

func (f testFile) Page(off int64) (int64, error) {
	i := off / pageSize
	if i >= int64(len(f.pages)) {
		return 0, unix.EFAULT
	}
	f.mf.IncRef(f.pages[i])
	return f.pages[i], nil
}
func (testFile) IncRef() {}
func (testFile) DecRef() {}

// TestFaultAroundCopiesOnWrite checks the copies a write fault makes of its
// neighbours in advance: the file's pages and the other process's
// copy-on-write pages are never written, and the copies hold the right data.
func TestFaultAroundCopiesOnWrite(t *testing.T) {
	m := newTestMM(t)
	f := testFile{mf: m.mf}
	for i := 0; i < 8; i++ {
		p, err := m.mf.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		m.mf.Page(p)[0] = byte(100 + i)
		f.pages = append(f.pages, p)
	}
	// Both mappings in one aligned fault-around window.
	const anonAddr, fileAddr = 0x100000000, 0x100000000 + 8*pageSize
	if _, err := m.Map(MapOpts{Addr: fileAddr, Fixed: true, Length: 8 * pageSize, Perm: platform.ReadWrite, File: f}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Map(MapOpts{Addr: anonAddr, Fixed: true, Length: 8 * pageSize, Perm: platform.ReadWrite}); err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 4; i++ {
		if _, err := m.CopyOut(anonAddr+i*pageSize, []byte{byte(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := m.Fork(fakePlatform{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	// Write faults in the child copy the neighbours.
	for _, a := range []uint64{anonAddr + pageSize, fileAddr + pageSize} { // pages 1 and 9 of the window
		if _, err := c.HandleFault(a, platform.Access{Write: true}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The neighbours are the child's own pages already, before any write.
	for i := uint64(0); i < 4; i++ {
		ca, pa := c.pages[anonAddr+i*pageSize], m.pages[anonAddr+i*pageSize]
		if ca == nil || ca.off == pa.off || !ca.mapped.Write {
			t.Errorf("anonymous page %d not copied and mapped writable by the fault: %+v", i, ca)
		}
		if cf := c.pages[fileAddr+i*pageSize]; cf == nil || cf.fromFile || !cf.mapped.Write {
			t.Errorf("file page %d not copied and mapped writable by the fault: %+v", i, cf)
		}
	}
	for i := uint64(0); i < 4; i++ {
		if _, err := c.CopyOut(anonAddr+i*pageSize, []byte{0xee}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CopyOut(fileAddr+i*pageSize+1, []byte{0xee}); err != nil {
			t.Fatal(err)
		}
	}
	var b [2]byte
	for i := uint64(0); i < 4; i++ {
		if _, err := m.CopyIn(anonAddr+i*pageSize, b[:1]); err != nil || b[0] != byte(i+1) {
			t.Errorf("parent's anonymous page %d reads %d (%v) after the child wrote it", i, b[0], err)
		}
		if _, err := c.CopyIn(fileAddr+i*pageSize, b[:]); err != nil || b[0] != byte(100+i) || b[1] != 0xee {
			t.Errorf("child's copy of file page %d reads %v (%v)", i, b, err)
		}
		if got := m.mf.Page(f.pages[i])[1]; got != 0 {
			t.Errorf("file page %d was written through a private mapping", i)
		}
	}
}

// TestGuestRangeChecks covers ranges from the guest found by test/fuzz: a
// range wrapping past 2^64 is not mapped, and mremap of length 0 is EINVAL.
func TestGuestRangeChecks(t *testing.T) {
	m := newTestMM(t)
	addr, err := m.Map(MapOpts{Length: pageSize, Perm: platform.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsMapped(addr, pageSize) {
		t.Fatal("mapped page reported unmapped")
	}
	if m.IsMapped(addr, ^uint64(0)-addr+2) {
		t.Error("a range wrapping past 2^64 reported mapped")
	}
	if _, err := m.Remap(addr, 0, pageSize, linux.MREMAP_MAYMOVE, 0); err != unix.EINVAL {
		t.Errorf("mremap of old length 0: %v, want EINVAL", err)
	}
}

// TestProtectSplitsAndMerges checks that mprotect of a middle page makes
// three vmas and setting it back makes one again, as /proc/PID/maps shows on
// Linux.
func TestProtectSplitsAndMerges(t *testing.T) {
	m := newTestMM(t)
	addr, err := m.Map(MapOpts{Length: 3 * pageSize, Perm: platform.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		for _, mp := range m.Mappings() {
			if mp.Start < addr+3*pageSize && mp.End > addr {
				n++
			}
		}
		return n
	}
	steps := []struct {
		perm platform.Access
		want int
	}{
		{platform.Access{Read: true}, 3},
		{platform.ReadWrite, 1},
	}
	for _, s := range steps {
		if err := m.Protect(addr+pageSize, pageSize, s.perm); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != s.want {
			t.Errorf("after Protect(%+v): %d vmas, want %d", s.perm, got, s.want)
		}
	}
	if err := m.ProtectGrowsDown(addr, pageSize, platform.ReadWrite); err != unix.EINVAL {
		t.Errorf("ProtectGrowsDown of a plain mapping: %v, want EINVAL", err)
	}
}

// TestFaultBeyondEOF checks that a fault on a file page past the end of the
// file is ErrBeyondEOF (SIGBUS), and one on an unmapped page EFAULT.
func TestFaultBeyondEOF(t *testing.T) {
	m := newTestMM(t)
	p, err := m.mf.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	f := testFile{mf: m.mf, pages: []int64{p}}
	addr, err := m.Map(MapOpts{Length: 2 * pageSize, Perm: platform.ReadWrite, Shared: true, File: f})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.HandleFault(addr, platform.Access{Read: true}, nil, nil); err != nil {
		t.Errorf("fault in the file: %v", err)
	}
	if _, err := m.HandleFault(addr+pageSize, platform.Access{Read: true}, nil, nil); err != ErrBeyondEOF {
		t.Errorf("fault past the end of the file: %v, want ErrBeyondEOF", err)
	}
	if _, err := m.HandleFault(addr+2*pageSize, platform.Access{Read: true}, nil, nil); err != unix.EFAULT {
		t.Errorf("fault past the mapping: %v, want EFAULT", err)
	}
}

// TestForkAdvice checks MADV_DONTFORK and MADV_WIPEONFORK: the child lacks
// the first mapping and gets the second empty; the parent keeps both.
func TestForkAdvice(t *testing.T) {
	m := newTestMM(t)
	var addrs [2]uint64
	for i, adv := range []Advice{AdviceDontFork, AdviceWipeOnFork} {
		a, err := m.Map(MapOpts{Length: pageSize, Perm: platform.ReadWrite})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.CopyOut(a, []byte{7}); err != nil {
			t.Fatal(err)
		}
		if err := m.Advise(a, pageSize, adv); err != nil {
			t.Fatal(err)
		}
		addrs[i] = a
	}
	c, err := m.Fork(fakePlatform{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.IsMapped(addrs[0], pageSize) {
		t.Error("MADV_DONTFORK mapping present in the child")
	}
	var b [1]byte
	if _, err := c.CopyIn(addrs[1], b[:]); err != nil || b[0] != 0 {
		t.Errorf("MADV_WIPEONFORK page in the child: %v, %v; want 0", b[0], err)
	}
	for _, a := range addrs {
		if _, err := m.CopyIn(a, b[:]); err != nil || b[0] != 7 {
			t.Errorf("parent's page %#x: %v, %v; want 7", a, b[0], err)
		}
	}
}

// TestLockLimit checks mlock's accounting against its limit.
func TestLockLimit(t *testing.T) {
	m := newTestMM(t)
	a, err := m.Map(MapOpts{Length: 4 * pageSize, Perm: platform.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr, length, limit uint64
		want                error
	}{
		{a, pageSize, pageSize, nil},
		{a, pageSize, pageSize, nil}, // already locked: not counted twice
		{a + pageSize, pageSize, pageSize, unix.ENOMEM},
		{a, 4 * pageSize, 4 * pageSize, nil},
		{a, 5 * pageSize, NoLockLimit, unix.ENOMEM}, // not all mapped
	}
	for _, tc := range tests {
		if err := m.Lock(tc.addr, tc.length, true, false, tc.limit); err != tc.want {
			t.Errorf("Lock(%#x, %#x, limit %#x): %v, want %v", tc.addr, tc.length, tc.limit, err, tc.want)
		}
	}
	if !m.Resident(a + 3*pageSize) {
		t.Error("locked page not made present")
	}
}

// namedFile is a Mappable whose maps name changes after mmap.
type namedFile struct {
	name string
	refs int
}

func (f *namedFile) Page(int64) (int64, error) { return 0, unix.EIO }
func (f *namedFile) IncRef()                   { f.refs++ }
func (f *namedFile) DecRef()                   { f.refs-- }
func (f *namedFile) MapName() (string, bool)   { return f.name, f.name != "" }

// /proc/PID/maps shows a file's name as it is when read (an unlinked file
// is " (deleted)"), not as it was at mmap.
func TestMappingsNameAtReadTime(t *testing.T) {
	m := newTestMM(t)
	f := &namedFile{name: "/a"}
	addr, err := m.Map(MapOpts{Length: pageSize, Perm: platform.Read, File: f, Name: "/old"})
	if err != nil {
		t.Fatal(err)
	}
	f.name = "/a (deleted)"
	ms := m.Mappings()
	if len(ms) != 1 || ms[0].Start != addr || ms[0].Name != "/a (deleted)" {
		t.Errorf("mappings %+v", ms)
	}
	if f.refs != 1 {
		t.Errorf("references after Mappings: %d, want 1 (the mapping's)", f.refs)
	}
}

// keyedFile is a testFile that file systems may take pages from.
type keyedFile struct {
	testFile
	key any
}

func (f keyedFile) MappingKey() any { return f.key }

// TestInvalidateFile drops the pages of the invalidated range in shared
// mappings and the uncopied file pages of private ones, and keeps private
// copies and other files' pages.
func TestInvalidateFile(t *testing.T) {
	m := newTestMM(t)
	f := keyedFile{testFile{mf: m.mf}, "key"}
	other := keyedFile{testFile{mf: m.mf}, "other"}
	for i := 0; i < 4; i++ {
		for _, tf := range []*testFile{&f.testFile, &other.testFile} {
			p, err := m.mf.Allocate()
			if err != nil {
				t.Fatal(err)
			}
			tf.pages = append(tf.pages, p)
		}
	}
	const shared, private, third = 0x100000000, 0x200000000, 0x300000000
	for _, mo := range []MapOpts{
		{Addr: shared, Length: 4 * pageSize, Shared: true, File: f},
		{Addr: private, Length: 4 * pageSize, File: f},
		{Addr: third, Length: 4 * pageSize, Shared: true, File: other},
	} {
		mo.Fixed, mo.Perm = true, platform.ReadWrite
		if _, err := m.Map(mo); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint64(0); i < 4; i++ {
		for _, a := range []uint64{shared, private, third} {
			if _, err := m.HandleFault(a+i*pageSize, platform.Access{Read: true}, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A private copy of page 1.
	if _, err := m.CopyOut(private+pageSize, []byte{1}); err != nil {
		t.Fatal(err)
	}
	m.InvalidateFile("key", pageSize, -1)
	for i := uint64(0); i < 4; i++ {
		present := func(a uint64) bool { return m.pages[a+i*pageSize] != nil }
		if want := i == 0; present(shared) != want {
			t.Errorf("shared page %d present %v, want %v", i, present(shared), want)
		}
		if want := i <= 1; present(private) != want {
			t.Errorf("private page %d present %v, want %v (copies stay)", i, present(private), want)
		}
		if !present(third) {
			t.Errorf("page %d of another file dropped", i)
		}
	}
}
