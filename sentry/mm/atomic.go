package mm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CompareAndSwapUint32 atomically replaces the aligned 32-bit word at guest
// address addr with new if it holds old, and returns the value it held. Guest
// threads update futex words with their own atomic instructions while the
// sentry does, so a copy out would lose their updates.
func (m *MM) CompareAndSwapUint32(addr uint64, old, new uint32) (uint32, error) {
	if addr&3 != 0 {
		return 0, unix.EINVAL
	}
	if addr+4 < addr || addr+4 > m.max {
		return 0, unix.EFAULT
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	page := addr &^ (pageSize - 1)
	pg, err := m.pageForLocked(page, true)
	if err != nil {
		return 0, err
	}
	mem := pg[addr-page : addr-page+4]
	p := (*uint32)(unsafe.Pointer(&mem[0]))
	for {
		cur := atomic.LoadUint32(p)
		if cur != old {
			return cur, nil
		}
		if atomic.CompareAndSwapUint32(p, old, new) {
			return old, nil
		}
	}
}
