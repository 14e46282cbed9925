// Pseudo-terminal behaviour, run natively and in the sandbox: the outputs
// must match.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static char name[64];

static int openpair(int *s) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		perror("posix_openpt");
		exit(1);
	}
	strcpy(name, ptsname(m));
	*s = open(name, O_RDWR | O_NOCTTY);
	if (*s < 0) {
		perror("open replica");
		exit(1);
	}
	return m;
}

// show prints buf with control characters escaped.
static void show(const char *label, const char *buf, int n) {
	printf("%s: %d \"", label, n);
	for (int i = 0; i < n; i++) {
		unsigned char c = buf[i];
		if (c == '\n')
			printf("\\n");
		else if (c == '\r')
			printf("\\r");
		else if (c < 32 || c == 127)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

// drain reads what fd has within timeout ms of quiet.
static int drain(int fd, char *buf, int max, int ms) {
	int n = 0;
	while (n < max) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, ms) <= 0 || !(p.revents & POLLIN))
			break;
		int r = read(fd, buf + n, max - n);
		if (r <= 0)
			break;
		n += r;
	}
	return n;
}

// waitfor reads fd until it has seen s.
static void waitfor(int fd, const char *s) {
	char buf[256];
	int n = 0;
	while (n < (int)sizeof(buf) - 1) {
		int r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0) {
			printf("waitfor %s: %d %s\n", s, r, strerror(errno));
			exit(1);
		}
		n += r;
		buf[n] = 0;
		if (strstr(buf, s))
			return;
	}
}

static void xwrite(int fd, const char *s) {
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		perror("write");
		exit(1);
	}
}

static void basics(void) {
	int s, m = openpair(&s);
	unsigned n = 99;
	ioctl(m, TIOCGPTN, &n);
	char want[64];
	snprintf(want, sizeof(want), "/dev/pts/%u", n);
	printf("ptsname matches TIOCGPTN: %d\n", strcmp(want, name) == 0);
	struct stat st;
	stat(name, &st);
	printf("chr %d owner rw %d owner-is-me %d\n", S_ISCHR(st.st_mode), (st.st_mode & 0600) == 0600, st.st_uid == getuid());
	printf("isatty %d %d ttyname ok %d\n", isatty(m), isatty(s), ttyname(s) && strcmp(ttyname(s), name) == 0);
	struct termios t;
	tcgetattr(s, &t);
	printf("termios i=%x o=%x c=%x l=%x cc=", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
	for (int i = 0; i < 17; i++)
		printf("%02x", t.c_cc[i]);
	printf(" speed %d\n", (int)cfgetospeed(&t));
	int lock = 0;
	int lr = ioctl(m, TIOCGPTLCK, &lock);
	printf("TIOCGPTLCK %d %d\n", lr, lock);
	int bad = ioctl(s, TIOCGPTN, &n);
	printf("TIOCGPTN on replica %d %s\n", bad, bad ? strerror(errno) : "");
	close(s);
	close(m);
}

static void canonical(void) {
	int s, m = openpair(&s);
	char buf[256];
	int n;
	xwrite(m, "hello\n");
	n = read(s, buf, sizeof(buf));
	show("canon read", buf, n);
	show("echo", buf, drain(m, buf, sizeof(buf), 50));

	xwrite(m, "abc");
	struct pollfd p = {s, POLLIN, 0};
	int avail = -1;
	ioctl(s, FIONREAD, &avail);
	printf("partial line: poll %d FIONREAD %d\n", poll(&p, 1, 50), avail);
	xwrite(m, "\x7f" "d\n");
	poll(&p, 1, 1000);
	ioctl(s, FIONREAD, &avail);
	printf("FIONREAD %d\n", avail);
	n = read(s, buf, sizeof(buf));
	show("after erase", buf, n);
	show("erase echo", buf, drain(m, buf, sizeof(buf), 50));

	xwrite(m, "xyz\x15ok\n");
	n = read(s, buf, sizeof(buf));
	show("after kill", buf, n);
	show("kill echo", buf, drain(m, buf, sizeof(buf), 50));

	xwrite(m, "one two\x17three\n");
	n = read(s, buf, sizeof(buf));
	show("after werase", buf, n);
	show("werase echo", buf, drain(m, buf, sizeof(buf), 50));

	xwrite(m, "ab\x04");
	n = read(s, buf, sizeof(buf));
	show("eof after data", buf, n);
	xwrite(m, "\x04");
	n = read(s, buf, sizeof(buf));
	printf("eof read %d\n", n);

	xwrite(m, "l1\nl2\n");
	n = read(s, buf, 2);
	show("short read", buf, n);
	n = read(s, buf, sizeof(buf));
	show("rest of line", buf, n);
	n = read(s, buf, sizeof(buf));
	show("next line", buf, n);
	drain(m, buf, sizeof(buf), 50);

	// ICRNL and control-character echo.
	xwrite(m, "cr\r\x01\n");
	n = read(s, buf, sizeof(buf));
	show("icrnl", buf, n);
	n = read(s, buf, sizeof(buf));
	show("ctl line", buf, n);
	show("ctl echo", buf, drain(m, buf, sizeof(buf), 50));

	struct termios t;
	tcgetattr(s, &t);
	t.c_lflag &= ~ECHO;
	t.c_lflag |= ECHONL;
	tcsetattr(s, TCSANOW, &t);
	xwrite(m, "quiet\n");
	n = read(s, buf, sizeof(buf));
	show("noecho read", buf, n);
	show("echonl", buf, drain(m, buf, sizeof(buf), 50));
	t.c_iflag |= IGNCR;
	tcsetattr(s, TCSANOW, &t);
	xwrite(m, "a\rb\n");
	n = read(s, buf, sizeof(buf));
	show("igncr", buf, n);
	t.c_iflag &= ~IGNCR;
	t.c_iflag |= INLCR;
	t.c_iflag &= ~ICRNL;
	t.c_cc[VEOL] = '!';
	tcsetattr(s, TCSANOW, &t);
	xwrite(m, "x\ny!");
	n = read(s, buf, sizeof(buf));
	show("inlcr+veol", buf, n);
	drain(m, buf, sizeof(buf), 50);

	// Output processing.
	xwrite(s, "out1\nout2\n");
	show("onlcr", buf, drain(m, buf, sizeof(buf), 50));
	t.c_oflag &= ~OPOST;
	tcsetattr(s, TCSANOW, &t);
	xwrite(s, "raw\n");
	show("no opost", buf, drain(m, buf, sizeof(buf), 50));
	int q = -1;
	int qr = ioctl(s, TIOCOUTQ, &q);
	printf("TIOCOUTQ %d %d\n", qr, q);
	printf("TCXONC %d TCFLSH %d\n", tcflow(s, TCOON), tcflush(s, TCIOFLUSH));
	close(s);
	close(m);
}

static long ms_since(struct timespec *a) {
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void raw(void) {
	int s, m = openpair(&s);
	char buf[256];
	int n;
	struct termios t;
	tcgetattr(s, &t);
	cfmakeraw(&t);
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	tcsetattr(s, TCSANOW, &t);
	xwrite(m, "ab");
	struct pollfd p = {s, POLLIN, 0};
	printf("raw: poll with 2 of VMIN 3: %d\n", poll(&p, 1, 50));
	xwrite(m, "c\r\x03");
	n = read(s, buf, sizeof(buf));
	show("raw read", buf, n);
	printf("raw echo %d\n", drain(m, buf, sizeof(buf), 50));
	// Nonblocking reads return what is there.
	xwrite(m, "z");
	fcntl(s, F_SETFL, O_NONBLOCK);
	usleep(20000);
	n = read(s, buf, sizeof(buf));
	show("nonblock vmin read", buf, n);
	n = read(s, buf, sizeof(buf));
	printf("nonblock empty %d %s\n", n, strerror(errno));
	fcntl(s, F_SETFL, 0);
	t.c_cc[VMIN] = 0;
	tcsetattr(s, TCSANOW, &t);
	printf("vmin 0 vtime 0: %zd\n", read(s, buf, sizeof(buf)));
	t.c_cc[VTIME] = 2;
	tcsetattr(s, TCSANOW, &t);
	struct timespec a;
	clock_gettime(CLOCK_MONOTONIC, &a);
	n = read(s, buf, sizeof(buf));
	long el = ms_since(&a);
	printf("vmin 0 vtime 2: %d after >=150ms %d\n", n, el >= 150 && el < 2000);
	xwrite(m, "q");
	n = read(s, buf, sizeof(buf));
	show("vtime read", buf, n);
	// Back to canonical: pending input becomes a line.
	t.c_cc[VMIN] = 1;
	tcsetattr(s, TCSANOW, &t);
	xwrite(m, "pend");
	usleep(20000);
	t.c_lflag |= ICANON;
	tcsetattr(s, TCSANOW, &t);
	n = read(s, buf, sizeof(buf));
	show("canon again", buf, n);
	close(s);
	close(m);
}

// jobs: ^Z and ^C go to the foreground process group set with tcsetpgrp.
static void jobs(void) {
	int s, m = openpair(&s);
	pid_t child = fork();
	if (child == 0) {
		close(m);
		setsid();
		if (ioctl(s, TIOCSCTTY, 0) < 0) {
			perror("TIOCSCTTY");
			_exit(1);
		}
		printf("child: TIOCSCTTY again %d\n", ioctl(s, TIOCSCTTY, 0));
		pid_t sid = 0;
		ioctl(s, TIOCGSID, &sid);
		printf("child: sid is me %d, pgrp is me %d\n", sid == getpid(), tcgetpgrp(s) == getpid());
		pid_t gc = fork();
		if (gc == 0) {
			setpgid(0, 0);
			for (;;)
				pause();
		}
		setpgid(gc, gc);
		int bogus = tcsetpgrp(s, 99999);
		printf("child: tcsetpgrp bogus %d %s\n", bogus, strerror(errno));
		if (tcsetpgrp(s, gc) < 0)
			perror("tcsetpgrp");
		printf("child: pgrp is grandchild %d\n", tcgetpgrp(s) == gc);
		xwrite(s, "ready\n");
		int st;
		waitpid(gc, &st, WUNTRACED);
		printf("child: grandchild stopped %d by %d\n", WIFSTOPPED(st), WSTOPSIG(st));
		kill(gc, SIGCONT);
		xwrite(s, "cont\n");
		waitpid(gc, &st, 0);
		printf("child: grandchild killed %d by %d\n", WIFSIGNALED(st), WTERMSIG(st));
		// A background read gets SIGTTIN.
		gc = fork();
		if (gc == 0) {
			setpgid(0, 0);
			char c;
			read(s, &c, 1);
			_exit(0);
		}
		setpgid(gc, gc);
		waitpid(gc, &st, WUNTRACED);
		printf("child: background reader stopped %d by %d\n", WIFSTOPPED(st), WSTOPSIG(st));
		kill(gc, SIGKILL);
		waitpid(gc, &st, 0);
		// Ignoring SIGTTIN: EIO.
		tcsetpgrp(s, getpid());
		gc = fork();
		if (gc == 0) {
			setpgid(0, 0);
			signal(SIGTTIN, SIG_IGN);
			char c;
			int r = read(s, &c, 1);
			printf("grandchild: ignored SIGTTIN read %d %s\n", r, strerror(errno));
			signal(SIGTTOU, SIG_IGN);
			printf("grandchild: tcsetpgrp with SIGTTOU ignored %d\n", tcsetpgrp(s, getpid()));
			_exit(0);
		}
		setpgid(gc, gc);
		waitpid(gc, &st, 0);
		_exit(0);
	}
	close(s);
	waitfor(m, "ready");
	xwrite(m, "\x1a"); // ^Z
	waitfor(m, "cont");
	xwrite(m, "\x03"); // ^C
	int st;
	waitpid(child, &st, 0);
	printf("parent: child exit %d\n", WEXITSTATUS(st));
	char buf[256];
	drain(m, buf, sizeof(buf), 50);
	close(m);
}

static volatile sig_atomic_t got;
static void handler(int sig) { got = sig; }

static void winsize(void) {
	int s, m = openpair(&s);
	struct winsize w = {24, 80, 0, 0}, r = {0};
	ioctl(m, TIOCSWINSZ, &w);
	ioctl(s, TIOCGWINSZ, &r);
	printf("winsize %dx%d\n", r.ws_row, r.ws_col);
	pid_t child = fork();
	if (child == 0) {
		close(m);
		setsid();
		ioctl(s, TIOCSCTTY, 0);
		sigset_t set, old;
		sigemptyset(&set);
		sigaddset(&set, SIGWINCH);
		sigprocmask(SIG_BLOCK, &set, &old);
		signal(SIGWINCH, handler);
		xwrite(s, "ready\n");
		while (!got)
			sigsuspend(&old);
		struct winsize cw;
		ioctl(s, TIOCGWINSZ, &cw);
		printf("child: SIGWINCH %d, now %dx%d\n", got == SIGWINCH, cw.ws_row, cw.ws_col);
		_exit(0);
	}
	waitfor(m, "ready");
	w.ws_row = 30;
	w.ws_col = 100;
	ioctl(m, TIOCSWINSZ, &w);
	int st;
	waitpid(child, &st, 0);
	printf("parent: child exit %d\n", WEXITSTATUS(st));
	close(s);
	close(m);
}

// devtty: a session leader opening its terminal acquires it; /dev/tty.
static void devtty(void) {
	int s, m = openpair(&s);
	close(s);
	pid_t child = fork();
	if (child == 0) {
		close(m);
		setsid();
		int t = open("/dev/tty", O_RDWR);
		printf("child: /dev/tty without terminal %d %s\n", t, strerror(errno));
		int r = open(name, O_RDWR);
		t = open("/dev/tty", O_RDWR);
		printf("child: /dev/tty after open %d\n", t >= 0);
		xwrite(t, "via /dev/tty\n");
		signal(SIGHUP, SIG_IGN);
		int nr = ioctl(t, TIOCNOTTY);
		printf("child: TIOCNOTTY %d\n", nr);
		int t2 = open("/dev/tty", O_RDWR);
		printf("child: /dev/tty after TIOCNOTTY %d %s\n", t2, strerror(errno));
		close(r);
		close(t);
		_exit(0);
	}
	int st;
	waitpid(child, &st, 0);
	char buf[256];
	int n = drain(m, buf, sizeof(buf), 50);
	show("master got", buf, n);
	close(m);
}

static void peer_and_close(void) {
	int s, m = openpair(&s);
	int p = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	printf("TIOCGPTPEER %d\n", p >= 0);
	char buf[256];
	xwrite(m, "peer\n");
	int n = read(p, buf, sizeof(buf));
	show("peer read", buf, n);
	drain(m, buf, sizeof(buf), 50);
	xwrite(p, "bye\n");
	close(p);
	close(s);
	n = read(m, buf, sizeof(buf));
	show("after replica close", buf, n);
	n = read(m, buf, sizeof(buf));
	printf("then %d %s\n", n, strerror(errno));
	struct pollfd pf = {m, POLLIN, 0};
	poll(&pf, 1, 0);
	printf("master poll hup %d\n", !!(pf.revents & POLLHUP));
	close(m);
}

static void hangup(void) {
	int s, m = openpair(&s);
	pid_t child = fork();
	if (child == 0) {
		close(m);
		setsid();
		ioctl(s, TIOCSCTTY, 0);
		sigset_t set, old;
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigprocmask(SIG_BLOCK, &set, &old);
		signal(SIGHUP, handler);
		xwrite(s, "ready\n");
		while (!got)
			sigsuspend(&old);
		char c;
		int r = read(s, &c, 1);
		printf("child: SIGHUP %d, read %d\n", got == SIGHUP, r);
		r = write(s, "x", 1);
		printf("child: write %d %s\n", r, strerror(errno));
		printf("child: /dev/tty %d\n", open("/dev/tty", O_RDWR));
		_exit(0);
	}
	close(s);
	waitfor(m, "ready");
	close(m);
	int st;
	waitpid(child, &st, 0);
	printf("parent: child exit %d\n", WEXITSTATUS(st));
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	basics();
	canonical();
	raw();
	jobs();
	winsize();
	devtty();
	peer_and_close();
	hangup();
	printf("done\n");
	return 0;
}
