package goferpb

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestWarmUp checks that the messages work after warming up (that it
// reaches every one is internal/protowarm's test).
func TestWarmUp(t *testing.T) {
	WarmUp()
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
