//go:build linux

package gofer

import (
	"strings"

	"golang.org/x/sys/unix"
)

// maxNameLen is NAME_MAX: no Linux file system accepts longer components.
const maxNameLen = 255

// checkName accepts only a single, real directory entry name. This is what
// keeps every request inside its mount: with no "/" and no ".." a name
// passed to openat(dirfd, name, O_NOFOLLOW) can only reach a child of dirfd.
func checkName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return unix.EINVAL
	case len(name) > maxNameLen:
		return unix.ENAMETOOLONG
	case strings.IndexByte(name, '/') >= 0, strings.IndexByte(name, 0) >= 0:
		return unix.EINVAL
	}
	return nil
}
