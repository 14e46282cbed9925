// Package realprogs runs real programs' own test suites natively and inside
// runsc-lite, as a second check of the sentry beside the conformance suite
// (test/syscalls): the Go standard library's test binaries (`go test -c` of
// os, os/exec, os/signal, syscall and time) and python3's regression tests
// (test_os, test_subprocess, test_signal, test_socket). Each must pass in
// the sandbox as it does natively.
//
// Tests that depend on the host rather than the kernel are excluded by name,
// each with its reason in the tables of this package; the exclusions are
// logged with every run. Run with `make test`, or:
//
//	make build && RUNSC_LITE_BINARY=$PWD/bin/runsc-lite go test ./test/realprogs -v
package realprogs
