/* Pusher HTTP API requests (hub/api/pusher_api.c): routing, query and
 * signature parsing, events and batches, channel queries, through a real
 * connection to the hub. Input: a flag byte, a line "METHOD TARGET" (the
 * request target, query included), then the body. With flag bit 0 the
 * harness signs the request as the Pusher server SDKs do (auth_key,
 * auth_timestamp, auth_version, body_md5, auth_signature), so that the
 * signed paths are reached; without it the request goes as written. */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "hub/wire/http.h"
#include "live.h"

#define MAX_PARAMS 64

typedef struct param {
	char *key, *value;
} param;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	rt_fuzz_live_start();
	return 0;
}

static int param_cmp(const void *a, const void *b)
{
	return strcmp(((const param *) a)->key, ((const param *) b)->key);
}

static char *decoded(const char *s, size_t len)
{
	char *out = malloc(len + 1);

	if (rt_http_url_decode(s, len, 1, out, len + 1) < 0) {
		abort(); /* len + 1 always suffice */
	}
	return out;
}

/* The signature the server SDKs compute over the query string q. */
static void sign(const char *method, const char *path, size_t path_len, const char *q,
		char hex[65])
{
	param ps[MAX_PARAMS];
	size_t n = 0, cap = strlen(method) + path_len + strlen(q) + 8, len;
	char *s = malloc(cap), *o = s;
	const char *p = q;

	while (*p && n < MAX_PARAMS) {
		const char *amp = strchr(p, '&'), *eq;
		size_t seg = amp ? (size_t) (amp - p) : strlen(p);
		if (seg > 0) {
			eq = memchr(p, '=', seg);
			ps[n].key = decoded(p, eq ? (size_t) (eq - p) : seg);
			ps[n].value = eq ? decoded(eq + 1, seg - (size_t) (eq - p) - 1) : decoded("", 0);
			for (char *k = ps[n].key; *k; k++) {
				*k = (char) tolower((unsigned char) *k);
			}
			if (strcmp(ps[n].key, "auth_signature") == 0) {
				free(ps[n].key);
				free(ps[n].value);
			} else {
				n++;
			}
		}
		p += seg + (amp ? 1 : 0);
	}
	qsort(ps, n, sizeof(ps[0]), param_cmp);
	o += sprintf(o, "%s\n", method);
	memcpy(o, path, path_len);
	o += path_len;
	*o++ = '\n';
	for (size_t i = 0; i < n; i++) {
		len = strlen(ps[i].key) + strlen(ps[i].value) + 2;
		if ((size_t) (o - s) + len + 1 > cap) {
			cap = cap * 2 + len;
			char *grown = realloc(s, cap);
			o = grown + (o - s);
			s = grown;
		}
		o += sprintf(o, "%s%s=%s", i ? "&" : "", ps[i].key, ps[i].value);
		free(ps[i].key);
		free(ps[i].value);
	}
	rt_fuzz_hmac_hex(RT_FUZZ_APP_SECRET, s, (size_t) (o - s), hex);
	free(s);
}

static void md5_hex(const uint8_t *data, size_t len, char out[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[32] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *) data + 1, *nl, *sp, *q;
	const uint8_t *body;
	size_t line_len, body_len, path_len;
	char method[16], *target, *req, hex[65], md5[33];
	size_t cap;
	int fd, n;

	if (size < 2 || size > 60000) {
		return 0;
	}
	nl = memchr(line, '\n', size - 1);
	line_len = nl ? (size_t) (nl - line) : size - 1;
	body = nl ? (const uint8_t *) nl + 1 : data + size;
	body_len = (size_t) ((const uint8_t *) data + size - body);
	sp = memchr(line, ' ', line_len);
	if (sp == NULL || sp == line || (size_t) (sp - line) >= sizeof(method)) {
		return 0;
	}
	memcpy(method, line, (size_t) (sp - line));
	method[sp - line] = '\0';
	target = malloc(line_len + 512);
	memcpy(target, sp + 1, line_len - (size_t) (sp - line) - 1);
	target[line_len - (size_t) (sp - line) - 1] = '\0';
	if (data[0] & 1) {
		char extra[160];
		q = strchr(target, '?');
		n = snprintf(extra, sizeof(extra), "%sauth_key=%s&auth_timestamp=%lld&auth_version=1.0",
				q ? (q[1] ? "&" : "") : "?", RT_FUZZ_APP_KEY, (long long) time(NULL));
		if (body_len > 0) {
			md5_hex(body, body_len, md5);
			n += snprintf(extra + n, sizeof(extra) - (size_t) n, "&body_md5=%s", md5);
		}
		strcat(target, extra);
		q = strchr(target, '?');
		path_len = (size_t) (q - target);
		sign(method, target, path_len, q + 1, hex);
		strcat(target, "&auth_signature=");
		strcat(target, hex);
	}
	cap = strlen(target) + body_len + 256;
	req = malloc(cap);
	n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n", method, target, body_len);
	memcpy(req + n, body, body_len);
	fd = rt_fuzz_live_connect();
	send(fd, req, (size_t) n + body_len, MSG_NOSIGNAL);
	rt_fuzz_live_finish(fd);
	free(req);
	free(target);
	return 0;
}
