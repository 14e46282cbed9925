package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// PathOf returns the path of loc as seen from root (getcwd, /proc/self/exe,
// /proc/PID/fd/N). An unlinked file gets the " (deleted)" suffix, a location
// outside root the "(unreachable)" prefix, and anonymous files (pipes...)
// their name, such as "pipe:[12]". getcwd should fail with ENOENT itself
// when loc.Dentry.IsDead().
func (v *VFS) PathOf(root, loc Location) (string, error) {
	if !loc.Ok() {
		return "", unix.ENOENT
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if loc.Mount == v.anonMnt && loc.Mount != nil {
		return loc.Dentry.name, nil
	}
	var parts []string
	l := loc
	unreachable := false
	for l != root {
		if l.Dentry == l.Mount.root {
			if l.Mount.internal {
				break
			}
			if l.Mount.parent == nil {
				unreachable = true
				break
			}
			l = Location{l.Mount.parent, l.Mount.point}
			continue
		}
		if l.Dentry.parent == nil {
			unreachable = true
			break
		}
		parts = append(parts, l.Dentry.name)
		l.Dentry = l.Dentry.parent
	}
	var b strings.Builder
	if unreachable {
		b.WriteString("(unreachable)")
	}
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	if len(parts) == 0 {
		b.WriteByte('/')
	}
	if loc.Dentry.IsDead() {
		b.WriteString(" (deleted)")
	}
	return b.String(), nil
}
