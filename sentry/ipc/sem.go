package ipc

import "golang.org/x/sys/unix"

// Semaphore value limits (the others are Limits).
const (
	semVMX = 32767 // largest value
	semAEM = semVMX
)

// semctl commands beyond IPC_*.
const (
	SemGetPID  = 11
	SemGetVal  = 12
	SemGetAll  = 13
	SemGetNCnt = 14
	SemGetZCnt = 15
	SemSetVal  = 16
	SemSetAll  = 17
	SemStat    = 18
	SemInfo    = 19
	SemStatAny = 20

	SemUndo = 0x1000
)

// SemBuf is one semop operation (struct sembuf).
type SemBuf struct {
	Num uint16
	Op  int16
	Flg int16
}

type semaphore struct {
	val int32
	pid int32
}

type semSet struct {
	perm    *Perm
	sems    []semaphore
	otime   int64
	removed bool
	pending []*semWaiter
	queue   waitQueue
}

// semWaiter is a blocked semop, for GETNCNT/GETZCNT.
type semWaiter struct {
	num  uint16 // the semaphore it waits on
	zero bool   // waiting for zero, not for an increase
}

// SemGet implements semget(2).
func (ns *Namespace) SemGet(c *Creds, key int32, nsems int32, flags int32) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if nsems < 0 || nsems > ns.limits.SemMSL {
		return 0, unix.EINVAL
	}
	e, err := ns.sems.lookup(key, flags, c)
	if err != nil {
		return 0, err
	}
	if e != nil {
		if nsems > int32(len(e.obj.sems)) {
			return 0, unix.EINVAL
		}
		return ns.semID(key), nil
	}
	if nsems == 0 {
		return 0, unix.EINVAL
	}
	s := &semSet{sems: make([]semaphore, nsems)}
	id, p := ns.sems.add(key, flags, c, s)
	s.perm = p
	return id, nil
}

// semID returns the identifier of the set with key.
func (ns *Namespace) semID(key int32) int32 {
	idx := ns.sems.keys[key]
	return int32(ns.sems.objs[idx].perm.Seq)*seqMultiplier + idx
}

// SemOp implements semop(2) and semtimedop(2) for process tgid: every
// operation happens at once or none does; the call blocks (unless
// IPC_NOWAIT) until that is possible, the set is removed (EIDRM), block
// times out (EAGAIN) or fails (a signal).
func (ns *Namespace) SemOp(c *Creds, tgid int32, id int32, ops []SemBuf, block BlockFunc) error {
	if len(ops) == 0 {
		return unix.EINVAL
	}
	ns.mu.Lock()
	if len(ops) > int(ns.limits.SemOPM) {
		ns.mu.Unlock()
		return unix.E2BIG
	}
	e, err := ns.sems.find(id)
	if err != nil {
		ns.mu.Unlock()
		return err
	}
	s := e.obj
	if err := s.checkOps(c, ops); err != nil {
		ns.mu.Unlock()
		return err
	}
	var w *semWaiter
	defer func() {
		if w != nil {
			s.dropWaiter(w)
		}
		ns.mu.Unlock()
	}()
	for {
		if s.removed {
			return unix.EIDRM
		}
		blocked, err := ns.trySemOp(s, id, tgid, ops)
		if err != nil || blocked < 0 {
			return err
		}
		if ops[blocked].Flg&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		if w == nil {
			w = &semWaiter{}
			s.pending = append(s.pending, w)
		}
		w.num, w.zero = ops[blocked].Num, ops[blocked].Op == 0
		ch := s.queue.wait()
		ns.mu.Unlock()
		err = block(ch)
		ns.mu.Lock()
		switch {
		case s.removed:
			return unix.EIDRM
		case err == unix.ETIMEDOUT:
			return unix.EAGAIN
		case err != nil:
			return unix.EINTR
		}
	}
}

// checkOps validates the operations against the set: EFBIG for a
// semaphore number out of range, EACCES without the permission they need.
func (s *semSet) checkOps(c *Creds, ops []SemBuf) error {
	alter := false
	for _, op := range ops {
		if int(op.Num) >= len(s.sems) {
			return unix.EFBIG
		}
		alter = alter || op.Op != 0
	}
	want := uint16(mayRead)
	if alter {
		want = mayWrite
	}
	if !s.perm.allowed(c, want) {
		return unix.EACCES
	}
	return nil
}

// trySemOp applies ops if they can all proceed. It returns the index of the
// operation that must wait, or -1 when they were applied.
func (ns *Namespace) trySemOp(s *semSet, id, tgid int32, ops []SemBuf) (int, error) {
	vals := make([]int32, len(s.sems))
	for i := range s.sems {
		vals[i] = s.sems[i].val
	}
	var adj []int32
	for i, op := range ops {
		v := vals[op.Num] + int32(op.Op)
		switch {
		case op.Op == 0 && vals[op.Num] != 0, v < 0:
			return i, nil
		case v > semVMX:
			return -1, unix.ERANGE
		}
		vals[op.Num] = v
		if op.Flg&SemUndo != 0 {
			if adj == nil {
				adj = append([]int32(nil), ns.undoFor(tgid, id, len(s.sems))...)
			}
			adj[op.Num] -= int32(op.Op)
			if adj[op.Num] < -semAEM-1 || adj[op.Num] > semAEM {
				return -1, unix.ERANGE
			}
		}
	}
	changed := false
	for _, op := range ops {
		s.sems[op.Num].pid = tgid
		changed = changed || op.Op != 0
	}
	for i := range s.sems {
		s.sems[i].val = vals[i]
	}
	if adj != nil {
		ns.undo[tgid][id] = adj
	}
	s.otime = now()
	if changed {
		s.queue.broadcast()
	}
	return -1, nil
}

// undoFor returns the process's adjustments for set id, creating them.
func (ns *Namespace) undoFor(tgid, id int32, n int) []int32 {
	m := ns.undo[tgid]
	if m == nil {
		m = map[int32][]int32{}
		ns.undo[tgid] = m
	}
	if m[id] == nil {
		m[id] = make([]int32, n)
	}
	return m[id]
}

func (s *semSet) dropWaiter(w *semWaiter) {
	for i, o := range s.pending {
		if o == w {
			s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
			return
		}
	}
}

// ProcessExited applies and forgets the SEM_UNDO adjustments of process
// tgid, clamping each value to [0, SEMVMX] as Linux does.
func (ns *Namespace) ProcessExited(tgid int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for id, adj := range ns.undo[tgid] {
		e, err := ns.sems.find(id)
		if err != nil {
			continue
		}
		s := e.obj
		for i, a := range adj {
			if a == 0 {
				continue
			}
			s.sems[i].val = min(max(s.sems[i].val+a, 0), semVMX)
			s.sems[i].pid = tgid
		}
		s.otime = now()
		s.queue.broadcast()
	}
	delete(ns.undo, tgid)
}

// SemStatus is what IPC_STAT reports (struct semid64_ds).
type SemStatus struct {
	Perm  Perm
	OTime int64
	CTime int64
	NSems uint64
}

// SemCtlArgs carries semctl's argument: a value or the semaphore array.
type SemCtlArgs struct {
	Val    int32
	Values []uint16 // SETALL input
	// Set is IPC_SET's new owner and mode.
	UID, GID uint32
	Mode     uint16
}

// SemCtlResult is what a semctl command returns besides its value.
type SemCtlResult struct {
	Status *SemStatus
	Values []uint16 // GETALL
	Info   *SemInfoData
}

// SemInfoData is struct seminfo.
type SemInfoData struct {
	Map, MNI, MNS, MNU, MSL, OPM, UME, USZ, VMX, AEM int32
}

// SemCtl implements semctl(2); cmd has IPC_64 removed.
func (ns *Namespace) SemCtl(c *Creds, id int32, num int32, cmd int32, a SemCtlArgs) (int64, SemCtlResult, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var res SemCtlResult
	switch cmd {
	case IPCInfo, SemInfo:
		res.Info = ns.semInfo(cmd)
		return int64(ns.sems.maxIndex()), res, nil
	case SemStat, SemStatAny:
		e, fullID, err := ns.sems.byIndex(id)
		if err != nil {
			return 0, res, err
		}
		if cmd == SemStat && !e.perm.allowed(c, mayRead) {
			return 0, res, unix.EACCES
		}
		res.Status = e.obj.status()
		return int64(fullID), res, nil
	}
	e, err := ns.sems.find(id)
	if err != nil {
		return 0, res, err
	}
	s := e.obj
	switch cmd {
	case IPCRmid, IPCSet:
		if !s.perm.isOwner(c) {
			return 0, res, unix.EPERM
		}
		if cmd == IPCRmid {
			ns.removeSemLocked(id, s)
		} else {
			s.perm.set(a.UID, a.GID, a.Mode)
		}
		return 0, res, nil
	case IPCStat:
		if !s.perm.allowed(c, mayRead) {
			return 0, res, unix.EACCES
		}
		res.Status = s.status()
		return 0, res, nil
	case SemGetVal, SemGetPID, SemGetNCnt, SemGetZCnt, SemGetAll:
		return s.get(c, cmd, num, &res)
	case SemSetVal, SemSetAll:
		return 0, res, ns.setSem(c, id, s, cmd, num, a)
	}
	return 0, res, unix.EINVAL
}

func (s *semSet) status() *SemStatus {
	return &SemStatus{Perm: *s.perm, OTime: s.otime, CTime: s.perm.changeTime, NSems: uint64(len(s.sems))}
}

func (ns *Namespace) semInfo(cmd int32) *SemInfoData {
	l := ns.limits
	in := &SemInfoData{Map: l.SemMNS, MNI: l.SemMNI, MNS: l.SemMNS, MNU: l.SemMNS, MSL: l.SemMSL,
		OPM: l.SemOPM, UME: l.SemOPM, USZ: 20, VMX: semVMX, AEM: semAEM}
	if cmd == SemInfo {
		in.USZ = int32(len(ns.sems.objs))
		n := 0
		for _, e := range ns.sems.objs {
			n += len(e.obj.sems)
		}
		in.AEM = int32(n)
	}
	return in
}

// get serves the read-only per-semaphore commands.
func (s *semSet) get(c *Creds, cmd, num int32, res *SemCtlResult) (int64, SemCtlResult, error) {
	if !s.perm.allowed(c, mayRead) {
		return 0, *res, unix.EACCES
	}
	if cmd == SemGetAll {
		res.Values = make([]uint16, len(s.sems))
		for i, x := range s.sems {
			res.Values[i] = uint16(x.val)
		}
		return 0, *res, nil
	}
	if num < 0 || int(num) >= len(s.sems) {
		return 0, *res, unix.EINVAL
	}
	switch cmd {
	case SemGetVal:
		return int64(s.sems[num].val), *res, nil
	case SemGetPID:
		return int64(s.sems[num].pid), *res, nil
	}
	n := 0
	for _, w := range s.pending {
		if int32(w.num) == num && w.zero == (cmd == SemGetZCnt) {
			n++
		}
	}
	return int64(n), *res, nil
}

// setSem serves SETVAL and SETALL: the values change, every process's
// adjustments for them are cleared, and waiters re-check.
func (ns *Namespace) setSem(c *Creds, id int32, s *semSet, cmd, num int32, a SemCtlArgs) error {
	if !s.perm.allowed(c, mayWrite) {
		return unix.EACCES
	}
	if cmd == SemSetVal {
		if num < 0 || int(num) >= len(s.sems) {
			return unix.EINVAL
		}
		if a.Val < 0 || a.Val > semVMX {
			return unix.ERANGE
		}
		s.sems[num].val = a.Val
		for _, m := range ns.undo {
			if adj := m[id]; adj != nil {
				adj[num] = 0
			}
		}
	} else {
		if len(a.Values) != len(s.sems) {
			// The set the caller sized its array for was replaced.
			return unix.EIDRM
		}
		for _, v := range a.Values {
			if v > semVMX {
				return unix.ERANGE
			}
		}
		for i, v := range a.Values {
			s.sems[i].val = int32(v)
		}
		for _, m := range ns.undo {
			delete(m, id)
		}
	}
	s.perm.changeTime = now()
	s.queue.broadcast()
	return nil
}

// SemCount returns the number of semaphores of set id (for SETALL/GETALL
// buffers).
func (ns *Namespace) SemCount(id int32) (int, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	e, err := ns.sems.find(id)
	if err != nil {
		return 0, err
	}
	return len(e.obj.sems), nil
}

func (ns *Namespace) removeSemLocked(id int32, s *semSet) {
	s.removed = true
	ns.sems.remove(id)
	for _, m := range ns.undo {
		delete(m, id)
	}
	s.queue.broadcast()
}
