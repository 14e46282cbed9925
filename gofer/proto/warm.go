package goferpb

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// WarmUp builds now what the protobuf runtime builds on the first use of
// each message of the protocol (0.2-0.3 ms in all), so that a process can
// do it while it waits for something else rather than on its first
// request. It is safe to call at any time, from any goroutine.
func WarmUp() { warmUp(File_gofer_proto.Messages()) }

// warmUp warms msgs and the messages nested in them, and returns how many
// it found in the registry.
func warmUp(msgs protoreflect.MessageDescriptors) int {
	n := 0
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
			proto.Size(mt.New().Interface())
			n++
		}
		n += warmUp(md.Messages())
	}
	return n
}
