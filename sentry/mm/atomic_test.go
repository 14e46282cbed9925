package mm

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

func TestCompareAndSwapUint32(t *testing.T) {
	m := newTestMM(t)
	addr, err := m.Map(MapOpts{Length: pageSize, Perm: platform.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	word := addr + 8
	if _, err := m.CopyOut(word, []byte{7, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if prev, err := m.CompareAndSwapUint32(word, 5, 9); err != nil || prev != 7 {
		t.Errorf("CAS with a stale old value: %d, %v; want 7, nil", prev, err)
	}
	if prev, err := m.CompareAndSwapUint32(word, 7, 9); err != nil || prev != 7 {
		t.Errorf("CAS: %d, %v; want 7, nil", prev, err)
	}
	var b [4]byte
	if _, err := m.CopyIn(word, b[:]); err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(b[:]); got != 9 {
		t.Errorf("word after CAS = %d, want 9", got)
	}
	for _, tc := range []struct {
		addr uint64
		want error
	}{
		{word + 1, unix.EINVAL},
		{addr + pageSize, unix.EFAULT},
		{^uint64(3), unix.EFAULT},
	} {
		if _, err := m.CompareAndSwapUint32(tc.addr, 0, 1); err != tc.want {
			t.Errorf("CAS at %#x: %v, want %v", tc.addr, err, tc.want)
		}
	}
}
