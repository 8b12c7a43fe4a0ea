/* What one hub sends another to hand over a connection
 * (hub/model/handoff_record.c), as a hostile process would send it. Input:
 * one byte choosing the decoder (even: a record, odd: a datagram), then the
 * bytes. What the record decoder accepts must keep the limits it was given
 * and point inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/handoff_record.h"

static const rt_handoff_limits lim = {{2, 16, 1024, 10, 64}, 65536, 8192, 25};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rt_handoff_record rec;
	rt_handoff_dgram d;
	char err[200];
	uint8_t *copy;

	if (size < 1 || size > 200000) {
		return 0;
	}
	/* An exact-size copy, so that reading past the input is caught. */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1) {
		if (rt_handoff_dgram_parse(&d, copy, size - 1) == 0 && d.bytes != NULL
				&& (d.bytes < copy || d.bytes + d.len > copy + size - 1)) {
			abort();
		}
	} else if (rt_handoff_record_decode(&rec, copy, size - 1, &lim, err, sizeof(err)) == 0) {
		if (rec.out_len > lim.max_out || rec.carry_len > lim.max_carry
				|| rec.ping_in > lim.max_ping_in || rec.image.sub_count > lim.session.max_subscriptions
				|| (rec.out_len && (rec.out < copy || rec.out + rec.out_len > copy + size - 1))
				|| (rec.carry_len && (rec.carry < copy
						|| rec.carry + rec.carry_len > copy + size - 1))) {
			abort();
		}
		rt_handoff_record_free(&rec);
	}
	free(copy);
	return 0;
}
