// Package goferpb holds the wire messages between the sentry and the gofer.
//
// The generated code is committed so that builds need no protoc; regenerate
// it with `go generate` after editing gofer.proto (needs protoc and
// protoc-gen-go v1.36.12 on PATH).
package goferpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative gofer.proto
