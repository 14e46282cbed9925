package protowarm_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	goferpb "github.com/runsc-lite/runsc-lite/gofer/proto"
	"github.com/runsc-lite/runsc-lite/internal/protowarm"
	"github.com/runsc-lite/runsc-lite/sentry/control/controlpb"
)

func count(msgs protoreflect.MessageDescriptors) int {
	n := msgs.Len()
	for i := 0; i < msgs.Len(); i++ {
		n += count(msgs.Get(i).Messages())
	}
	return n
}

// TestMessages checks that warming up reaches every message, nested ones
// included, of both protocols.
func TestMessages(t *testing.T) {
	for name, f := range map[string]protoreflect.FileDescriptor{
		"gofer": goferpb.File_gofer_proto, "control": controlpb.File_control_proto,
	} {
		msgs := f.Messages()
		if got, want := protowarm.Messages(msgs), count(msgs); got != want || want == 0 {
			t.Errorf("%s: warmed %d messages, want %d", name, got, want)
		}
	}
}
