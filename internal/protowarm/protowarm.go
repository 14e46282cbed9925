// Package protowarm builds ahead of time what the protobuf runtime builds
// on the first use of each message type, for the generated packages of
// runsc-lite's protocols (gofer/proto, sentry/control/controlpb).
package protowarm

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Messages warms msgs and the messages nested in them up (0.2-0.3 ms for
// a protocol), so that a process can do it while it waits for something
// else rather than on its first request. It returns how many it found in
// the registry. It is safe to call at any time, from any goroutine.
func Messages(msgs protoreflect.MessageDescriptors) int {
	n := 0
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
			proto.Size(mt.New().Interface())
			n++
		}
		n += Messages(md.Messages())
	}
	return n
}
