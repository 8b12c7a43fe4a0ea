/* The pool's named shared-memory segment (shm_open): made by a server's
 * first process, it outlives that process, so a reload that re-runs MINIT
 * (FPM re-executing its master, Apache's restarts) finds the ring and the
 * hub table where the last generation left them, and a CLI process of the
 * same user publishes into the ring instead of POSTing to /publish.
 *
 * Everyone who can open the file can write it: whoever attaches checks the
 * owner, the mode, the magic, the layout version and the sizes first, and
 * refuses with a message that names the segment, what is wrong and what to
 * change. */
#ifndef RT_BROKER_SEGMENT_H
#define RT_BROKER_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker/pool.h"

#define RT_SEGMENT_NAME_MAX 64

/* "/realtime.<port>.<app id in hex>": the port makes it easy to find
 * (ls /dev/shm), the app id (rt_pool_app_id) tells hosts apart. */
void rt_segment_name(char *out, size_t len, const char *host, int port);

/* The uid and gid the segment belongs to: user's (realtime.shm_user), or
 * this process's when user is empty. */
int rt_segment_owner(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/* What rt_segment_open did. */
enum { RT_SEGMENT_ATTACHED = 0, RT_SEGMENT_CREATED = 1, RT_SEGMENT_RECREATED = 2 };

/* In a server's first process: attaches to the segment name if it is
 * sound, owned by uid and sized for ring_size; makes it (O_EXCL, mode 0600,
 * then fchown to uid:gid) when there is none; makes it again when the one
 * there is ours but broken, of another layout or size (note says why;
 * one that looks half made gets a second to be finished first).
 * Returns one of the above, or a negative errno with err set: a segment of
 * another owner or with group/other permissions is refused, never used or
 * removed. */
int rt_segment_open(rt_pool **out, const char *name, size_t ring_size, uid_t uid, gid_t gid,
		char *note, size_t notelen, char *err, size_t errlen);

/* The same with a history store of history_size bytes after the ring
 * (0: none); a segment of another ring or history size is made again. */
int rt_segment_open_ex(rt_pool **out, const char *name, size_t ring_size, size_t history_size,
		uid_t uid, gid_t gid, char *note, size_t notelen, char *err, size_t errlen);

/* Where the segment was when attached: a CLI process compares it with
 * what the name leads to now, to notice a segment made again. */
typedef struct rt_segment_id {
	dev_t dev;
	ino_t ino;
} rt_segment_id;

/* In a process without a hub: attaches to the segment name without ever
 * creating it, with the same checks (owner uid, mode, layout; any ring
 * size, taken from the file). -ENOENT: there is none; -EACCES: it is not
 * ours to open; -EAGAIN: it is being made (or its maker died making it). */
int rt_segment_attach(rt_pool **out, const char *name, uid_t uid, rt_segment_id *id,
		char *err, size_t errlen);

/* Whether name still leads to the segment id. */
int rt_segment_same(const char *name, const rt_segment_id *id);

#endif
