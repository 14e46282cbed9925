// getifaddrs (glibc: NETLINK_ROUTE RTM_GETLINK/RTM_GETADDR dumps) and the
// interface ioctls: the loopback interface with 127.0.0.1.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) != 0) {
		perror("getifaddrs");
		return 1;
	}
	int lo_packet = 0, lo_inet = 0;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		if (strcmp(p->ifa_name, "lo") != 0 || !p->ifa_addr) continue;
		if (p->ifa_addr->sa_family == AF_PACKET) lo_packet = 1;
		if (p->ifa_addr->sa_family == AF_INET) {
			char buf[64];
			inet_ntop(AF_INET, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, buf, sizeof(buf));
			printf("lo inet %s up %d loopback %d\n", buf, !!(p->ifa_flags & IFF_UP), !!(p->ifa_flags & IFF_LOOPBACK));
			lo_inet = 1;
		}
	}
	freeifaddrs(ifa);
	printf("lo link %d inet %d\n", lo_packet, lo_inet);
	printf("if_nametoindex(lo) %u\n", if_nametoindex("lo"));
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strcpy(r.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &r) == 0) printf("SIOCGIFFLAGS up %d\n", !!(r.ifr_flags & IFF_UP));
	if (ioctl(s, SIOCGIFMTU, &r) == 0) printf("SIOCGIFMTU %d\n", r.ifr_mtu > 0);
	char buf[4096];
	struct ifconf ic = {.ifc_len = sizeof(buf), .ifc_buf = buf};
	if (ioctl(s, SIOCGIFCONF, &ic) == 0) {
		for (int i = 0; i < ic.ifc_len / (int)sizeof(struct ifreq); i++)
			if (strcmp(ic.ifc_req[i].ifr_name, "lo") == 0) printf("SIOCGIFCONF has lo\n");
	}
	// Changes are refused in the sandbox (and need CAP_NET_ADMIN outside).
	return 0;
}
