package vfs

// MappingKeyer is implemented by Mappables whose pages a file system can
// take away from under existing mappings (truncation, hole punching). The
// key identifies the file's data, whichever open file maps it; the file
// system passes the same key to VFS.InvalidateMappings.
type MappingKeyer interface {
	MappingKey() any
}

// MappingInvalidator drops, in every address space, the pages mapped from
// the file data key at file offsets [start, end) (end < 0: to the end), so
// that the next access faults and sees the file as it is now.
type MappingInvalidator func(key any, start, end int64)

// SetMappingInvalidator installs the kernel's MappingInvalidator.
func (v *VFS) SetMappingInvalidator(fn MappingInvalidator) { v.invalidator.Store(&fn) }

// InvalidateMappings calls the installed MappingInvalidator, if any. File
// systems call it after removing pages, without holding their own locks
// (the invalidator takes the address spaces' locks, whose faults call back
// into the file system).
func (v *VFS) InvalidateMappings(key any, start, end int64) {
	if fn := v.invalidator.Load(); fn != nil {
		(*fn)(key, start, end)
	}
}

// VFS returns the file system's VFS.
func (fs *Filesystem) VFS() *VFS { return fs.vfs }
