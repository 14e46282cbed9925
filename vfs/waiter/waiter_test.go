package waiter

import "testing"

func TestQueue(t *testing.T) {
	var q Queue
	e1, ch := NewChannelEntry(EventIn)
	var got EventMask
	e2 := NewFunctionEntry(EventOut, func(m EventMask) { got |= m })
	q.Register(e1)
	q.Register(e2)
	if q.Events() != EventIn|EventOut|EventErr|EventHUp {
		t.Errorf("events %#x", q.Events())
	}
	q.Notify(EventOut)
	select {
	case <-ch:
		t.Errorf("channel entry notified for EventOut")
	default:
	}
	if got != EventOut {
		t.Errorf("callback got %#x", got)
	}
	q.Notify(EventIn)
	q.Notify(EventIn) // does not block: buffered, coalesced
	<-ch
	q.Notify(EventHUp) // always delivered
	<-ch
	q.Unregister(e1)
	q.Unregister(e1)
	q.Notify(EventIn)
	select {
	case <-ch:
		t.Errorf("notified after Unregister")
	default:
	}
	q.Unregister(e2)
	if !q.IsEmpty() {
		t.Errorf("not empty")
	}
}
