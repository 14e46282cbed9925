package ipc

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/vfs/waiter"
)

// POSIX message queue limits (Linux's /proc/sys/fs/mqueue defaults and
// hard limits).
const (
	MQPrioMax     = 32768
	mqMsgDefault  = 10
	mqSizeDefault = 8192
	mqMsgMax      = 10 // without CAP_SYS_RESOURCE
	mqSizeMax     = 8192
	mqHardMsgMax  = 65536
	mqHardSizeMax = 16 << 20
	mqQueuesMax   = 256
	mqNameMax     = 255
)

// MQAttr is a queue's struct mq_attr (mq_flags lives in the open file).
type MQAttr struct {
	MaxMsg, MsgSize, CurMsgs int64
}

type mqMsg struct {
	prio uint32
	data []byte
}

// MQNotification is a process's mq_notify registration; Fire delivers it
// (a signal) once, given the sender of the message that triggered it.
type MQNotification struct {
	TGID  int32
	Signo int32 // 0 for SIGEV_NONE
	Fire  func(MQSender)
}

// MQSender identifies the sender of a message, for notifications.
type MQSender struct {
	TGID int32
	UID  uint32
}

// MQueue is a POSIX message queue.
type MQueue struct {
	mu        sync.Mutex
	name      string
	perm      Perm
	attr      MQAttr
	msgs      []mqMsg // highest priority first, FIFO within a priority
	changed   waitQueue
	events    waiter.Queue
	notify    *MQNotification
	receivers int // tasks blocked in mq_timedreceive

	// Protected by the namespace's mu: open descriptors, whether the name
	// is gone, and the bytes charged to the creator until both are.
	refs     int
	unlinked bool
	owner    uint32
	charge   uint64
}

// mqCost is what a queue charges against its creator's RLIMIT_MSGQUEUE:
// its messages and, per message, Linux's struct msg_msg pointer array and
// priority tree node (48 bytes each on x86-64).
func mqCost(a MQAttr) uint64 {
	const msgMsg, treeNode = 48, 48
	return uint64(a.MaxMsg)*(msgMsg+uint64(a.MsgSize)) + uint64(min(a.MaxMsg, MQPrioMax))*treeNode
}

// MQOpen implements the queue side of mq_open: it finds or creates the
// queue called name and checks access (read and/or write); badAccess is
// the access mode 3, refused for an existing queue.
// A new queue is charged to its creator, whose queues may hold at most
// limit bytes (RLIMIT_MSGQUEUE): EMFILE beyond. The caller closes what it
// opened with MQClose.
func (ns *Namespace) MQOpen(c *Creds, name string, create, excl bool, mode uint16, attr *MQAttr, read, write, badAccess bool, limit uint64) (*MQueue, error) {
	if err := checkMQName(name); err != nil {
		return nil, err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if q, ok := ns.mqs[name]; ok {
		if create && excl {
			return nil, unix.EEXIST
		}
		if badAccess {
			return nil, unix.EINVAL
		}
		want := uint16(0)
		if read {
			want |= mayRead
		}
		if write {
			want |= mayWrite
		}
		if !q.perm.allowed(c, want) {
			return nil, unix.EACCES
		}
		q.refs++
		return q, nil
	}
	if !create {
		return nil, unix.ENOENT
	}
	a := MQAttr{MaxMsg: mqMsgDefault, MsgSize: mqSizeDefault}
	if attr != nil {
		if err := checkMQAttr(c, attr); err != nil {
			return nil, err
		}
		a = MQAttr{MaxMsg: attr.MaxMsg, MsgSize: attr.MsgSize}
	}
	if len(ns.mqs) >= mqQueuesMax && !c.has(capSysResource) {
		return nil, unix.ENOSPC
	}
	cost := mqCost(a)
	if used := ns.mqBytes[c.UID]; used+cost > limit {
		return nil, unix.EMFILE
	}
	ns.mqBytes[c.UID] += cost
	q := &MQueue{name: name, attr: a, refs: 1, owner: c.UID, charge: cost,
		perm: Perm{UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID, Mode: mode & 0o777}}
	ns.mqs[name] = q
	return q, nil
}

// MQClose drops a descriptor's reference to q.
func (ns *Namespace) MQClose(q *MQueue) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q.refs--
	ns.mqReleaseLocked(q)
}

// mqReleaseLocked gives back a queue's charge once it has neither a name
// nor descriptors.
func (ns *Namespace) mqReleaseLocked(q *MQueue) {
	if q.refs > 0 || !q.unlinked || q.charge == 0 {
		return
	}
	ns.mqBytes[q.owner] -= q.charge
	if ns.mqBytes[q.owner] == 0 {
		delete(ns.mqBytes, q.owner)
	}
	q.charge = 0
}

func checkMQName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return unix.ENOENT
	case len(name) > mqNameMax:
		return unix.ENAMETOOLONG
	case strings.Contains(name, "/"):
		return unix.EACCES
	}
	return nil
}

func checkMQAttr(c *Creds, a *MQAttr) error {
	if a.MaxMsg <= 0 || a.MsgSize <= 0 || a.MaxMsg > mqHardMsgMax || a.MsgSize > mqHardSizeMax {
		return unix.EINVAL
	}
	if (a.MaxMsg > mqMsgMax || a.MsgSize > mqSizeMax) && !c.has(capSysResource) {
		return unix.EINVAL
	}
	return nil
}

// MQUnlink implements mq_unlink: the name goes away, open descriptors keep
// the queue.
func (ns *Namespace) MQUnlink(c *Creds, name string) error {
	if err := checkMQName(name); err != nil {
		return err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, ok := ns.mqs[name]
	if !ok {
		return unix.ENOENT
	}
	// Only the owner or a privileged caller may unlink (Linux says
	// EACCES).
	if c.UID != q.perm.UID && !c.has(capFowner) {
		return unix.EACCES
	}
	delete(ns.mqs, name)
	q.unlinked = true
	ns.mqReleaseLocked(q)
	return nil
}

// capFowner is CAP_FOWNER, which overrides the sticky bit.
const capFowner = 3

// Send implements mq_timedsend: EMSGSIZE if longer than the queue's message
// size; when full, EAGAIN if nonblock, else wait until block times out
// (ETIMEDOUT) or a signal (EINTR).
func (q *MQueue) Send(data []byte, prio uint32, nonblock bool, block BlockFunc, from MQSender) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if int64(len(data)) > q.attr.MsgSize {
		return unix.EMSGSIZE
	}
	for int64(len(q.msgs)) >= q.attr.MaxMsg {
		if nonblock {
			return unix.EAGAIN
		}
		if err := q.waitLocked(block); err != nil {
			return err
		}
	}
	i := sort.Search(len(q.msgs), func(i int) bool { return q.msgs[i].prio < prio })
	q.msgs = append(q.msgs, mqMsg{})
	copy(q.msgs[i+1:], q.msgs[i:])
	q.msgs[i] = mqMsg{prio: prio, data: append([]byte(nil), data...)}
	var fire func(MQSender)
	if len(q.msgs) == 1 && q.notify != nil && q.receivers == 0 {
		fire, q.notify = q.notify.Fire, nil
	}
	q.changed.broadcast()
	q.mu.Unlock()
	q.events.Notify(waiter.ReadableEvents)
	if fire != nil {
		fire(from)
	}
	q.mu.Lock()
	return nil
}

// waitLocked waits for the queue to change with q.mu released.
func (q *MQueue) waitLocked(block BlockFunc) error {
	ch := q.changed.wait()
	q.mu.Unlock()
	err := block(ch)
	q.mu.Lock()
	switch {
	case err == unix.ETIMEDOUT:
		return unix.ETIMEDOUT
	case err != nil:
		return unix.EINTR
	}
	return nil
}

// Receive implements mq_timedreceive: the oldest message of the highest
// priority; EMSGSIZE if size is below the queue's message size.
func (q *MQueue) Receive(size int64, nonblock bool, block BlockFunc) ([]byte, uint32, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if size < q.attr.MsgSize {
		return nil, 0, unix.EMSGSIZE
	}
	for len(q.msgs) == 0 {
		if nonblock {
			return nil, 0, unix.EAGAIN
		}
		q.receivers++
		err := q.waitLocked(block)
		q.receivers--
		if err != nil {
			return nil, 0, err
		}
	}
	m := q.msgs[0]
	q.msgs = q.msgs[1:]
	q.changed.broadcast()
	q.mu.Unlock()
	q.events.Notify(waiter.WritableEvents)
	q.mu.Lock()
	return m.data, m.prio, nil
}

// Attr returns the queue's attributes with its current message count.
func (q *MQueue) Attr() MQAttr {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := q.attr
	a.CurMsgs = int64(len(q.msgs))
	return a
}

// Status is what reading a queue descriptor shows.
func (q *MQueue) Status() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	size := 0
	for _, m := range q.msgs {
		size += len(m.data)
	}
	var pid, signo int32
	notify := 0
	if n := q.notify; n != nil {
		pid, signo = n.TGID, n.Signo
		if signo == 0 {
			notify = 1 // SIGEV_NONE
		}
	}
	return fmt.Sprintf("QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", size, notify, signo, pid)
}

// SetNotify implements mq_notify: n registers (EBUSY if another process
// is registered), nil removes the caller's registration.
func (q *MQueue) SetNotify(tgid int32, n *MQNotification) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n == nil {
		if q.notify != nil && q.notify.TGID == tgid {
			q.notify = nil
		}
		return nil
	}
	if q.notify != nil {
		return unix.EBUSY
	}
	q.notify = n
	return nil
}

// Readiness implements vfs.Waitable: readable with messages, writable with
// room.
func (q *MQueue) Readiness(mask waiter.EventMask) waiter.EventMask {
	q.mu.Lock()
	defer q.mu.Unlock()
	var r waiter.EventMask
	if len(q.msgs) > 0 {
		r |= waiter.ReadableEvents
	}
	if int64(len(q.msgs)) < q.attr.MaxMsg {
		r |= waiter.WritableEvents
	}
	return r & mask
}

// EventRegister implements vfs.Waitable.
func (q *MQueue) EventRegister(e *waiter.Entry) { q.events.Register(e) }

// EventUnregister implements vfs.Waitable.
func (q *MQueue) EventUnregister(e *waiter.Entry) { q.events.Unregister(e) }

// Name returns the queue's name (without the leading slash).
func (q *MQueue) Name() string { return q.name }
