// Package syscalls is runsc-lite's conformance suite. Each AREA/NAME.c beside
// this file is a C test program (built on include/lt.h) that holds many named
// cases; TestConformance compiles every program, runs it natively (as PID 1
// of fresh namespaces) and under `runsc-lite do` on each platform, and
// requires every case to pass in both. A case that can hold in only one of
// them says so with ONLY_NATIVE or ONLY_SANDBOX and a reason; the marks are
// counted and reported at the end of the run.
package syscalls
