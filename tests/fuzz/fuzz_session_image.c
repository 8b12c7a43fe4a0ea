/* A session as bytes (hub/model/session_image.c), as another process would
 * hand it over. Input: the image itself. Whatever the decoder accepts must
 * keep the limits it was given and encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/session_image.h"

static const rt_session_limits lim = {2, 16, 1024, 10, 64};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rt_session_image img;
	char err[128];
	uint8_t *copy;
	rt_sb again;

	if (size > 100000) {
		return 0;
	}
	/* An exact-size copy, so that reading past the image is caught. */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (rt_session_image_decode(&img, copy, size, &lim, err, sizeof(err)) == 0) {
		if (img.proto >= lim.protocols || img.sub_count > lim.max_subscriptions
				|| img.id_len == 0 || strlen(img.id) != img.id_len) {
			abort();
		}
		rt_sb_init(&again);
		if (rt_session_image_encode(&img, &again) == 0
				&& (again.len != size || memcmp(again.data, copy, size) != 0)) {
			abort();
		}
		rt_sb_free(&again);
		rt_session_image_free(&img);
	}
	free(copy);
	return 0;
}
