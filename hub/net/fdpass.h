/* Passing sockets between the hubs of one host: an abstract AF_UNIX
 * SOCK_SEQPACKET socket per hub, named after its pid and node id, whose
 * datagrams may carry one descriptor each (SCM_RIGHTS). Everything that
 * arrives is untrusted: the peer's credentials are checked by the caller
 * (rt_fdpass_peer), descriptors beyond the one expected are closed. */
#ifndef RT_HUB_FDPASS_H
#define RT_HUB_FDPASS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest datagram either side sends or takes. */
#define RT_FDPASS_DGRAM 65536

/* Listens on the name of (pid, node); non-blocking, close-on-exec.
 * Returns the socket or a negative errno. */
int rt_fdpass_listen(int pid, uint32_t node);
/* Connects to the hub (pid, node); non-blocking once connected. Returns the
 * socket or a negative errno. */
int rt_fdpass_connect(int pid, uint32_t node);
/* The same in two steps, for a socket that must exist before it connects:
 * rt_fdpass_socket returns an unconnected one (close-on-exec) or a
 * negative errno; rt_fdpass_connect_fd connects it and makes it
 * non-blocking, 0 or a negative errno (the socket stays the caller's). */
int rt_fdpass_socket(void);
int rt_fdpass_connect_fd(int fd, int pid, uint32_t node);
/* Accepts one pending connection (non-blocking, close-on-exec), or a
 * negative errno (-EAGAIN: none). */
int rt_fdpass_accept(int listener);
/* New connections to listener are refused from now on (ECONNREFUSED at the
 * connecting end); those already pending can still be accepted. Closing a
 * listener instead drops what is pending, after its peers saw their
 * connect succeed. Returns 0 or a negative errno. */
int rt_fdpass_refuse_new(int listener);
/* The process at the other end of a connected socket. */
int rt_fdpass_peer(int fd, pid_t *pid, uid_t *uid);
/* Sends one datagram of len bytes (1..RT_FDPASS_DGRAM) with pass_fd
 * (-1: none). Returns 0, -EAGAIN when the socket is full, or another
 * negative errno. */
int rt_fdpass_send(int fd, const void *data, size_t len, int pass_fd);
/* Receives one datagram into buf (cap bytes): returns its length (0: the
 * peer closed), or a negative errno (-EAGAIN: none; -EMSGSIZE: it did not
 * fit; -EPROTO: its descriptors were cut or more than one came, all
 * closed). *got_fd is the descriptor it carried, close-on-exec, or -1. */
ssize_t rt_fdpass_recv(int fd, void *buf, size_t cap, int *got_fd);

#endif
