package host

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/vfs/waiter"
	"golang.org/x/sys/unix"
)

// notifier learns the readiness of host FDs from one epoll FD owned by the
// package and a goroutine waiting on it, and notifies the waiter.Queue of
// each registered FD. FDs are registered edge-triggered for their whole
// life, so no host state (O_NONBLOCK) is changed.
type notifier struct {
	once sync.Once
	epfd int
	err  error

	mu     sync.Mutex
	nextID uint64
	queues map[uint64]*waiter.Queue
}

var hostNotifier notifier

func (n *notifier) init() error {
	n.once.Do(func() {
		n.queues = make(map[uint64]*waiter.Queue)
		n.epfd, n.err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if n.err != nil {
			return
		}
		go n.loop()
	})
	return n.err
}

func (n *notifier) loop() {
	events := make([]unix.EpollEvent, 64)
	for {
		k, err := unix.EpollWait(n.epfd, events, -1)
		if err != nil {
			// EINTR, or something unexpected: keep serving.
			continue
		}
		for i := 0; i < k; i++ {
			id := uint64(uint32(events[i].Fd)) | uint64(uint32(events[i].Pad))<<32
			n.mu.Lock()
			q := n.queues[id]
			n.mu.Unlock()
			if q != nil {
				q.Notify(waiter.EventMask(events[i].Events))
			}
		}
	}
}

// add registers fd for the events in mask and returns a registration ID.
// ok is false if the host FD cannot be polled (regular files, /dev/null):
// such files are always ready.
func (n *notifier) add(fd int, mask uint32, q *waiter.Queue) (id uint64, ok bool) {
	if n.init() != nil {
		return 0, false
	}
	n.mu.Lock()
	n.nextID++
	id = n.nextID
	n.queues[id] = q
	n.mu.Unlock()
	ev := unix.EpollEvent{
		Events: mask | unix.EPOLLERR | unix.EPOLLHUP | unix.EPOLLET,
		Fd:     int32(uint32(id)),
		Pad:    int32(uint32(id >> 32)),
	}
	if err := unix.EpollCtl(n.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		n.mu.Lock()
		delete(n.queues, id)
		n.mu.Unlock()
		return 0, false
	}
	return id, true
}

// remove undoes add; fd must still be open.
func (n *notifier) remove(fd int, id uint64) {
	unix.EpollCtl(n.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	n.mu.Lock()
	delete(n.queues, id)
	n.mu.Unlock()
}

// RegisterFD registers host FD fd, which must stay open until
// UnregisterFD, with the package's notifier: q is notified of the events in
// mask (plus EPOLLERR and EPOLLHUP) as they become ready, edge-triggered.
// Host sockets owned by the sentry use it (package hostinet). ok is false
// if fd cannot be polled.
func RegisterFD(fd int, mask uint32, q *waiter.Queue) (id uint64, ok bool) {
	return hostNotifier.add(fd, mask, q)
}

// UnregisterFD undoes RegisterFD; fd must still be open.
func UnregisterFD(fd int, id uint64) { hostNotifier.remove(fd, id) }
