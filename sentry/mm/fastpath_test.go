package mm

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

func TestCoalesce(t *testing.T) {
	ro, rw := platform.Read, platform.ReadWrite
	m := func(addr uintptr, n int, off int64, p platform.Access) platform.Mapping {
		return platform.Mapping{Addr: addr, Length: uintptr(n) * pageSize, Offset: off, Perm: p}
	}
	for _, tc := range []struct {
		name    string
		in, out []platform.Mapping
	}{
		{"one", []platform.Mapping{m(0x1000, 1, 0x5000, ro)}, []platform.Mapping{m(0x1000, 1, 0x5000, ro)}},
		{"contiguous, out of order",
			[]platform.Mapping{m(0x3000, 1, 0x7000, ro), m(0x1000, 1, 0x5000, ro), m(0x2000, 1, 0x6000, ro)},
			[]platform.Mapping{m(0x1000, 3, 0x5000, ro)}},
		{"file offsets not contiguous",
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), m(0x2000, 1, 0x9000, ro)},
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), m(0x2000, 1, 0x9000, ro)}},
		{"addresses not contiguous",
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), m(0x3000, 1, 0x6000, ro)},
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), m(0x3000, 1, 0x6000, ro)}},
		{"permissions differ",
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), m(0x2000, 1, 0x6000, rw), m(0x3000, 1, 0x7000, rw)},
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), m(0x2000, 2, 0x6000, rw)}},
		{"backing files differ",
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), {Addr: 0x2000, Length: pageSize, Offset: 0x6000, Perm: ro, File: 1}},
			[]platform.Mapping{m(0x1000, 1, 0x5000, ro), {Addr: 0x2000, Length: pageSize, Offset: 0x6000, Perm: ro, File: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := coalesce(slices.Clone(tc.in)); !slices.Equal(got, tc.out) {
				t.Errorf("coalesce(%v) = %v, want %v", tc.in, got, tc.out)
			}
		})
	}
}

// fileOf returns a read function over data that counts its calls, failing
// with EIO after failAt bytes (if failAt >= 0).
func fileOf(data []byte, failAt int, calls *int) func([]byte, int64) (int, error) {
	return func(p []byte, off int64) (int, error) {
		*calls++
		if off >= int64(len(data)) {
			return 0, nil
		}
		n := copy(p, data[off:])
		if failAt >= 0 && off+int64(n) > int64(failAt) {
			n = max(0, failAt-int(off))
			return n, unix.EIO
		}
		return n, nil
	}
}

func newTestPageCache(t *testing.T) (*memfile.File, *PageCache) {
	t.Helper()
	mf, err := memfile.New("pc-test", 16<<20)
	if err != nil {
		t.Skipf("memfile: %v", err)
	}
	t.Cleanup(func() { mf.Close() })
	return mf, NewPageCache(mf, 1024)
}

func TestPageCacheReadsClusters(t *testing.T) {
	mf, pc := newTestPageCache(t)
	const pages = clusterPages + 5
	size := (pages-1)*pageSize + 100 // the last page partial
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i/pageSize + 1)
	}
	var calls int
	read := fileOf(data, -1, &calls)
	get := func(page int64) int64 {
		t.Helper()
		off, err := pc.Page("f", page*pageSize, int64(size), read)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if got := mf.Page(off)[0]; got != byte(page+1) {
			t.Fatalf("page %d holds %d, want %d", page, got, page+1)
		}
		return off
	}
	p3 := get(3)
	if calls != 1 {
		t.Fatalf("%d reads for the first page, want 1", calls)
	}
	// The rest of the aligned window came with it, contiguous.
	for i := int64(0); i < clusterPages; i++ {
		if off := get(i); off != p3+(i-3)*pageSize {
			t.Errorf("page %d at %#x, want %#x (contiguous with page 3)", i, off, p3+(i-3)*pageSize)
		}
	}
	if calls != 1 {
		t.Errorf("%d reads after touching the window, want 1", calls)
	}
	// The last window is clipped at the end of the file and zero-filled
	// past it.
	last := get(pages - 1)
	if calls != 2 {
		t.Errorf("%d reads, want 2", calls)
	}
	tail := mf.Page(last)
	if tail[99] != pages || tail[100] != 0 || tail[pageSize-1] != 0 {
		t.Errorf("last page: byte 99 = %d, 100 = %d, 4095 = %d; want %d, 0, 0", tail[99], tail[100], tail[pageSize-1], pages)
	}
	if _, err := pc.Page("f", pages*pageSize, int64(size), read); !errors.Is(err, unix.EFAULT) {
		t.Errorf("page past the end: %v, want EFAULT", err)
	}
}

func TestPageCacheShortRead(t *testing.T) {
	mf, pc := newTestPageCache(t)
	size := clusterPages * pageSize
	data := make([]byte, size)
	var calls int
	// The window read fails after two and a half pages.
	read := fileOf(data, 2*pageSize+pageSize/2, &calls)
	if _, err := pc.Page("f", 5*pageSize, int64(size), read); !errors.Is(err, unix.EIO) {
		t.Fatalf("page beyond a failed read: %v, want EIO", err)
	}
	if _, err := pc.Page("f", pageSize, int64(size), read); err != nil {
		t.Fatalf("page covered by the read: %v", err)
	}
	// Page 2 was only half read: it is not cached, and is read again.
	before := calls
	pc.Page("f", 2*pageSize, int64(size), read)
	if calls == before {
		t.Errorf("a half-read page was served from the cache")
	}
	if n := mf.InUse(); n > int64(pc.pages)+2 {
		t.Errorf("%d pages in use for %d cached ones: pages of the failed reads leaked", n, pc.pages)
	}
}

// recordingAS remembers the requests that reach it.
type recordingAS struct {
	fakeAS
	maps   [][]platform.Mapping
	unmaps int
}

func (r *recordingAS) MapFiles(ms []platform.Mapping) error {
	r.maps = append(r.maps, slices.Clone(ms))
	return nil
}
func (r *recordingAS) Unmap(uintptr, uintptr) error { r.unmaps++; return nil }

// localCtx is a platform.Context that maps through itself.
type localCtx struct {
	platform.Context
	maps     [][]platform.Mapping
	unmaps   int
	protects []platform.Range
	perms    []platform.Access
}

func (c *localCtx) MapFilesLocal(_ platform.AddressSpace, ms []platform.Mapping) error {
	c.maps = append(c.maps, slices.Clone(ms))
	return nil
}
func (c *localCtx) UnmapLocal(platform.AddressSpace, uintptr, uintptr) error { c.unmaps++; return nil }
func (c *localCtx) ProtectLocal(_ platform.AddressSpace, rs []platform.Range, perm platform.Access) error {
	c.protects = append(c.protects, rs...)
	for range rs {
		c.perms = append(c.perms, perm)
	}
	return nil
}

// At fork the parent's writable private pages are made read-only through
// the forking context, one request per run of pages, not unmapped: the
// parent goes on reading them without faults.
func TestForkReprotectsThroughContext(t *testing.T) {
	m := newTestMM(t)
	as := &recordingAS{}
	m.as = as
	addr, err := m.Map(MapOpts{Length: 4 * pageSize, Perm: platform.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	ctx := &localCtx{}
	for i := uint64(0); i < 4; i++ {
		if _, err := m.HandleFault(addr+i*pageSize, platform.Access{Write: true}, ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(as.maps) != 0 || len(ctx.maps) == 0 {
		t.Fatalf("faults mapped %d times through the address space and %d through the context; want 0 and some", len(as.maps), len(ctx.maps))
	}
	ctx.maps = nil
	c, err := m.Fork(fakePlatform{}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if as.unmaps != 0 || ctx.unmaps != 0 || len(as.maps) != 0 || len(ctx.maps) != 0 {
		t.Errorf("fork unmapped (%d, %d) or mapped (%d, %d)", as.unmaps, ctx.unmaps, len(as.maps), len(ctx.maps))
	}
	want := []platform.Range{{Addr: uintptr(addr), Length: 4 * pageSize}}
	if !slices.Equal(ctx.protects, want) || ctx.perms[0] != platform.Read {
		t.Errorf("fork protected %v to %v, want %v to read-only", ctx.protects, ctx.perms, want)
	}
	for i := uint64(0); i < 4; i++ {
		if p := m.pages[addr+i*pageSize]; p.mapped.Write || !p.mapped.Read {
			t.Errorf("page %d mapped %+v after fork, want read-only", i, p.mapped)
		}
	}
}
