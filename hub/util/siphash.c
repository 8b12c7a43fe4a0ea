#include "hub/util/siphash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#define RT_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define RT_SIPROUND(v0, v1, v2, v3) \
	do { \
		v0 += v1; v1 = RT_ROTL(v1, 13); v1 ^= v0; v0 = RT_ROTL(v0, 32); \
		v2 += v3; v3 = RT_ROTL(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = RT_ROTL(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = RT_ROTL(v1, 17); v1 ^= v2; v2 = RT_ROTL(v2, 32); \
	} while (0)

static uint64_t rt__load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

uint64_t rt_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = rt__load_le64(key), k1 = rt__load_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t) len << 56, m;
	size_t whole = len & ~(size_t) 7;

	for (size_t i = 0; i < whole; i += 8) {
		m = rt__load_le64(in + i);
		v3 ^= m;
		RT_SIPROUND(v0, v1, v2, v3);
		RT_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The last 0-7 bytes, in the low bytes of the final block. */
	for (size_t i = 0; i < (len & 7); i++) {
		b |= (uint64_t) in[whole + i] << (8 * i);
	}
	v3 ^= b;
	RT_SIPROUND(v0, v1, v2, v3);
	RT_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	RT_SIPROUND(v0, v1, v2, v3);
	RT_SIPROUND(v0, v1, v2, v3);
	RT_SIPROUND(v0, v1, v2, v3);
	RT_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint8_t rt__key[16];
static pthread_once_t rt__key_once = PTHREAD_ONCE_INIT;

static void rt__draw_key(void)
{
	size_t got = 0;

	while (got < sizeof(rt__key)) {
		ssize_t n = getrandom(rt__key + got, sizeof(rt__key) - got, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		got += (size_t) n;
	}
	if (got < sizeof(rt__key)) {
		/* No getrandom() (a kernel before 3.17): the device it reads. */
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		while (fd >= 0 && got < sizeof(rt__key)) {
			ssize_t n = read(fd, rt__key + got, sizeof(rt__key) - got);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				break;
			}
			got += (size_t) n;
		}
		if (fd >= 0) {
			close(fd);
		}
	}
	if (got < sizeof(rt__key)) {
		/* Still unpredictable enough to stop precomputed collisions. */
		struct timespec ts;
		uint64_t mix[2];
		clock_gettime(CLOCK_REALTIME, &ts);
		mix[0] = (uint64_t) ts.tv_nsec ^ ((uint64_t) getpid() << 32);
		mix[1] = (uint64_t) ts.tv_sec ^ (uint64_t) (uintptr_t) &ts;
		memcpy(rt__key, mix, sizeof(rt__key));
	}
}

uint64_t rt_siphash_keyed(const void *data, size_t len)
{
	pthread_once(&rt__key_once, rt__draw_key);
	return rt_siphash24(rt__key, data, len);
}
