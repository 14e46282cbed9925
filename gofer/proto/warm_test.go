package goferpb

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func countMessages(msgs protoreflect.MessageDescriptors) int {
	n := msgs.Len()
	for i := 0; i < msgs.Len(); i++ {
		n += countMessages(msgs.Get(i).Messages())
	}
	return n
}

// TestWarmUp checks that warming up reaches every message of the protocol
// and leaves them working.
func TestWarmUp(t *testing.T) {
	msgs := File_gofer_proto.Messages()
	if got, want := warmUp(msgs), countMessages(msgs); got != want || want == 0 {
		t.Errorf("warmed %d messages, want %d", got, want)
	}
	req := &Request{Id: 7, Op: &Request_Attach{Attach: &AttachRequest{Mount: 1, Directfs: true}}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var got Request
	if err := proto.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(req, &got) {
		t.Errorf("round trip: got %v, want %v", &got, req)
	}
}
