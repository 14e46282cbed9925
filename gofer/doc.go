// Package gofer is the file broker of runsc-lite: a confined host process
// that serves the sandbox's host files to the sentry, and the client the
// sentry uses to talk to it.
//
// The sentry never opens host paths itself. It asks the gofer to attach to a
// mount, walk names one component at a time, and open or create files; the
// gofer answers with metadata and hands opened host FDs over SCM_RIGHTS.
//
// Every fid on the server is an O_PATH|O_NOFOLLOW host FD, and every name is
// opened relative to its parent FD with openat(O_NOFOLLOW) after validation
// (no "/", ".", "..", NUL, or empty name), so no request can leave the mount
// it started in and symlinks are never followed: the sentry resolves them.
//
// The transport is a SOCK_SEQPACKET unix socket carrying one protobuf
// message (package goferpb) per packet. Requests carry an id so that a
// single connection can have many requests in flight.
//
// Setup confines the gofer process itself (pivot_root into a tmpfs holding
// only the served mounts, capability drop, no_new_privs, seccomp) before it
// serves.
package gofer
