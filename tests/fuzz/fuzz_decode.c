/* The decoders of hub/: base64url, URL (percent) decoding with and without
 * '+', and query parameter lookup. Outputs are malloc'd at the capacity
 * given, so a write past it is caught. Input: a byte choosing the capacity
 * (as a fraction of the input length), then the encoded text. Round trips
 * are checked: decode(encode(x)) == x. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/wire/http.h"
#include "hub/model/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data + 1;
	size_t len, cap;
	unsigned char *out;
	char *text, *enc;
	long n;

	if (size < 1) {
		return 0;
	}
	len = size - 1;
	cap = (len + 1) * data[0] / 255;

	out = malloc(cap ? cap : 1);
	n = rt_base64url_decode(in, len, out, cap);
	if (n > (long) cap) {
		abort();
	}
	if (n >= 0) {
		/* What decodes re-encodes to the same text. */
		enc = malloc(4 * ((size_t) n / 3 + 1) + 1);
		if (rt_base64url_encode(out, (size_t) n, enc) != len || memcmp(enc, in, len) != 0) {
			/* Unused low bits of the last character may differ; decode again. */
			unsigned char *again = malloc((size_t) n ? (size_t) n : 1);
			if (rt_base64url_decode(enc, strlen(enc), again, (size_t) n) != n
					|| memcmp(again, out, (size_t) n) != 0) {
				abort();
			}
			free(again);
		}
		free(enc);
	}
	free(out);

	for (int plus = 0; plus < 2; plus++) {
		text = malloc(cap ? cap : 1);
		n = rt_http_url_decode(in, len, plus, text, cap);
		if (n >= 0 && ((size_t) n >= cap || text[n] != '\0' || (size_t) n > len)) {
			abort();
		}
		free(text);
	}

	/* Base64url of the raw bytes decodes back to them. */
	enc = malloc(4 * (len / 3 + 1) + 1);
	cap = rt_base64url_encode((const unsigned char *) in, len, enc);
	out = malloc(len ? len : 1);
	if (rt_base64url_decode(enc, cap, out, len) != (long) len || memcmp(out, in, len) != 0) {
		abort();
	}
	free(out);
	free(enc);

	/* A query string as a request carries it. */
	if (len < RT_HTTP_HEAD_MAX - 16) {
		rt_http_req *req = malloc(sizeof(*req));
		static const char head[] = "GET /ws?";
		size_t used, qlen;
		char *msg = malloc(len + 64);
		size_t m = 0;
		memcpy(msg, head, sizeof(head) - 1);
		m = sizeof(head) - 1;
		for (size_t i = 0; i < len; i++) {
			/* Bytes a request line cannot carry end the query. */
			msg[m++] = (in[i] == ' ' || in[i] == '\r' || in[i] == '\n' || in[i] == '#'
					|| (unsigned char) in[i] < 0x21 || (unsigned char) in[i] > 0x7e) ? '&' : in[i];
		}
		memcpy(msg + m, " HTTP/1.1\r\n\r\n", 13);
		m += 13;
		rt_http_req_init(req, 0);
		if (rt_http_req_feed(req, msg, m, &used) == RT_HTTP_DONE) {
			static const char *const names[] = {"token", "a", "", "socket_id"};
			for (size_t k = 0; k < 4; k++) {
				const char *v = rt_http_req_query(req, names[k], &qlen);
				if (v != NULL) {
					char *dec = malloc(qlen + 1);
					if (rt_http_url_decode(v, qlen, 1, dec, qlen + 1) < 0) {
						abort(); /* len + 1 always suffice */
					}
					free(dec);
				}
			}
		}
		rt_http_req_free(req);
		free(msg);
	}
	return 0;
}
