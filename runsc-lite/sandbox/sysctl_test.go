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
		net         map[string]string
		ignored     []string
		err         string
	}{
		{name: "none"},
		{name: "docker's", in: docker, net: docker},
		{name: "slashes", in: map[string]string{"net/core/somaxconn": "512"}, net: map[string]string{"net.core.somaxconn": "512"}},
		{name: "ipc and uts", in: map[string]string{"kernel.shmmax": "1", "fs.mqueue.msg_max": "20", "kernel.domainname": "x"},
			ignored: []string{"fs.mqueue.msg_max", "kernel.domainname", "kernel.shmmax"}},
		{name: "host network", in: docker, hostNetwork: true, err: "not allowed in the host's network namespace"},
		{name: "host network ipc", in: map[string]string{"kernel.msgmax": "1"}, hostNetwork: true, ignored: []string{"kernel.msgmax"}},
		{name: "not namespaced", in: map[string]string{"vm.swappiness": "0"}, err: "not in a separate kernel namespace"},
		{name: "kernel other", in: map[string]string{"kernel.pid_max": "10"}, err: "not in a separate kernel namespace"},
		{name: "escape", in: map[string]string{"net.../../../etc/passwd": "x"}, err: "not a sysctl name"},
		{name: "dot dot", in: map[string]string{"net..ipv4": "x"}, err: "not a sysctl name"},
		{name: "space", in: map[string]string{"net.ipv4 x": "x"}, err: "not a sysctl name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net, ignored, err := SplitSysctls(tc.in, tc.hostNetwork)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(net) != 0 || len(tc.net) != 0 {
				if !reflect.DeepEqual(net, tc.net) {
					t.Errorf("net %v, want %v", net, tc.net)
				}
			}
			if !reflect.DeepEqual(ignored, tc.ignored) {
				t.Errorf("ignored %v, want %v", ignored, tc.ignored)
			}
		})
	}
}

func TestSysctlPath(t *testing.T) {
	if got := sysctlPath("net.ipv4.ip_unprivileged_port_start"); got != "/proc/sys/net/ipv4/ip_unprivileged_port_start" {
		t.Errorf("sysctlPath = %q", got)
	}
}
