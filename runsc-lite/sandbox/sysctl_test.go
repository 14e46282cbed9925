package sandbox

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitSysctls(t *testing.T) {
	docker := map[string]string{
		"net.ipv4.ip_unprivileged_port_start": "0",
		"net.ipv4.ping_group_range":           "0 2147483647",
	}
	for _, tc := range []struct {
		name        string
		in          map[string]string
		hostNetwork bool
		want        Sysctls
		err         string
	}{
		{name: "none"},
		{name: "docker's", in: docker, want: Sysctls{Net: docker}},
		{name: "slashes", in: map[string]string{"net/core/somaxconn": "512"}, want: Sysctls{Net: map[string]string{"net.core.somaxconn": "512"}}},
		{name: "ipc", in: map[string]string{"kernel.shmmax": "4096", "kernel/sem": "250 32000 32 128", "kernel.msgmnb": "65536"},
			want: Sysctls{IPC: map[string]string{"shmmax": "4096", "sem": "250 32000 32 128", "msgmnb": "65536"}}},
		{name: "ignored", in: map[string]string{"fs.mqueue.msg_max": "20", "kernel.shm_rmid_forced": "1"},
			want: Sysctls{Ignored: []string{"fs.mqueue.msg_max", "kernel.shm_rmid_forced"}}},
		{name: "uts", in: map[string]string{"kernel.hostname": "box\n", "kernel/domainname": "example.org"},
			want: Sysctls{Hostname: "box", Domainname: "example.org"}},
		{name: "uts too long", in: map[string]string{"kernel.hostname": strings.Repeat("h", 65)}, err: "longer than 64 bytes"},
		{name: "bad ipc value", in: map[string]string{"kernel.shmmni": "40000"}, err: `sysctl kernel.shmmni="40000": invalid argument`},
		{name: "bad sem", in: map[string]string{"kernel.sem": "250 32000 32"}, err: "invalid argument"},
		{name: "not a number", in: map[string]string{"kernel.msgmax": "lots"}, err: "invalid argument"},
		{name: "host network", in: docker, hostNetwork: true, err: "not allowed in the host's network namespace"},
		{name: "host network ipc", in: map[string]string{"kernel.msgmax": "1"}, hostNetwork: true, want: Sysctls{IPC: map[string]string{"msgmax": "1"}}},
		{name: "not namespaced", in: map[string]string{"vm.swappiness": "0"}, err: "not in a separate kernel namespace"},
		{name: "kernel other", in: map[string]string{"kernel.pid_max": "10"}, err: "not in a separate kernel namespace"},
		{name: "escape", in: map[string]string{"net.../../../etc/passwd": "x"}, err: "not a sysctl name"},
		{name: "dot dot", in: map[string]string{"net..ipv4": "x"}, err: "not a sysctl name"},
		{name: "space", in: map[string]string{"net.ipv4 x": "x"}, err: "not a sysctl name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitSysctls(tc.in, tc.hostNetwork)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSysctlPath(t *testing.T) {
	if got := sysctlPath("net.ipv4.ip_unprivileged_port_start"); got != "/proc/sys/net/ipv4/ip_unprivileged_port_start" {
		t.Errorf("sysctlPath = %q", got)
	}
}
