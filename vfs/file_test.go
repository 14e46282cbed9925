package vfs

import (
	"math"
	"testing"

	"golang.org/x/sys/unix"
)

func TestGenericSeek(t *testing.T) {
	for _, tc := range []struct {
		name      string
		off       int64
		whence    int
		cur, size int64
		want      int64
		err       error
	}{
		{"set", 5, unix.SEEK_SET, 1, 10, 5, nil},
		{"set negative", -1, unix.SEEK_SET, 1, 10, 0, unix.EINVAL},
		{"cur", -1, unix.SEEK_CUR, 4, 10, 3, nil},
		{"cur before start", -5, unix.SEEK_CUR, 4, 10, 0, unix.EINVAL},
		// Linux: the sum wraps negative, which is EINVAL (not EOVERFLOW).
		{"cur overflow", 0x1000, unix.SEEK_CUR, math.MaxInt64 - 0xff, 10, 0, unix.EINVAL},
		{"end", -2, unix.SEEK_END, 0, 10, 8, nil},
		{"end overflow", math.MaxInt64, unix.SEEK_END, 0, 10, 0, unix.EINVAL},
		{"end without size", 0, unix.SEEK_END, 0, -1, 0, unix.EINVAL},
		{"data", 3, unix.SEEK_DATA, 0, 10, 3, nil},
		{"data at end", 10, unix.SEEK_DATA, 0, 10, 0, unix.ENXIO},
		{"hole", 3, unix.SEEK_HOLE, 0, 10, 10, nil},
		{"hole negative", -1, unix.SEEK_HOLE, 0, 10, 0, unix.ENXIO},
		{"bad whence", 0, 5, 0, 10, 0, unix.EINVAL},
	} {
		got, err := GenericSeek(tc.off, tc.whence, tc.cur, tc.size)
		if err != tc.err || (err == nil && got != tc.want) {
			t.Errorf("%s: GenericSeek(%d, %d, %d, %d) = %d, %v; want %d, %v",
				tc.name, tc.off, tc.whence, tc.cur, tc.size, got, err, tc.want, tc.err)
		}
	}
}

func TestPrivsToKill(t *testing.T) {
	user := &Credentials{UID: 1000, GID: 1000}
	root := RootCredentials()
	for _, tc := range []struct {
		creds *Credentials
		mode  uint32
		want  uint32
	}{
		{user, 0o6777, unix.S_ISUID | unix.S_ISGID},
		{user, 0o6767, unix.S_ISUID}, // set-group-ID without group execute stays
		{user, 0o2775, unix.S_ISGID},
		{user, 0o0777, 0},
		{root, 0o6777, 0}, // CAP_FSETID
	} {
		if got := privsToKill(tc.creds, tc.mode); got != tc.want {
			t.Errorf("privsToKill(uid %d, %#o) = %#o, want %#o", tc.creds.UID, tc.mode, got, tc.want)
		}
	}
}
