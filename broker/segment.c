#include "broker/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long a segment may look half made before it counts as broken. */
#define RT_SEGMENT_MAKING_MS 1000

void rt_segment_name(char *out, size_t len, const char *host, int port)
{
	snprintf(out, len, "/realtime.%d.%016llx", port,
			(unsigned long long) rt_pool_app_id(host, port));
}

int rt_segment_owner(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int r;

	if (user == NULL || user[0] == '\0') {
		*uid = geteuid();
		*gid = getegid();
		return 0;
	}
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &found);
	if (found == NULL) {
		snprintf(err, errlen, "realtime.shm_user=%s: %s", user,
				r != 0 ? strerror(r) : "no such user");
		return -ENOENT;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

static void rt__user_name(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	getpwuid_r(uid, &pw, buf, sizeof(buf), &found);
	if (found != NULL) {
		snprintf(out, len, "%s (uid %u)", pw.pw_name, (unsigned) uid);
	} else {
		snprintf(out, len, "uid %u", (unsigned) uid);
	}
}

/* The checks that need no mapping: who owns it, who else may open it, and
 * whether it holds a header at all. */
static int rt__check_file(int fd, const char *name, uid_t uid, struct stat *st,
		char *err, size_t errlen)
{
	char owner[96], want[96];

	if (fstat(fd, st) != 0) {
		int e = errno;
		snprintf(err, errlen, "shared memory segment %s: cannot stat it: %s", name, strerror(e));
		return -e;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "shared memory segment %s is not a regular file: remove it "
				"(rm /dev/shm%s)", name, name);
		return -EINVAL;
	}
	if (st->st_uid != uid) {
		rt__user_name(st->st_uid, owner, sizeof(owner));
		rt__user_name(uid, want, sizeof(want));
		snprintf(err, errlen, "shared memory segment %s belongs to %s, not to %s: refused. "
				"Remove it (rm /dev/shm%s) if it is stale, or set realtime.shm_user to the "
				"user that owns it", name, owner, want, name);
		return -EPERM;
	}
	if ((st->st_mode & 077) != 0) {
		snprintf(err, errlen, "shared memory segment %s has mode %04o: other users may read "
				"or write it, refused. Remove it (rm /dev/shm%s) or chmod 600 it; the "
				"extension makes it 0600 (realtime.shm_user picks the owner)",
				name, (unsigned) (st->st_mode & 07777), name);
		return -EPERM;
	}
	return 0;
}

/* Maps the whole file and checks what is in it. */
static int rt__map_checked(int fd, const char *name, const struct stat *st, rt_pool **out,
		char *err, size_t errlen)
{
	char why[200];
	size_t len = (size_t) st->st_size;
	void *mem;
	int r;

	if (st->st_size == 0) {
		snprintf(err, errlen, "shared memory segment %s: it is empty (being made, or its "
				"maker died making it)", name);
		return -EAGAIN;
	}
	if (st->st_size < 0 || (uint64_t) st->st_size < rt_pool_header_size()
			|| (uint64_t) st->st_size > ((uint64_t) 1 << 31)) {
		if (st->st_size > 0 && (uint64_t) st->st_size > ((uint64_t) 1 << 31)) {
			snprintf(why, sizeof(why), "it is %lld bytes, more than any pool",
					(long long) st->st_size);
		} else {
			snprintf(why, sizeof(why), "it is truncated: %lld bytes, less than its "
					"%zu-byte header", (long long) st->st_size, rt_pool_header_size());
		}
		snprintf(err, errlen, "shared memory segment %s: %s", name, why);
		return -EBADMSG;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		int e = errno;
		snprintf(err, errlen, "shared memory segment %s: cannot map %zu bytes: %s",
				name, len, strerror(e));
		return -e;
	}
	r = rt_pool_check(mem, (uint64_t) len, why, sizeof(why));
	if (r == 0) {
		r = rt_pool_wrap(out, mem, len, why, sizeof(why));
	}
	if (r != 0) {
		munmap(mem, len);
		snprintf(err, errlen, "shared memory segment %s: %s", name, why);
	}
	return r;
}

/* Makes the segment; nothing else may have it (O_EXCL), and a symbolic
 * link in its place is not followed. */
static int rt__create(rt_pool **out, const char *name, size_t ring_size, size_t history_size,
		uid_t uid, gid_t gid, char *err, size_t errlen)
{
	size_t len = rt_pool_layout_size_ex(ring_size, history_size);
	const char *step = "create";
	void *mem = MAP_FAILED;
	int fd, e;

	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "shared memory segment %s: cannot create it: %s",
				name, strerror(e));
		return -e;
	}
	/* The umask may have taken bits away, never added any: say 0600 exactly. */
	if ((uid != geteuid() || gid != getegid()) && fchown(fd, uid, gid) != 0) {
		step = "give it to realtime.shm_user";
	} else if (fchmod(fd, 0600) != 0) {
		step = "chmod it";
	} else if (ftruncate(fd, (off_t) len) != 0) {
		step = "size it";
	} else if ((mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		step = "map it";
	} else {
		rt_pool_format_ex(mem, ring_size, history_size);
		close(fd);
		e = rt_pool_wrap(out, mem, len, err, errlen);
		if (e != 0) {
			munmap(mem, len);
			shm_unlink(name);
		}
		return e;
	}
	e = errno;
	snprintf(err, errlen, "shared memory segment %s: cannot %s: %s", name, step, strerror(e));
	close(fd);
	shm_unlink(name);
	return -e;
}

int rt_segment_open(rt_pool **out, const char *name, size_t ring_size, uid_t uid, gid_t gid,
		char *note, size_t notelen, char *err, size_t errlen)
{
	return rt_segment_open_ex(out, name, ring_size, 0, uid, gid, note, notelen, err, errlen);
}

int rt_segment_open_ex(rt_pool **out, const char *name, size_t ring_size, size_t history_size,
		uid_t uid, gid_t gid, char *note, size_t notelen, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	note[0] = '\0';
	/* Twice at most: another process may remove the one we saw meanwhile. */
	for (int tries = 0; tries < 2; tries++) {
		r = rt__create(out, name, ring_size, history_size, uid, gid, err, errlen);
		if (r != -EEXIST) {
			return r == 0 ? RT_SEGMENT_CREATED : r;
		}
		fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0) {
			if (errno == ENOENT) {
				continue;
			}
			r = -errno;
			snprintf(err, errlen, "shared memory segment %s exists but cannot be opened: %s. "
					"Remove it (rm /dev/shm%s) or set realtime.shm_user to its owner",
					name, strerror(-r), name);
			return r;
		}
		r = rt__check_file(fd, name, uid, &st, err, errlen);
		if (r != 0) {
			close(fd);
			return r; /* another owner's, or open to others: not ours to touch */
		}
		r = rt__map_checked(fd, name, &st, out, err, errlen);
		/* Another process (a worker that runs MINIT itself) may be making
		 * it right now: give it RT_SEGMENT_MAKING_MS before calling it
		 * broken. */
		for (int waited = 0; r == -EAGAIN && waited < RT_SEGMENT_MAKING_MS; waited += 10) {
			struct timespec tick = {0, 10 * 1000000L};
			nanosleep(&tick, NULL);
			if (fstat(fd, &st) != 0) {
				break;
			}
			r = rt__map_checked(fd, name, &st, out, err, errlen);
		}
		close(fd);
		if (r == 0 && (uint64_t) st.st_size
				== rt_pool_layout_size_ex(ring_size, history_size)) {
			return RT_SEGMENT_ATTACHED;
		}
		if (r == 0) {
			rt_pool_unmap(*out);
			*out = NULL;
			snprintf(note, notelen, "shared memory segment %s has a ring and history of %llu "
					"bytes, realtime.pool_memory asks for %zu (and realtime.history_memory for "
					"%zu)", name,
					(unsigned long long) ((uint64_t) st.st_size - rt_pool_header_size()),
					ring_size, history_size);
		} else if (r == -EBADMSG || r == -EAGAIN || r == -EPROTO || r == -EPROTONOSUPPORT
				|| r == -ENOTRECOVERABLE) {
			snprintf(note, notelen, "%s", err);
		} else {
			return r;
		}
		/* Ours, and unusable as it is: workers of an older generation that
		 * still map it keep their copy; this generation gets a new one. */
		if (shm_unlink(name) != 0 && errno != ENOENT) {
			r = -errno;
			snprintf(err, errlen, "%s; cannot remove it to make it again: %s", note,
					strerror(-r));
			return r;
		}
		r = rt__create(out, name, ring_size, history_size, uid, gid, err, errlen);
		if (r != -EEXIST) {
			return r == 0 ? RT_SEGMENT_RECREATED : r;
		}
	}
	snprintf(err, errlen, "shared memory segment %s: another process keeps making and "
			"removing it", name);
	return -EBUSY;
}

int rt_segment_attach(rt_pool **out, const char *name, uid_t uid, rt_segment_id *id,
		char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "shared memory segment %s: %s", name,
				r == -ENOENT ? "there is none (no server of this realtime.listen has "
				"started on this host since boot)" : r == -EACCES ? "this user may not open "
				"it (it belongs to another: see realtime.shm_user)" : strerror(-r));
		return r;
	}
	r = rt__check_file(fd, name, uid, &st, err, errlen);
	if (r == 0) {
		r = rt__map_checked(fd, name, &st, out, err, errlen);
	}
	close(fd);
	if (r == 0) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
	return r;
}

int rt_segment_same(const char *name, const rt_segment_id *id)
{
	struct stat st;
	int fd = shm_open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0), same;

	if (fd < 0) {
		return 0;
	}
	same = fstat(fd, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino;
	close(fd);
	return same;
}
