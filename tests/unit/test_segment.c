/* The pool's named segment (broker/segment.c): made once, found again by
 * the next start with its ring and hub table, and refused, with a message
 * that says what and where, whenever the file is another user's, open to
 * others, or not what its header claims. The files are real POSIX shared
 * memory; the broken ones are broken the way another process would. */
#include "rt_test.h"
#include "broker/segment.h"
#include "hub/model/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP 7
#define RING 65536

static char name[64];
static int serial;

static void fresh_name(void)
{
	snprintf(name, sizeof(name), "/realtime.test.%d.%d", (int) getpid(), serial++);
	shm_unlink(name);
}

static int publish(rt_pool *p, const char *text)
{
	rt_str ch = {"news", 4};
	rt_msg_fields f = {0};
	rt_msg msg;
	char err[200];

	memset(&f, 0, sizeof(f));
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = text;
	f.data.len = strlen(text);
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
	return rt_pool_append(p, APP, &msg, err, sizeof(err));
}

/* Makes a sound segment and lets it go, as a server that stopped would. */
static void make_segment(size_t ring)
{
	rt_pool *p = NULL;
	char note[300], err[400];
	int r = rt_segment_open(&p, name, ring, geteuid(), getegid(), note, sizeof(note),
			err, sizeof(err));

	if (r != RT_SEGMENT_CREATED) {
		printf("#   cannot make %s: %d %s\n", name, r, err);
		exit(1);
	}
	rt_pool_set_secret(p, "s3cret");
	rt_pool_unmap(p);
}

/* Writes len bytes at off of the file, as another process of its user could. */
static void poke(off_t off, const void *bytes, size_t len)
{
	int fd = shm_open(name, O_RDWR, 0);
	unsigned char *mem;

	if (fd < 0) {
		exit(1);
	}
	mem = mmap(NULL, (size_t) off + len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED) {
		exit(1);
	}
	memcpy(mem + off, bytes, len);
	munmap(mem, (size_t) off + len);
}

/* Both ways in refuse the file with rc, and the message names it. */
static void both_refuse(int rc, const char *says)
{
	rt_pool *p = NULL;
	rt_segment_id id;
	char note[300], err[600];
	int r;

	r = rt_segment_attach(&p, name, geteuid(), &id, err, sizeof(err));
	RT_ASSERT_EQ_INT(r, rc);
	RT_ASSERT(p == NULL);
	RT_ASSERT(strstr(err, name) != NULL);
	RT_ASSERT(strstr(err, says) != NULL);
	r = rt_segment_open(&p, name, RING, geteuid(), getegid(), note, sizeof(note), err, sizeof(err));
	RT_ASSERT_EQ_INT(r, rc);
	RT_ASSERT(p == NULL);
	RT_ASSERT(strstr(err, name) != NULL);
	RT_ASSERT(strstr(err, says) != NULL);
	RT_ASSERT(strstr(err, "rm /dev/shm") != NULL);
}

/* A CLI process refuses what the server makes again (ours, but unsound):
 * attach fails with rc, open makes a fresh one and says why. */
static void cli_refuses_server_remakes(int rc, const char *says)
{
	rt_pool *p = NULL;
	rt_segment_id id;
	char note[300], err[600];
	uint64_t size, head;
	int r;

	r = rt_segment_attach(&p, name, geteuid(), &id, err, sizeof(err));
	RT_ASSERT_EQ_INT(r, rc);
	RT_ASSERT(p == NULL);
	RT_ASSERT(strstr(err, name) != NULL);
	RT_ASSERT(strstr(err, says) != NULL);
	r = rt_segment_open(&p, name, RING, geteuid(), getegid(), note, sizeof(note), err, sizeof(err));
	RT_ASSERT_EQ_INT(r, RT_SEGMENT_RECREATED);
	RT_ASSERT(strstr(note, says) != NULL);
	rt_pool_ring(p, &size, &head);
	RT_ASSERT_EQ_INT(size, RING);
	RT_ASSERT_EQ_INT(head, 0);
	rt_pool_unmap(p);
	r = rt_segment_attach(&p, name, geteuid(), &id, err, sizeof(err));
	RT_ASSERT_EQ_INT(r, 0);
	rt_pool_unmap(p);
}

RT_TEST(made_once_then_found_with_its_ring_and_slots)
{
	rt_pool *a = NULL, *b = NULL;
	rt_pool_member *m = NULL;
	rt_pool_peer peers[4];
	struct stat st;
	char note[300], err[400];
	uint64_t size, head_a, head_b;
	int fd;

	fresh_name();
	RT_ASSERT_EQ_INT(rt_segment_open(&a, name, RING, geteuid(), getegid(), note, sizeof(note),
			err, sizeof(err)), RT_SEGMENT_CREATED);
	fd = shm_open(name, O_RDONLY, 0);
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(fstat(fd, &st), 0);
	close(fd);
	RT_ASSERT_EQ_INT(st.st_mode & 07777, 0600);
	RT_ASSERT_EQ_INT(st.st_uid, geteuid());
	RT_ASSERT_EQ_INT(publish(a, "before the reload"), 0);
	RT_ASSERT_EQ_INT(rt_pool_join(a, APP, 11, &m, err, sizeof(err)), 0);
	rt_pool_ring(a, &size, &head_a);
	/* The next start opens it again while the hub of the last one (a's
	 * member, in a worker that keeps its mapping) lives on. */

	RT_ASSERT_EQ_INT(rt_segment_open(&b, name, RING, geteuid(), getegid(), note, sizeof(note),
			err, sizeof(err)), RT_SEGMENT_ATTACHED);
	rt_pool_ring(b, &size, &head_b);
	RT_ASSERT_EQ_INT(size, RING);
	RT_ASSERT(head_a > 0);
	RT_ASSERT_EQ_INT(head_b, head_a);
	RT_ASSERT_EQ_INT(rt_pool_peers(b, APP, peers, 4), 1);
	RT_ASSERT_EQ_INT(peers[0].node, 11);
	RT_ASSERT_EQ_INT(rt_pool_live_hubs(b, APP), 1);
	/* The old generation's hub still reads what the new one writes. */
	RT_ASSERT_EQ_INT(publish(b, "after"), 0);
	RT_ASSERT_EQ_INT(rt_pool_wake(b, APP, NULL), 1);
	rt_pool_leave(m);
	RT_ASSERT_EQ_INT(rt_pool_live_hubs(b, APP), 0);
	rt_pool_unmap(a);
	rt_pool_unmap(b);
	shm_unlink(name);
}

RT_TEST(cli_attaches_without_creating_and_notices_a_new_segment)
{
	rt_pool *p = NULL;
	rt_segment_id id;
	char err[400];

	fresh_name();
	RT_ASSERT_EQ_INT(rt_segment_attach(&p, name, geteuid(), &id, err, sizeof(err)), -ENOENT);
	RT_ASSERT(strstr(err, "there is none") != NULL);
	RT_ASSERT_EQ_INT(shm_open(name, O_RDONLY, 0), -1); /* still none */
	make_segment(2 * RING);
	RT_ASSERT_EQ_INT(rt_segment_attach(&p, name, geteuid(), &id, err, sizeof(err)), 0);
	/* Any ring size: the file's, not the CLI's realtime.pool_memory. */
	RT_ASSERT_EQ_INT(rt_pool_max_message(p) > RING / 4, 1);
	RT_ASSERT_EQ_INT(rt_segment_same(name, &id), 1);
	RT_ASSERT_EQ_INT(rt_pool_secret_matches(p, "s3cret"), 1);
	RT_ASSERT_EQ_INT(rt_pool_secret_matches(p, "s3cret2"), 0);
	RT_ASSERT_EQ_INT(rt_pool_secret_matches(p, ""), 0);
	rt_pool_unmap(p);
	shm_unlink(name);
	make_segment(RING);
	RT_ASSERT_EQ_INT(rt_segment_same(name, &id), 0);
	shm_unlink(name);
	RT_ASSERT_EQ_INT(rt_segment_same(name, &id), 0);
}

RT_TEST(wrong_owner_refused_and_left_alone)
{
	struct passwd *nobody = getpwnam("nobody");
	struct stat st;
	int fd;

	RT_ASSERT(nobody != NULL);
	RT_ASSERT_EQ_INT(geteuid(), 0); /* the tests run as root, as CI does */
	fresh_name();
	make_segment(RING);
	fd = shm_open(name, O_RDWR, 0);
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(fchown(fd, nobody->pw_uid, nobody->pw_gid), 0);
	close(fd);
	both_refuse(-EPERM, "belongs to nobody");
	both_refuse(-EPERM, "realtime.shm_user");
	fd = shm_open(name, O_RDONLY, 0);
	RT_ASSERT(fd >= 0); /* not removed */
	RT_ASSERT_EQ_INT(fstat(fd, &st), 0);
	close(fd);
	RT_ASSERT_EQ_INT(st.st_uid, nobody->pw_uid);
	shm_unlink(name);
}

RT_TEST(shm_user_owns_what_root_makes)
{
	struct passwd *nobody = getpwnam("nobody");
	rt_pool *p = NULL;
	rt_segment_id id;
	struct stat st;
	char note[300], err[400];
	uid_t uid;
	gid_t gid;
	int fd;

	RT_ASSERT(nobody != NULL);
	RT_ASSERT_EQ_INT(rt_segment_owner("", &uid, &gid, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(uid, geteuid());
	RT_ASSERT_EQ_INT(rt_segment_owner("no-such-user-here", &uid, &gid, err, sizeof(err)), -ENOENT);
	RT_ASSERT(strstr(err, "realtime.shm_user=no-such-user-here") != NULL);
	RT_ASSERT_EQ_INT(rt_segment_owner("nobody", &uid, &gid, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(uid, nobody->pw_uid);
	fresh_name();
	RT_ASSERT_EQ_INT(rt_segment_open(&p, name, RING, uid, gid, note, sizeof(note), err,
			sizeof(err)), RT_SEGMENT_CREATED);
	rt_pool_unmap(p);
	fd = shm_open(name, O_RDONLY, 0);
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(fstat(fd, &st), 0);
	close(fd);
	RT_ASSERT_EQ_INT(st.st_uid, nobody->pw_uid);
	RT_ASSERT_EQ_INT(st.st_mode & 07777, 0600);
	/* Found again by the next start with the same setting; a process that
	 * expects its own user's refuses it. */
	RT_ASSERT_EQ_INT(rt_segment_open(&p, name, RING, uid, gid, note, sizeof(note), err,
			sizeof(err)), RT_SEGMENT_ATTACHED);
	rt_pool_unmap(p);
	RT_ASSERT_EQ_INT(rt_segment_attach(&p, name, uid, &id, err, sizeof(err)), 0);
	rt_pool_unmap(p);
	RT_ASSERT_EQ_INT(rt_segment_attach(&p, name, geteuid(), &id, err, sizeof(err)), -EPERM);
	shm_unlink(name);
}

RT_TEST(mode_open_to_others_refused)
{
	int fd;

	fresh_name();
	make_segment(RING);
	fd = shm_open(name, O_RDWR, 0);
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(fchmod(fd, 0644), 0);
	close(fd);
	both_refuse(-EPERM, "mode 0644");
	fd = shm_open(name, O_RDWR, 0);
	RT_ASSERT_EQ_INT(fchmod(fd, 0620), 0);
	close(fd);
	both_refuse(-EPERM, "mode 0620");
	shm_unlink(name);
}

RT_TEST(bad_magic)
{
	uint64_t junk = 0x6e6f742075730a00ULL;

	fresh_name();
	make_segment(RING);
	poke(0, &junk, sizeof(junk));
	cli_refuses_server_remakes(-EPROTO, "magic number is wrong");
	junk = 0;
	poke(0, &junk, sizeof(junk));
	/* No magic number yet: perhaps being made; the server waits a second
	 * for its maker, then makes it again. */
	cli_refuses_server_remakes(-EAGAIN, "no magic number yet");
	shm_unlink(name);
}

RT_TEST(bad_version)
{
	uint32_t v = 999;

	fresh_name();
	make_segment(RING);
	poke(8, &v, sizeof(v));
	cli_refuses_server_remakes(-EPROTONOSUPPORT, "layout version is 999");
	shm_unlink(name);
}

RT_TEST(truncated_file)
{
	int fd;

	fresh_name();
	make_segment(RING);
	fd = shm_open(name, O_RDWR, 0);
	RT_ASSERT_EQ_INT(ftruncate(fd, 100), 0);
	close(fd);
	cli_refuses_server_remakes(-EBADMSG, "truncated: 100 bytes");
	fd = shm_open(name, O_RDWR, 0);
	RT_ASSERT_EQ_INT(ftruncate(fd, 0), 0);
	close(fd);
	cli_refuses_server_remakes(-EAGAIN, "it is empty");
	/* Cut inside the ring: the header is whole, the sizes disagree. */
	fd = shm_open(name, O_RDWR, 0);
	RT_ASSERT_EQ_INT(ftruncate(fd, (off_t) rt_pool_layout_size(RING) - 4096), 0);
	close(fd);
	cli_refuses_server_remakes(-EBADMSG, "a ring of 65536 bytes");
	shm_unlink(name);
}

RT_TEST(lying_sizes)
{
	uint64_t ring = (uint64_t) 1 << 40;
	uint32_t header = 64, slots = 1;
	int fd;

	fresh_name();
	make_segment(RING);
	poke(24, &ring, sizeof(ring));
	cli_refuses_server_remakes(-EBADMSG, "a ring of 1099511627776 bytes");
	poke(12, &header, sizeof(header));
	cli_refuses_server_remakes(-EBADMSG, "64 header bytes");
	poke(16, &slots, sizeof(slots));
	cli_refuses_server_remakes(-EBADMSG, "1 slots");
	/* A file larger than its header says. */
	fd = shm_open(name, O_RDWR, 0);
	RT_ASSERT_EQ_INT(ftruncate(fd, (off_t) rt_pool_layout_size(RING) + 8), 0);
	close(fd);
	cli_refuses_server_remakes(-EBADMSG, "a ring of 65536 bytes, its size leaves 65544");
	shm_unlink(name);
}

RT_TEST(other_pool_memory_made_again_by_the_server_only)
{
	rt_pool *p = NULL;
	rt_segment_id id;
	char note[300], err[400];
	uint64_t size, head;

	fresh_name();
	make_segment(2 * RING);
	RT_ASSERT_EQ_INT(rt_segment_attach(&p, name, geteuid(), &id, err, sizeof(err)), 0);
	rt_pool_unmap(p);
	RT_ASSERT_EQ_INT(rt_segment_open(&p, name, RING, geteuid(), getegid(), note, sizeof(note),
			err, sizeof(err)), RT_SEGMENT_RECREATED);
	RT_ASSERT(strstr(note, "realtime.pool_memory asks for 65536") != NULL);
	rt_pool_ring(p, &size, &head);
	RT_ASSERT_EQ_INT(size, RING);
	rt_pool_unmap(p);
	/* The CLI that had the old one sees it is not the name's any more. */
	RT_ASSERT_EQ_INT(rt_segment_same(name, &id), 0);
	shm_unlink(name);
}

/* The header's lock, where this build puts it (after the layout fields and
 * the secret's fingerprint). */
#define LOCK_OFFSET 104

/* A process of the server dies holding the ring's lock, as one killed in
 * the middle of an append would. */
static void die_holding_the_lock(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = shm_open(name, O_RDWR, 0);
		unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		_exit(mem == MAP_FAILED || pthread_mutex_lock((pthread_mutex_t *) (mem + LOCK_OFFSET)) != 0);
	}
	waitpid(pid, NULL, 0);
}

RT_TEST(lock_of_a_dead_holder_recovered)
{
	rt_pool *p = NULL;
	char note[300], err[400];

	fresh_name();
	make_segment(RING);
	die_holding_the_lock();
	RT_ASSERT_EQ_INT(rt_segment_open(&p, name, RING, geteuid(), getegid(), note, sizeof(note),
			err, sizeof(err)), RT_SEGMENT_ATTACHED);
	RT_ASSERT_EQ_INT(publish(p, "after a crash"), 0); /* and does not hang */
	rt_pool_unmap(p);
	shm_unlink(name);
}

RT_TEST(unrecoverable_lock_made_again)
{
	int fd = -1;
	unsigned char *mem;

	fresh_name();
	make_segment(RING);
	die_holding_the_lock();
	/* A process that saw the holder dead and unlocked without making the
	 * lock consistent leaves it unusable for good. */
	fd = shm_open(name, O_RDWR, 0);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	RT_ASSERT(mem != MAP_FAILED);
	RT_ASSERT_EQ_INT(pthread_mutex_trylock((pthread_mutex_t *) (mem + LOCK_OFFSET)), EOWNERDEAD);
	pthread_mutex_unlock((pthread_mutex_t *) (mem + LOCK_OFFSET));
	munmap(mem, 4096);
	cli_refuses_server_remakes(-ENOTRECOVERABLE, "its lock is unusable");
	shm_unlink(name);
}

RT_TEST(one_being_made_is_waited_for)
{
	rt_pool *p = NULL;
	char note[300], err[400];
	struct stat before, after;
	pid_t pid;
	int fd;

	fresh_name();
	/* Another process made the file and is about to size and format it. */
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(fstat(fd, &before), 0);
	pid = fork();
	if (pid == 0) {
		struct timespec pause = {0, 200 * 1000000L};
		void *mem;
		nanosleep(&pause, NULL);
		if (ftruncate(fd, (off_t) rt_pool_layout_size(RING)) != 0) {
			_exit(1);
		}
		mem = mmap(NULL, rt_pool_layout_size(RING), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (mem == MAP_FAILED) {
			_exit(1);
		}
		rt_pool_format(mem, RING);
		_exit(0);
	}
	close(fd);
	RT_ASSERT_EQ_INT(rt_segment_open(&p, name, RING, geteuid(), getegid(), note, sizeof(note),
			err, sizeof(err)), RT_SEGMENT_ATTACHED);
	waitpid(pid, NULL, 0);
	fd = shm_open(name, O_RDONLY, 0);
	RT_ASSERT_EQ_INT(fstat(fd, &after), 0);
	close(fd);
	RT_ASSERT_EQ_INT(after.st_ino, before.st_ino);
	rt_pool_unmap(p);
	shm_unlink(name);
}

RT_TEST(not_a_regular_file_or_a_link)
{
	char path[96];
	rt_pool *p = NULL;
	char note[300], err[400];

	fresh_name();
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	RT_ASSERT_EQ_INT(symlink("/etc/passwd", path), 0);
	RT_ASSERT(rt_segment_open(&p, name, RING, geteuid(), getegid(), note, sizeof(note), err,
			sizeof(err)) < 0);
	RT_ASSERT(p == NULL);
	RT_ASSERT(strstr(err, name) != NULL);
	unlink(path);
}

int main(void)
{
	RT_RUN(made_once_then_found_with_its_ring_and_slots);
	RT_RUN(cli_attaches_without_creating_and_notices_a_new_segment);
	RT_RUN(wrong_owner_refused_and_left_alone);
	RT_RUN(shm_user_owns_what_root_makes);
	RT_RUN(mode_open_to_others_refused);
	RT_RUN(bad_magic);
	RT_RUN(bad_version);
	RT_RUN(truncated_file);
	RT_RUN(lying_sizes);
	RT_RUN(other_pool_memory_made_again_by_the_server_only);
	RT_RUN(lock_of_a_dead_holder_recovered);
	RT_RUN(unrecoverable_lock_made_again);
	RT_RUN(one_being_made_is_waited_for);
	RT_RUN(not_a_regular_file_or_a_link);
	return rt_test_summary();
}
