package boot

import (
	"github.com/runsc-lite/runsc-lite/vfs"
	"github.com/runsc-lite/runsc-lite/vfs/devfs"
	"github.com/runsc-lite/runsc-lite/vfs/procfs"
)

func newProcFS(s *sandbox) *vfs.Filesystem { return procfs.New(s.vfs, s.k) }

func newDevFS(s *sandbox) (*vfs.Filesystem, error) { return devfs.New(s.vfs, s.mf) }
