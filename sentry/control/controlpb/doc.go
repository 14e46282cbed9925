// Package controlpb holds the wire messages of a sandbox's control socket
// (CLI to sentry).
//
// The generated code is committed so that builds need no protoc; regenerate
// it with `go generate` after editing control.proto (needs protoc and
// protoc-gen-go v1.36.12 on PATH).
package controlpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative control.proto
