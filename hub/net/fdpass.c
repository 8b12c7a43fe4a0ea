#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct ucred, MSG_CMSG_CLOEXEC, accept4 */
#endif
#include "hub/net/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Room for the records of many connections in flight at once: the sender
 * queues what does not fit, this only saves wake-ups. */
#define RT_FDPASS_BUF (1024 * 1024)

static socklen_t rt__name(struct sockaddr_un *sa, int pid, uint32_t node)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract (leading NUL): nothing in the file system to clean up after
	 * a crash; who may connect is checked with SO_PEERCRED instead. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "realtime-hub-%d-%u", pid, node);
	return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + (size_t) n);
}

static void rt__buffers(int fd)
{
	int size = RT_FDPASS_BUF;

	/* The kernel caps these at net.core.[rw]mem_max; smaller still works. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

int rt_fdpass_listen(int pid, uint32_t node)
{
	struct sockaddr_un sa;
	socklen_t len = rt__name(&sa, pid, node);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0) {
		return -errno;
	}
	rt__buffers(fd);
	if (bind(fd, (struct sockaddr *) &sa, len) != 0 || listen(fd, 64) != 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int rt_fdpass_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -errno;
	}
	rt__buffers(fd);
	return fd;
}

int rt_fdpass_connect_fd(int fd, int pid, uint32_t node)
{
	struct sockaddr_un sa;
	socklen_t len = rt__name(&sa, pid, node);

	/* A unix connect completes at once or fails (a full backlog: EAGAIN). */
	if (connect(fd, (struct sockaddr *) &sa, len) != 0) {
		return -errno;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		return -errno;
	}
	return 0;
}

int rt_fdpass_connect(int pid, uint32_t node)
{
	int fd = rt_fdpass_socket();
	int r;

	if (fd < 0) {
		return fd;
	}
	r = rt_fdpass_connect_fd(fd, pid, node);
	if (r != 0) {
		close(fd);
		return r;
	}
	return fd;
}

int rt_fdpass_accept(int listener)
{
	int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	rt__buffers(fd);
	return fd;
}

int rt_fdpass_refuse_new(int listener)
{
	/* Linux: a unix listener shut for reading refuses connects and keeps
	 * its backlog. */
	return shutdown(listener, SHUT_RD) == 0 ? 0 : -errno;
}

int rt_fdpass_peer(int fd, pid_t *pid, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		return -errno;
	}
	if (len != sizeof(cred)) {
		return -EPROTO;
	}
	*pid = cred.pid;
	*uid = cred.uid;
	return 0;
}

int rt_fdpass_send(int fd, const void *data, size_t len, int pass_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {(void *) data, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t r;

	if (len == 0 || len > RT_FDPASS_DGRAM) {
		return -EINVAL;
	}
	if (pass_fd >= 0) {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do {
		r = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	return (size_t) r == len ? 0 : -EPROTO;
}

ssize_t rt_fdpass_recv(int fd, void *buf, size_t cap, int *got_fd)
{
	/* Room for more than the one descriptor a datagram may carry, so that
	 * extra ones arrive (and are closed here) rather than being cut. */
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf)};
	int bad = 0, fds = 0;
	ssize_t r;

	*got_fd = -1;
	do {
		r = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t n;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS
				|| c->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int passed;
			memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fds++ == 0) {
				*got_fd = passed;
			} else {
				close(passed);
				bad = 1;
			}
		}
	}
	if (bad || (mh.msg_flags & MSG_CTRUNC)) {
		if (*got_fd >= 0) {
			close(*got_fd);
			*got_fd = -1;
		}
		return -EPROTO;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		if (*got_fd >= 0) {
			close(*got_fd);
			*got_fd = -1;
		}
		return -EMSGSIZE;
	}
	return r;
}
