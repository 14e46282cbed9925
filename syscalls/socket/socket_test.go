package socket

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

func TestNewSocketErrors(t *testing.T) {
	for _, tc := range []struct {
		domain, stype, protocol int
		want                    error
	}{
		{unix.AF_INET, unix.SOCK_STREAM, -1, unix.EINVAL},
		{unix.AF_INET6, 0, ipprotoMax, unix.EINVAL}, // the protocol's range comes first
		{unix.AF_INET, 0, 0, unix.ESOCKTNOSUPPORT},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP, unix.EPROTONOSUPPORT},
		{unix.AF_UNIX, unix.SOCK_STREAM, -1, unix.EPROTONOSUPPORT},
		{unix.AF_UNIX, unix.SOCK_RDM, 0, unix.ESOCKTNOSUPPORT},
		{afMax, unix.SOCK_STREAM, 0, unix.EAFNOSUPPORT},
	} {
		if _, err := newSocket(nil, tc.domain, tc.stype, tc.protocol); err != tc.want {
			t.Errorf("socket(%d, %d, %d): %v, want %v", tc.domain, tc.stype, tc.protocol, err, tc.want)
		}
	}
}

func TestCheckMsgFlags(t *testing.T) {
	if err := checkMsgFlags(unix.MSG_DONTWAIT | unix.MSG_CMSG_CLOEXEC); err != nil {
		t.Errorf("ordinary flags: %v", err)
	}
	// The register's upper half is not part of the flags.
	if err := checkMsgFlags(1<<32 | unix.MSG_PEEK); err != nil {
		t.Errorf("upper register bits: %v", err)
	}
	if err := checkMsgFlags(linux.MSG_CMSG_COMPAT); err != unix.EINVAL {
		t.Errorf("MSG_CMSG_COMPAT: %v, want EINVAL", err)
	}
}
