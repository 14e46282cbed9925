package proc

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Nice values are -20..19; getpriority(2) returns 20 - nice (1..40) so
// that no valid result looks like an error.
const (
	minNice = -20
	maxNice = 19
)

// priorityTargets returns the tasks setpriority/getpriority act on: the
// thread who (PRIO_PROCESS), every thread of the processes of group who
// (PRIO_PGRP), or of the processes whose real UID is who (PRIO_USER); who
// 0 means the caller's own. EINVAL for another which.
func priorityTargets(t *kernel.Task, which, who int32) ([]*kernel.Task, error) {
	k := t.Kernel()
	switch which {
	case unix.PRIO_PROCESS:
		if who == 0 {
			return []*kernel.Task{t}, nil
		}
		if o := k.TaskByTID(who); o != nil {
			return []*kernel.Task{o}, nil
		}
		return nil, nil
	case unix.PRIO_PGRP, unix.PRIO_USER:
		if who == 0 {
			if which == unix.PRIO_PGRP {
				who = t.ThreadGroup().PGID()
			} else {
				who = int32(t.Creds().RealUID)
			}
		}
		var out []*kernel.Task
		for _, tg := range k.ThreadGroups() {
			for _, o := range tg.Tasks() {
				if which == unix.PRIO_PGRP && tg.PGID() == who ||
					which == unix.PRIO_USER && o.Creds().RealUID == uint32(who) {
					out = append(out, o)
				}
			}
		}
		return out, nil
	}
	return nil, unix.EINVAL
}

// Getpriority implements getpriority(2): the highest priority (lowest
// nice) of the targets, as 20 - nice.
func Getpriority(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	targets, err := priorityTargets(t, int32(a[0]), int32(a[1]))
	if err != nil {
		return 0, err
	}
	if len(targets) == 0 {
		return 0, unix.ESRCH
	}
	best := int32(0)
	for _, o := range targets {
		best = max(best, 20-o.Nice())
	}
	return uint64(best), nil
}

// Setpriority implements setpriority(2). Changing another user's task
// needs CAP_SYS_NICE (EPERM); lowering a nice value below what
// RLIMIT_NICE allows needs it too (EACCES).
func Setpriority(t *kernel.Task, a *kernel.SyscallArgs) (uint64, error) {
	targets, err := priorityTargets(t, int32(a[0]), int32(a[1]))
	if err != nil {
		return 0, err
	}
	if len(targets) == 0 {
		return 0, unix.ESRCH
	}
	nice := min(max(int32(a[2]), minNice), maxNice)
	c := t.Creds()
	capNice := c.HasCap(unix.CAP_SYS_NICE)
	limit := int64(t.ThreadGroup().GetLimit(unix.RLIMIT_NICE).Cur)
	for _, o := range targets {
		oc := o.Creds()
		if oc.RealUID != c.EffectiveUID && oc.EffectiveUID != c.EffectiveUID && !capNice {
			err = unix.EPERM
			continue
		}
		if nice < o.Nice() && int64(20-nice) > limit && !capNice {
			err = unix.EACCES
			continue
		}
		o.SetNice(nice)
	}
	return 0, err
}
