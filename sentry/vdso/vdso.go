// Package vdso provides the guest's vDSO: a small shared object (csrc/vdso.c,
// built by gen.sh into vdso_image.go) mapped into every guest image, and the
// data page it reads, which the sentry keeps up to date. clock_gettime,
// gettimeofday and time then run entirely in the guest, from the TSC,
// without trapping into the sentry.
package vdso

//go:generate ./gen.sh

import (
	"debug/elf"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// VDSO is the vDSO image and data page of one sandbox, in its memory file.
type VDSO struct {
	mf     *memfile.File
	pages  []int64 // the image, page by page
	data   int64   // the data page
	params *params // the data page, in the sentry's mapping of mf

	stop chan struct{}
	done sync.WaitGroup
}

// New copies the image into the memory file.
func New(mf *memfile.File) (*VDSO, error) {
	if _, err := elf.NewFile(bytesReaderAt(image)); err != nil {
		return nil, fmt.Errorf("vdso image: %w", err)
	}
	v := &VDSO{mf: mf}
	for off := 0; off < len(image); off += memfile.PageSize {
		p, err := mf.Allocate()
		if err != nil {
			return nil, err
		}
		copy(mf.Page(p), image[off:])
		v.pages = append(v.pages, p)
	}
	d, err := mf.Allocate()
	if err != nil {
		return nil, err
	}
	v.data = d
	v.params = (*params)(unsafe.Pointer(&mf.Page(d)[0]))
	return v, nil
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, fmt.Errorf("read beyond the image")
	}
	return copy(p, b[off:]), nil
}

// pages is an mm.Mappable over fixed memory-file pages that the VDSO owns
// for the sandbox's lifetime.
type pages struct {
	mf  *memfile.File
	off []int64
}

func (p pages) Page(off int64) (int64, error) {
	i := off / memfile.PageSize
	if i < 0 || i >= int64(len(p.off)) {
		return 0, unix.EFAULT
	}
	p.mf.IncRef(p.off[i])
	return p.off[i], nil
}

func (pages) IncRef() {}
func (pages) DecRef() {}

// Map maps the data page and, just above it, the image into m, and returns
// the image's address for AT_SYSINFO_EHDR.
func (v *VDSO) Map(m *mm.MM) (uint64, error) {
	n := uint64(len(v.pages))
	base, err := m.Map(mm.MapOpts{Length: (n + 1) * memfile.PageSize, Perm: platform.NoAccess})
	if err != nil {
		return 0, err
	}
	if _, err := m.Map(mm.MapOpts{Addr: base, Length: memfile.PageSize, Fixed: true, Shared: true,
		Perm: platform.Read, MaxPerm: platform.Read, File: pages{v.mf, []int64{v.data}}, Name: "[vvar]"}); err != nil {
		return 0, err
	}
	img := base + memfile.PageSize
	if _, err := m.Map(mm.MapOpts{Addr: img, Length: n * memfile.PageSize, Fixed: true,
		Perm: platform.ReadExec, MaxPerm: platform.AnyAccess, File: pages{v.mf, v.pages}, Name: "[vdso]"}); err != nil {
		return 0, err
	}
	return img, nil
}

// Start publishes clock parameters until Stop: a first calibration after a
// few milliseconds (until then the vDSO makes system calls), then an update
// every interval.
func (v *VDSO) Start(interval time.Duration) {
	v.stop = make(chan struct{})
	v.done.Add(1)
	go func() {
		defer v.done.Done()
		var c calibrator
		c.publish(v.params, sample(), rdtsc)
		wait := 10 * time.Millisecond
		for {
			select {
			case <-v.stop:
				return
			case <-time.After(wait):
			}
			c.publish(v.params, sample(), rdtsc)
			wait = interval
		}
	}()
}

// Stop ends the updates.
func (v *VDSO) Stop() {
	if v.stop != nil {
		close(v.stop)
		v.done.Wait()
		v.stop = nil
	}
}

// Now reads clock id (unix.CLOCK_REALTIME, CLOCK_MONOTONIC or
// CLOCK_BOOTTIME) as the guest's vDSO computes it, from the same data page
// with the same arithmetic, so the sentry and the guest read one clock. ok
// is false until the first calibration: the vDSO then makes the system
// call, and the sentry must read the host's clock.
func (v *VDSO) Now(id int32) (ns int64, ok bool) { return v.params.now(id, rdtsc) }
