package socket

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/vfs"
)

type procCtx struct {
	vfs.Context
	tgid int32
}

func (p procCtx) ThreadGroupID() int32 { return p.tgid }

func TestContextCaller(t *testing.T) {
	cr := &vfs.Credentials{UID: 1, GID: 2, RealUID: 3, RealGID: 4}
	base := vfs.NewContext(cr)
	for _, tc := range []struct {
		name string
		ctx  vfs.Context
		want Creds
	}{
		{"task", procCtx{base, 42}, Creds{PID: 42, UID: 3, GID: 4}},
		{"no process", base, Creds{PID: 0, UID: 3, GID: 4}},
	} {
		if got := ContextCaller(tc.ctx).RealCreds; got != tc.want {
			t.Errorf("%s: RealCreds %+v, want %+v (real IDs, not fs IDs)", tc.name, got, tc.want)
		}
	}
}
