package memfile

import (
	"fmt"
	"testing"
)

func TestAllocateFreeReuse(t *testing.T) {
	f, err := New("test", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := f.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	p := f.Page(a)
	if p[0] != 0 || p[PageSize-1] != 0 {
		t.Fatalf("fresh page not zero")
	}
	p[0], p[100] = 7, 9
	f.IncRef(a)
	if got := f.Refs(a); got != 2 {
		t.Fatalf("refs = %d, want 2", got)
	}
	f.DecRef(a)
	if p[100] != 9 {
		t.Fatalf("page lost data while still referenced")
	}
	f.DecRef(a)
	if got := f.InUse(); got != 0 {
		t.Fatalf("InUse = %d after freeing, want 0", got)
	}
	b, _ := f.Allocate()
	if b != a {
		t.Fatalf("freed page %#x not reused first (got %#x)", a, b)
	}
	if q := f.Page(b); q[0] != 0 || q[100] != 0 {
		t.Fatalf("reallocated page not zeroed: %d %d", q[0], q[100])
	}
}

func TestExhaustion(t *testing.T) {
	// Every page is usable, also those of a last partial chunk.
	for _, pages := range []int{chunkPages, 10, chunkPages + 3} {
		f, err := New("test", int64(pages)*PageSize)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i := 0; i < pages; i++ {
			if _, err := f.Allocate(); err != nil {
				t.Fatalf("%d pages: allocation %d: %v", pages, i, err)
			}
		}
		if _, err := f.Allocate(); err == nil {
			t.Fatalf("%d pages: allocation beyond capacity succeeded", pages)
		}
	}
}

// TestConcurrentFreeAllocate checks that a page freed on one goroutine and
// allocated on another is never zeroed under its new owner.
func TestConcurrentFreeAllocate(t *testing.T) {
	f, err := New("test", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const workers, rounds = 4, 2000
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := 0; i < rounds; i++ {
				off, err := f.Allocate()
				if err != nil {
					errs <- err
					return
				}
				p := f.Page(off)
				for j := range p {
					p[j] = byte(w + 1)
				}
				for j := range p {
					if p[j] != byte(w+1) {
						errs <- fmt.Errorf("page %#x byte %d changed to %d under its owner", off, j, p[j])
						return
					}
				}
				f.DecRef(off)
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestFreedPagesReadZero frees enough written pages to trigger the batched
// reclaim and checks that every page allocated afterwards, reclaimed or
// reused dirty, reads as zeroes.
func TestFreedPagesReadZero(t *testing.T) {
	f, err := New("test", 2*reclaimPages*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := reclaimPages + 100
	offs := make([]int64, n)
	for i := range offs {
		if offs[i], err = f.Allocate(); err != nil {
			t.Fatal(err)
		}
		p := f.Page(offs[i])
		p[0], p[PageSize-1] = 0xff, 0xee
	}
	for _, off := range offs {
		f.DecRef(off)
	}
	if got := f.InUse(); got != 0 {
		t.Fatalf("InUse = %d after freeing everything", got)
	}
	for i := 0; i < n; i++ {
		off, err := f.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if p := f.Page(off); p[0] != 0 || p[PageSize-1] != 0 {
			t.Fatalf("page %#x not zero after reuse: %#x %#x", off, p[0], p[PageSize-1])
		}
	}
}

func TestAllocateRun(t *testing.T) {
	f, err := New("test", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Dirty some pages and free them out of order, so that the top of the
	// free list is not a run.
	var single []int64
	for i := 0; i < 8; i++ {
		off, err := f.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		f.Page(off)[10] = 0xaa
		single = append(single, off)
	}
	for _, i := range []int{5, 1, 6, 2} {
		f.DecRef(single[i])
	}
	for _, n := range []int{1, 2, 16, 512} {
		base, err := f.AllocateRun(n)
		if err != nil {
			t.Fatalf("AllocateRun(%d): %v", n, err)
		}
		for i := 0; i < n; i++ {
			off := base + int64(i)*PageSize
			if got := f.Refs(off); got != 1 {
				t.Fatalf("run of %d: page %d has %d refs, want 1", n, i, got)
			}
			if p := f.Page(off); p[10] != 0 {
				t.Fatalf("run of %d: page %d not zeroed", n, i)
			}
			f.Page(off)[10] = byte(n)
		}
		// Runs never overlap pages still in use.
		for _, i := range []int{0, 3, 4, 7} {
			if off := single[i]; off >= base && off < base+int64(n)*PageSize {
				t.Fatalf("run of %d at %#x overlaps page %#x, in use", n, base, off)
			}
		}
	}
	for _, bad := range []int{0, -1, chunkPages + 1} {
		if _, err := f.AllocateRun(bad); err == nil {
			t.Errorf("AllocateRun(%d) succeeded", bad)
		}
	}
}

func TestAllocateRunReusesFreedRun(t *testing.T) {
	f, err := New("test", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, err := f.AllocateRun(16)
	if err != nil {
		t.Fatal(err)
	}
	before := f.size
	// Freed in descending order, the run is on top of the free list again
	// in allocation order, so a new run takes it without growing the file.
	for i := 15; i >= 0; i-- {
		f.DecRef(base + int64(i)*PageSize)
	}
	again, err := f.AllocateRun(16)
	if err != nil {
		t.Fatal(err)
	}
	if again != base || f.size != before {
		t.Fatalf("run at %#x (file %d bytes), want the freed run at %#x (file %d bytes)", again, f.size, base, before)
	}
	if got := f.InUse(); got != 16 {
		t.Fatalf("InUse = %d, want 16", got)
	}
}
