/* hub/wire/sse.c: events, the stream id and the channel list. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/wire/sse.h"

static void check_event(const char *event, const char *data, int open, const char *want)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sse_event(&sb, event, data, strlen(data), open);
	RT_ASSERT(!sb.failed);
	RT_ASSERT_EQ_INT(sb.len, strlen(want));
	RT_ASSERT_MEM(sb.data, want, strlen(want));
	RT_ASSERT_EQ_INT(rt_sse_event_size(event, data, strlen(data), open), strlen(want));
	rt_sb_free(&sb);
}

RT_TEST(events_split_lines)
{
	check_event(NULL, "{\"a\":1}", 0, "data: {\"a\":1}\n\n");
	check_event("close", "x", 0, "event: close\ndata: x\n\n");
	/* CR, LF and CRLF each start a line; a break at the end leaves an empty one. */
	check_event(NULL, "a\nb\rc\r\nd", 0, "data: a\ndata: b\ndata: c\ndata: d\n\n");
	check_event(NULL, "a\n", 0, "data: a\ndata: \n\n");
	check_event(NULL, "", 0, "data: \n\n");
	check_event(NULL, "\r\n\r\n", 1, "data: \ndata: \ndata: \n");
	/* Nothing a client sends as data can end the event early or set a field. */
	check_event(NULL, "x\n\nid: 1\nevent: y", 0,
			"data: x\ndata: \ndata: id: 1\ndata: event: y\n\n");
}

RT_TEST(id_round_trip)
{
	rt_sse_cursor c[3] = {
		{rt_sse_channel_hash("news", 4), {42, 0x00ab12cd34ef5678ULL}},
		{rt_sse_channel_hash("x", 1), {9007199254740992ULL, UINT64_MAX}},
		{0, {0, 0}},
	}, back[RT_SSE_ID_MAX];
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sse_id_put(&sb, c, 3);
	RT_ASSERT(sb.len > 6);
	RT_ASSERT_MEM(sb.data, "id: ", 4);
	RT_ASSERT_MEM(sb.data + sb.len - 2, "\n\n", 2);
	RT_ASSERT_EQ_INT(rt_sse_id_parse(sb.data + 4, sb.len - 6, back, RT_SSE_ID_MAX), 3);
	for (int i = 0; i < 3; i++) {
		RT_ASSERT_EQ_INT(back[i].hash, c[i].hash);
		RT_ASSERT(back[i].pos.offset == c[i].pos.offset);
		RT_ASSERT(back[i].pos.epoch == c[i].pos.epoch);
	}
	/* Fewer room than entries: refused, nothing written past cap. */
	RT_ASSERT_EQ_INT(rt_sse_id_parse(sb.data + 4, sb.len - 6, back, 2), -1);
	rt_sb_free(&sb);
	RT_ASSERT_EQ_INT(rt_sse_id_parse("", 0, back, 1), 0);
}

RT_TEST(id_malformed)
{
	static const char *const bad[] = {
		"garbage", "1", "2e236994", "2e236994-", "2e236994-1", "2e236994-1-",
		"2e236994-1-c2769ecf07b98d4", "2e236994-1-c2769ecf07b98d4aa",
		"2e236994--c2769ecf07b98d4a", "2e23699g-1-c2769ecf07b98d4a",
		"2e236994-1-c2769ecf07b98d4a.", ".2e236994-1-c2769ecf07b98d4a",
		"2e236994-1-c2769ecf07b98d4a,2e236994-1-c2769ecf07b98d4a",
		"2e236994-9007199254740993-c2769ecf07b98d4a",
		"2e236994-99999999999999999999-c2769ecf07b98d4a",
		"2e236994-+1-c2769ecf07b98d4a", "2e236994- 1-c2769ecf07b98d4a",
		"2E236994-1-c2769ecf07b98d4a\n",
	};
	rt_sse_cursor out[4];
	char *big;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rt_sse_id_parse(bad[i], strlen(bad[i]), out, 4) != -1) {
			RT_FAIL_("accepted \"%s\"", bad[i]);
		}
	}
	/* Longer than any id the hub writes: refused before it is read. */
	big = malloc(RT_SSE_ID_LEN + 64);
	RT_ASSERT(big != NULL);
	while (n + 42 < RT_SSE_ID_LEN + 64) {
		memcpy(big + n, "2e236994-1-c2769ecf07b98d4a.", 28);
		n += 28;
	}
	big[n - 1] = '\0';
	RT_ASSERT_EQ_INT(rt_sse_id_parse(big, n - 1, out, 4), -1);
	free(big);
}

RT_TEST(channel_list)
{
	const char *list = ",a,,bb,c,", *name;
	size_t pos = 0, n;
	const char *want[] = {"a", "bb", "c"};
	int i = 0;

	while ((n = rt_sse_list_next(list, strlen(list), &pos, &name)) > 0) {
		RT_ASSERT(i < 3);
		RT_ASSERT_EQ_INT(n, strlen(want[i]));
		RT_ASSERT_MEM(name, want[i], n);
		i++;
	}
	RT_ASSERT_EQ_INT(i, 3);
	pos = 0;
	RT_ASSERT_EQ_INT(rt_sse_list_next("", 0, &pos, &name), 0);
}

RT_TEST(head_cors)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sse_head(&sb, "http://app.example", 18);
	rt_sb_append(&sb, "", 1);
	RT_ASSERT(strstr(sb.data, "\r\nAccess-Control-Allow-Origin: http://app.example\r\n") != NULL);
	RT_ASSERT(strstr(sb.data, "Content-Type: text/event-stream") != NULL);
	RT_ASSERT(strstr(sb.data, "\r\n\r\nretry: 1000\n\n") != NULL);
	rt_sb_free(&sb);
	/* No Origin, or one with a control byte: no CORS header at all. */
	rt_sb_init(&sb);
	rt_sse_head(&sb, "http://a\r\nX-Evil: 1", 20);
	rt_sb_append(&sb, "", 1);
	RT_ASSERT(strstr(sb.data, "Access-Control") == NULL);
	RT_ASSERT(strstr(sb.data, "X-Evil") == NULL);
	rt_sb_free(&sb);
}

int main(void)
{
	RT_RUN(head_cors);
	RT_RUN(events_split_lines);
	RT_RUN(id_round_trip);
	RT_RUN(id_malformed);
	RT_RUN(channel_list);
	return rt_test_summary();
}
