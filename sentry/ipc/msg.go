package ipc

import "golang.org/x/sys/unix"

// msgrcv flags.
const (
	MsgNoError = 0o10000
	MsgExcept  = 0o20000
	MsgCopy    = 0o40000

	MsgStat    = 11
	MsgInfo    = 12
	MsgStatAny = 13
)

// Message is one queued message.
type Message struct {
	Type int64
	Text []byte
}

type msgQueue struct {
	perm         *Perm
	msgs         []Message
	bytes        int
	maxBytes     int
	stime, rtime int64
	lspid, lrpid int32
	removed      bool
	queue        waitQueue
}

// MsgGet implements msgget(2).
func (ns *Namespace) MsgGet(c *Creds, key int32, flags int32) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	e, err := ns.msgs.lookup(key, flags, c)
	if err != nil {
		return 0, err
	}
	if e != nil {
		idx := ns.msgs.keys[key]
		return int32(e.perm.Seq)*seqMultiplier + idx, nil
	}
	q := &msgQueue{maxBytes: int(ns.limits.MsgMNB)}
	id, p := ns.msgs.add(key, flags, c, q)
	q.perm = p
	return id, nil
}

// MsgSnd implements msgsnd(2).
func (ns *Namespace) MsgSnd(c *Creds, tgid, id int32, m Message, flags int32, block BlockFunc) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if m.Type < 1 || len(m.Text) > int(ns.limits.MsgMax) {
		return unix.EINVAL
	}
	e, err := ns.msgs.find(id)
	if err != nil {
		return err
	}
	q := e.obj
	if !q.perm.allowed(c, mayWrite) {
		return unix.EACCES
	}
	for {
		if q.removed {
			return unix.EIDRM
		}
		// Like Linux, a queue also counts messages against its byte limit.
		if q.bytes+len(m.Text) <= q.maxBytes && len(q.msgs)+1 <= q.maxBytes {
			q.msgs = append(q.msgs, m)
			q.bytes += len(m.Text)
			q.lspid, q.stime = tgid, now()
			q.queue.broadcast()
			return nil
		}
		if flags&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		if err := ns.waitMsg(q, block); err != nil {
			return err
		}
	}
}

// waitMsg blocks on q's next change with ns.mu released.
func (ns *Namespace) waitMsg(q *msgQueue, block BlockFunc) error {
	ch := q.queue.wait()
	ns.mu.Unlock()
	err := block(ch)
	ns.mu.Lock()
	if q.removed {
		return unix.EIDRM
	}
	if err != nil {
		return unix.EINTR
	}
	return nil
}

// MsgRcv implements msgrcv(2): the first message of the type asked for
// (0: any; negative: the lowest type up to -typ; with MSG_EXCEPT any other
// type), truncated to size with MSG_NOERROR and E2BIG otherwise.
func (ns *Namespace) MsgRcv(c *Creds, tgid, id int32, size int, typ int64, flags int32, block BlockFunc) (Message, error) {
	if size < 0 {
		return Message{}, unix.EINVAL
	}
	if flags&MsgCopy != 0 {
		return Message{}, unix.ENOSYS // checkpoint/restore only
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	e, err := ns.msgs.find(id)
	if err != nil {
		return Message{}, err
	}
	q := e.obj
	if !q.perm.allowed(c, mayRead) {
		return Message{}, unix.EACCES
	}
	for {
		if q.removed {
			return Message{}, unix.EIDRM
		}
		if i := q.pick(typ, flags&MsgExcept != 0); i >= 0 {
			m := q.msgs[i]
			if len(m.Text) > size {
				if flags&MsgNoError == 0 {
					return Message{}, unix.E2BIG
				}
				m.Text = m.Text[:size]
			}
			q.bytes -= len(q.msgs[i].Text)
			q.msgs = append(q.msgs[:i:i], q.msgs[i+1:]...)
			q.lrpid, q.rtime = tgid, now()
			q.queue.broadcast()
			return m, nil
		}
		if flags&IPCNoWait != 0 {
			return Message{}, unix.ENOMSG
		}
		if err := ns.waitMsg(q, block); err != nil {
			return Message{}, err
		}
	}
}

// pick returns the index of the message msgrcv takes, or -1.
func (q *msgQueue) pick(typ int64, except bool) int {
	best := -1
	for i, m := range q.msgs {
		switch {
		case typ == 0:
			return i
		case typ > 0 && !except && m.Type == typ, typ > 0 && except && m.Type != typ:
			return i
		case typ < 0 && m.Type <= -typ && (best < 0 || m.Type < q.msgs[best].Type):
			best = i
		}
	}
	return best
}

// MsgStatus is what IPC_STAT reports (struct msqid64_ds).
type MsgStatus struct {
	Perm                 Perm
	STime, RTime, CTime  int64
	CBytes, QNum, QBytes uint64
	LSPID, LRPID         int32
}

// MsgInfoData is struct msginfo.
type MsgInfoData struct {
	Pool, Map, Max, MNB, MNI, SSZ, TQL int32
	Seg                                uint16
}

// MsgCtl implements msgctl(2); cmd has IPC_64 removed. For IPC_SET, set
// carries the new owner, mode and queue size.
func (ns *Namespace) MsgCtl(c *Creds, id int32, cmd int32, set *MsgStatus) (int64, *MsgStatus, *MsgInfoData, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch cmd {
	case IPCInfo, MsgInfo:
		return int64(ns.msgs.maxIndex()), nil, ns.msgInfo(cmd), nil
	case MsgStat, MsgStatAny:
		e, fullID, err := ns.msgs.byIndex(id)
		if err != nil {
			return 0, nil, nil, err
		}
		if cmd == MsgStat && !e.perm.allowed(c, mayRead) {
			return 0, nil, nil, unix.EACCES
		}
		return int64(fullID), e.obj.status(), nil, nil
	}
	e, err := ns.msgs.find(id)
	if err != nil {
		return 0, nil, nil, err
	}
	q := e.obj
	switch cmd {
	case IPCStat:
		if !q.perm.allowed(c, mayRead) {
			return 0, nil, nil, unix.EACCES
		}
		return 0, q.status(), nil, nil
	case IPCRmid:
		if !q.perm.isOwner(c) {
			return 0, nil, nil, unix.EPERM
		}
		q.removed = true
		ns.msgs.remove(id)
		q.queue.broadcast()
		return 0, nil, nil, nil
	case IPCSet:
		if !q.perm.isOwner(c) {
			return 0, nil, nil, unix.EPERM
		}
		if set.QBytes > uint64(ns.limits.MsgMNB) && !c.has(capSysResource) {
			return 0, nil, nil, unix.EPERM
		}
		q.perm.set(set.Perm.UID, set.Perm.GID, set.Perm.Mode)
		q.maxBytes = int(set.QBytes)
		q.queue.broadcast()
		return 0, nil, nil, nil
	}
	return 0, nil, nil, unix.EINVAL
}

func (q *msgQueue) status() *MsgStatus {
	return &MsgStatus{Perm: *q.perm, STime: q.stime, RTime: q.rtime, CTime: q.perm.changeTime,
		CBytes: uint64(q.bytes), QNum: uint64(len(q.msgs)), QBytes: uint64(q.maxBytes),
		LSPID: q.lspid, LRPID: q.lrpid}
}

func (ns *Namespace) msgInfo(cmd int32) *MsgInfoData {
	l := ns.limits
	mni, mnb := int64(l.MsgMNI), int64(l.MsgMNB)
	in := &MsgInfoData{Pool: int32(mni * mnb / 1024), Map: int32(mni * mnb / 16), Max: l.MsgMax,
		MNB: l.MsgMNB, MNI: l.MsgMNI, SSZ: 16, TQL: int32(mni * mnb / 16), Seg: 0xffff}
	if cmd == MsgInfo {
		in.Pool = int32(len(ns.msgs.objs))
		var n, b int
		for _, e := range ns.msgs.objs {
			n += len(e.obj.msgs)
			b += e.obj.bytes
		}
		in.Map, in.TQL = int32(n), int32(b)
	}
	return in
}
