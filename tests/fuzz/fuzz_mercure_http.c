/* Mercure requests (hub/api/mercure_api.c, hub/proto/mercure.c) through a
 * real connection to the hub. First byte odd: the rest is the body of a
 * POST /.well-known/mercure with a valid publisher JWT (mercure.publish
 * "*"), so the form's fields reach the update; even: the rest, its bytes
 * outside the URI's safe ones percent-encoded, is the query of a subscriber's
 * GET (the second byte odd adds a valid JWT with mercure.subscribe "*"),
 * so topics, selectors and lastEventID reach the stream, which a publish of
 * a private update then crosses before the client leaves. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hub/model/token.h"
#include "live.h"

static char rt__jwt[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char head[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const char claims[] = "{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"*\"]}}";
	unsigned char mac[32];
	unsigned int ml = sizeof(mac);
	size_t n;

	(void) argc;
	(void) argv;
	n = rt_base64url_encode((const unsigned char *) head, sizeof(head) - 1, rt__jwt);
	rt__jwt[n++] = '.';
	n += rt_base64url_encode((const unsigned char *) claims, sizeof(claims) - 1, rt__jwt + n);
	HMAC(EVP_sha256(), RT_FUZZ_MERCURE_KEY, (int) strlen(RT_FUZZ_MERCURE_KEY),
			(const unsigned char *) rt__jwt, n, mac, &ml);
	rt__jwt[n++] = '.';
	n += rt_base64url_encode(mac, sizeof(mac), rt__jwt + n);
	rt__jwt[n] = '\0';
	rt_fuzz_live_start();
	return 0;
}

static void rt__post(const char *body, size_t len)
{
	char head[1024];
	int fd, n = snprintf(head, sizeof(head),
			"POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Authorization: Bearer %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n", rt__jwt, len);

	fd = rt_fuzz_live_connect();
	if (send(fd, head, (size_t) n, MSG_NOSIGNAL) == n && len > 0) {
		send(fd, body, len, MSG_NOSIGNAL);
	}
	rt_fuzz_live_finish(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			"-._~:/?#[]@!$&'()*+,;=%{}";
	static const char hex[] = "0123456789ABCDEF";
	char *req;
	size_t n = 0;
	int fd;

	if (size < 2 || size > 6000) {
		return 0;
	}
	if (data[0] & 1) {
		rt__post((const char *) data + 1, size - 1);
		return 0;
	}
	req = malloc(3 * size + sizeof(rt__jwt) + 256);
	n = (size_t) sprintf(req, "GET /.well-known/mercure?");
	for (size_t i = 2; i < size; i++) {
		if (data[i] != 0 && strchr(safe, data[i]) != NULL) {
			req[n++] = (char) data[i];
		} else {
			req[n++] = '%';
			req[n++] = hex[data[i] >> 4];
			req[n++] = hex[data[i] & 15];
		}
	}
	if (data[1] & 1) {
		n += (size_t) sprintf(req + n, "&authorization=%s", rt__jwt);
	}
	n += (size_t) sprintf(req + n, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	fd = rt_fuzz_live_connect();
	send(fd, req, n, MSG_NOSIGNAL);
	free(req);
	/* An update crosses the stream (if it opened) before the client leaves. */
	{
		static const char body[] = "topic=a&topic=https%3A%2F%2Fe.x%2F1&data=x&private=on";
		rt__post(body, sizeof(body) - 1);
	}
	rt_fuzz_live_finish(fd);
	return 0;
}
