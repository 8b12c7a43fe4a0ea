/* SipHash-2-4 (hub/util/siphash.c) against the SipHash paper's test vectors and
 * against OpenSSL's own SipHash, and the keyed hash of the hub's maps. */
#include "rt_test.h"

#include "hub/util/map.h"
#include "hub/util/siphash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <unistd.h>

/* The paper's key: bytes 00 01 .. 0f. */
static void paper_key(uint8_t key[16])
{
	for (int i = 0; i < 16; i++) {
		key[i] = (uint8_t) i;
	}
}

RT_TEST(paper_appendix_a)
{
	/* Appendix A of "SipHash: a fast short-input PRF": the 15-byte message
	 * 00 01 .. 0e under the key 00 .. 0f gives a129ca6149be45e5. */
	uint8_t key[16], msg[15];

	paper_key(key);
	for (int i = 0; i < 15; i++) {
		msg[i] = (uint8_t) i;
	}
	RT_ASSERT(rt_siphash24(key, msg, sizeof(msg)) == 0xa129ca6149be45e5ULL);
}

RT_TEST(reference_vectors)
{
	/* The first outputs of the reference implementation's vectors (messages
	 * 00, 00 01, ... of length 0 to 7 under the paper's key). */
	static const uint64_t want[] = {
		0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
		0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
		0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
	};
	uint8_t key[16], msg[8];

	paper_key(key);
	for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++) {
		msg[n] = (uint8_t) n;
		if (rt_siphash24(key, msg, n) != want[n]) {
			RT_FAIL_("length %zu: got %016" PRIx64 ", want %016" PRIx64, n,
					rt_siphash24(key, msg, n), want[n]);
			return;
		}
	}
}

/* OpenSSL's SipHash-2-4 with an 8-byte output, read as a little-endian number. */
static int openssl_siphash(const uint8_t key[16], const uint8_t *msg, size_t len, uint64_t *out)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t size = 8, got = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_end(),
	};
	uint8_t tag[8];
	int ok = ctx != NULL && EVP_MAC_init(ctx, key, 16, params) == 1
			&& EVP_MAC_update(ctx, msg, len) == 1
			&& EVP_MAC_final(ctx, tag, &got, sizeof(tag)) == 1 && got == 8;

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	*out = 0;
	for (int i = 7; ok && i >= 0; i--) {
		*out = (*out << 8) | tag[i];
	}
	return ok;
}

RT_TEST(agrees_with_openssl)
{
	/* Every length through four blocks, so each tail length is crossed
	 * with whole blocks before it; random keys as well as the paper's. */
	uint8_t key[16], msg[64];

	paper_key(key);
	for (int i = 0; i < 64; i++) {
		msg[i] = (uint8_t) i;
	}
	for (int round = 0; round < 8; round++) {
		for (size_t n = 0; n <= sizeof(msg); n++) {
			uint64_t want;
			RT_ASSERT(openssl_siphash(key, msg, n, &want));
			if (rt_siphash24(key, msg, n) != want) {
				RT_FAIL_("round %d length %zu: got %016" PRIx64 ", OpenSSL %016" PRIx64, round,
						n, rt_siphash24(key, msg, n), want);
				return;
			}
		}
		for (int i = 0; i < 16; i++) {
			key[i] = (uint8_t) rand();
		}
		for (int i = 0; i < 64; i++) {
			msg[i] = (uint8_t) rand();
		}
	}
}

RT_TEST(keyed_hash_is_stable_in_a_process)
{
	/* Same key, same hash; never a slot marker; not the unkeyed FNV-1a. */
	static const char *const keys[] = {"", "a", "news", "presence-room.1"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t n = strlen(keys[i]);
		RT_ASSERT(rt_map_hash(keys[i], n) == rt_map_hash(keys[i], n));
		RT_ASSERT(rt_map_hash(keys[i], n) > 1);
		RT_ASSERT(rt_siphash_keyed(keys[i], n) != rt_hash(keys[i], n));
	}
	RT_ASSERT(rt_map_hash("abc", 3) != rt_map_hash("abd", 3));
}

RT_TEST(key_differs_between_processes)
{
	/* Each process draws its own key: a channel name chosen to collide in
	 * one process does not collide in the next. The chance that two random
	 * keys give the same 64-bit hash is 2^-64. */
	char self[4096], cmd[4200], line[64] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *child;
	uint64_t theirs;

	RT_ASSERT(n > 0);
	self[n] = '\0';
	snprintf(cmd, sizeof(cmd), "'%s' --print-hash", self);
	child = popen(cmd, "r");
	RT_ASSERT(child != NULL);
	RT_ASSERT(fgets(line, sizeof(line), child) != NULL);
	RT_ASSERT(pclose(child) == 0);
	theirs = strtoull(line, NULL, 16);
	RT_ASSERT(theirs != 0);
	RT_ASSERT(theirs != rt_siphash_keyed("presence-room.1", 15));
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--print-hash") == 0) {
		printf("%016" PRIx64 "\n", rt_siphash_keyed("presence-room.1", 15));
		return 0;
	}
	RT_RUN(paper_appendix_a);
	RT_RUN(reference_vectors);
	RT_RUN(agrees_with_openssl);
	RT_RUN(keyed_hash_is_stable_in_a_process);
	RT_RUN(key_differs_between_processes);
	return rt_test_summary();
}
