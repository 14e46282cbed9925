package protowarm_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
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

// TestMessages checks that warming up reaches every message of both
// protocols, nested ones included, and leaves them working.
func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     protoreflect.FileDescriptor
		req, out proto.Message
	}{
		{"gofer", goferpb.File_gofer_proto,
			&goferpb.Request{Id: 7, Op: &goferpb.Request_Attach{Attach: &goferpb.AttachRequest{Mount: 1, Directfs: true}}}, &goferpb.Request{}},
		{"control", controlpb.File_control_proto,
			&controlpb.Request{Req: &controlpb.Request_Signal{Signal: &controlpb.SignalRequest{Signo: 15, All: true}}}, &controlpb.Request{}},
	} {
		msgs := tc.file.Messages()
		if got, want := protowarm.Messages(msgs), count(msgs); got != want || want == 0 {
			t.Errorf("%s: warmed %d messages, want %d", tc.name, got, want)
		}
		b, err := proto.Marshal(tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(b, tc.out); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(tc.req, tc.out) {
			t.Errorf("%s: round trip: got %v, want %v", tc.name, tc.out, tc.req)
		}
	}
}
