package kernel

// SchedState is a task's scheduling policy, real-time priority and CPU
// affinity as sched_setscheduler and sched_setaffinity set them. The sentry
// does not schedule by them: the guest reads back what it set, children
// inherit it, and getcpu reports a CPU of the affinity mask.
type SchedState struct {
	Policy   int32
	Priority int32
	// Affinity is the CPU bitmask, one bit per CPU; nil means every CPU.
	Affinity []uint64
}

// Sched returns the task's scheduling state.
func (t *Task) Sched() SchedState {
	if s := t.sched.Load(); s != nil {
		return *s
	}
	return SchedState{}
}

// SetSched installs a new scheduling state; s.Affinity must not be changed
// afterwards (the state is shared with children until they set their own).
func (t *Task) SetSched(s SchedState) { t.sched.Store(&s) }
