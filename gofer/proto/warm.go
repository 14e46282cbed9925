package goferpb

import "github.com/runsc-lite/runsc-lite/internal/protowarm"

// WarmUp builds now what the protobuf runtime builds on the first use of
// each message of the protocol (protowarm.Messages).
func WarmUp() { protowarm.Messages(File_gofer_proto.Messages()) }
