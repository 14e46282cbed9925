package ipc

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// fakeMem counts the references on a segment's memory.
type fakeMem struct{ refs int }

func (m *fakeMem) Page(int64) (int64, error) { return 0, nil }
func (m *fakeMem) IncRef()                   { m.refs++ }
func (m *fakeMem) DecRef()                   { m.refs-- }

// TestShmRemovedAtLastDetach checks IPC_RMID's deferred destruction: the key
// goes at once, the segment and its memory with the last mapping.
func TestShmRemovedAtLastDetach(t *testing.T) {
	ns := NewNamespace()
	mem := &fakeMem{}
	const key = 42
	id, err := ns.ShmGet(root, 1, key, 100, IPCCreat|0o600, func() mm.Mappable { return mem })
	if err != nil {
		t.Fatal(err)
	}
	att, err := ns.ShmAt(root, 1, id, true)
	if err != nil {
		t.Fatal(err)
	}
	att.IncRef() // mapped
	att.IncRef() // and split, or forked
	if _, _, _, err := ns.ShmCtl(root, id, IPCRmid, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.ShmGet(root, 1, key, 100, 0, nil); err != unix.ENOENT {
		t.Errorf("key after IPC_RMID: %v, want ENOENT", err)
	}
	att.DecRef()
	if _, st, _, err := ns.ShmCtl(root, id, IPCStat, nil); err != nil || st.NAttch != 1 || st.Perm.Mode&shmDest == 0 {
		t.Errorf("IPC_STAT of a removed, attached segment: %+v, %v", st, err)
	}
	if mem.refs != 1 {
		t.Errorf("memory references while attached: %d, want 1", mem.refs)
	}
	att.DecRef()
	if _, _, _, err := ns.ShmCtl(root, id, IPCStat, nil); err != unix.EINVAL {
		t.Errorf("IPC_STAT after the last detach: %v, want EINVAL", err)
	}
	if mem.refs != 0 {
		t.Errorf("memory references after the last detach: %d, want 0", mem.refs)
	}
}
