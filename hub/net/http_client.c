#include "hub/net/http_client.h"
#include "hub/util/buf.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RT_RESPONSE_MAX (256 * 1024)

struct rt_http_client {
	uv_timer_t timer; /* first: closing it frees the client */
	uv_loop_t *loop;
	CURLM *multi;
	rt_http_call *calls;
};

struct rt_http_call {
	rt_http_client *client;
	rt_http_call *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	rt_sb response;
	rt_http_done_cb cb;
	void *ctx;
};

/* One per socket curl watches; closed through libuv, so it outlives the socket briefly. */
typedef struct rt__sock {
	uv_poll_t poll;
	curl_socket_t fd;
	rt_http_client *client;
} rt__sock;

static void rt__call_free(rt_http_call *call)
{
	rt_http_client *c = call->client;

	if (call->prev) {
		call->prev->next = call->next;
	} else {
		c->calls = call->next;
	}
	if (call->next) {
		call->next->prev = call->prev;
	}
	curl_multi_remove_handle(c->multi, call->easy);
	curl_easy_cleanup(call->easy);
	curl_slist_free_all(call->headers);
	free(call->body);
	rt_sb_free(&call->response);
	free(call);
}

static void rt__check_done(rt_http_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		rt_http_call *call;
		long status = 0;

		if (m->msg != CURLMSG_DONE) {
			continue;
		}
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &call);
		if (m->data.result == CURLE_OK) {
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		}
		if (call->response.failed) {
			call->cb(call->ctx, 0, NULL, 0, "response too large or out of memory");
		} else {
			call->cb(call->ctx, status, call->response.data ? call->response.data : "",
					call->response.len,
					m->data.result == CURLE_OK ? NULL : curl_easy_strerror(m->data.result));
		}
		rt__call_free(call);
	}
}

static void rt__on_poll(uv_poll_t *handle, int status, int events)
{
	rt__sock *s = handle->data;
	int flags = 0, running;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	}
	if (events & UV_READABLE) {
		flags |= CURL_CSELECT_IN;
	}
	if (events & UV_WRITABLE) {
		flags |= CURL_CSELECT_OUT;
	}
	curl_multi_socket_action(s->client->multi, s->fd, flags, &running);
	rt__check_done(s->client);
}

static void rt__on_timer(uv_timer_t *timer)
{
	rt_http_client *c = timer->data;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	rt__check_done(c);
}

static int rt__on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	rt_http_client *c = userp;
	rt__sock *s = socketp;
	int events = 0;
	(void) easy;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *) &s->poll, (uv_close_cb) free);
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL || uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->fd = fd;
		s->client = c;
		s->poll.data = s;
		curl_multi_assign(c->multi, fd, s);
	}
	if (what & CURL_POLL_IN) {
		events |= UV_READABLE;
	}
	if (what & CURL_POLL_OUT) {
		events |= UV_WRITABLE;
	}
	uv_poll_start(&s->poll, events, rt__on_poll);
	return 0;
}

static int rt__on_timeout_change(CURLM *multi, long ms, void *userp)
{
	rt_http_client *c = userp;
	(void) multi;

	if (ms < 0) {
		uv_timer_stop(&c->timer);
	} else {
		uv_timer_start(&c->timer, rt__on_timer, (uint64_t) ms, 0);
	}
	return 0;
}

static size_t rt__on_data(char *ptr, size_t size, size_t n, void *userdata)
{
	rt_http_call *call = userdata;

	if (call->response.len + size * n > RT_RESPONSE_MAX) {
		call->response.failed = 1;
		return 0;
	}
	rt_sb_append(&call->response, ptr, size * n);
	return call->response.failed ? 0 : size * n;
}

int rt_http_client_new(rt_http_client **out, uv_loop_t *loop)
{
	rt_http_client *c = calloc(1, sizeof(*c));
	rt_fdset before;
	int have_before;

	if (c == NULL) {
		return -ENOMEM;
	}
	have_before = rt_fdset_take(&before) == 0;

	c->multi = curl_multi_init();
	if (have_before) {
		rt_fdset_cloexec_new(&before);
	}
	if (c->multi == NULL) {
		free(c);
		return -ENOMEM;
	}
	c->loop = loop;
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, rt__on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, rt__on_timeout_change);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	*out = c;
	return 0;
}

void rt_http_client_free(rt_http_client *c)
{
	if (c == NULL) {
		return;
	}
	while (c->calls != NULL) {
		rt__call_free(c->calls);
	}
	curl_multi_cleanup(c->multi);
	uv_close((uv_handle_t *) &c->timer, (uv_close_cb) free);
}

rt_http_call *rt_http_client_start(rt_http_client *c, const rt_http_request *req,
		rt_http_done_cb cb, void *ctx)
{
	rt_http_call *call = calloc(1, sizeof(*call));

	if (call == NULL || (call->easy = curl_easy_init()) == NULL) {
		free(call);
		return NULL;
	}
	call->client = c;
	call->cb = cb;
	call->ctx = ctx;
	rt_sb_init(&call->response);
	for (const char *const *h = req->headers; h && *h; h++) {
		struct curl_slist *l = curl_slist_append(call->headers, *h);
		if (l == NULL) {
			break;
		}
		call->headers = l;
	}
	/* No "Expect: 100-continue" round trip on POSTs. */
	call->headers = curl_slist_append(call->headers, "Expect:");
	curl_easy_setopt(call->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(call->easy, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(call->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(call->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(call->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, rt__on_data);
	curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(call->easy, CURLOPT_USERAGENT, "realtime-hub");
	curl_easy_setopt(call->easy, CURLOPT_OPENSOCKETFUNCTION, rt_http_open_socket);
	if (req->method != NULL && strcmp(req->method, "POST") == 0) {
		call->body = malloc(req->body_len + 1);
		if (call->body == NULL) {
			curl_easy_cleanup(call->easy);
			curl_slist_free_all(call->headers);
			free(call);
			return NULL;
		}
		memcpy(call->body, req->body, req->body_len);
		curl_easy_setopt(call->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE, (long) req->body_len);
	}
	call->next = c->calls;
	if (c->calls) {
		c->calls->prev = call;
	}
	c->calls = call;
	if (curl_multi_add_handle(c->multi, call->easy) != CURLM_OK) {
		call->cb = NULL;
		rt__call_free(call);
		return NULL;
	}
	return call;
}

void rt_http_call_cancel(rt_http_call *call)
{
	rt__call_free(call);
}

curl_socket_t rt_http_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	int fd;
	(void) ud;
	(void) purpose;

	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* Reads /proc/self/fd; the directory's own descriptor is left out. */
static int rt__fds_now(int **out, size_t *count)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0, cap = 64;
	int *fds, self;

	if (d == NULL) {
		return -errno;
	}
	self = dirfd(d);
	fds = malloc(cap * sizeof(*fds));
	while (fds != NULL && (e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end != '\0' || fd == self) {
			continue;
		}
		if (n == cap) {
			int *more = realloc(fds, 2 * cap * sizeof(*fds));
			if (more == NULL) {
				free(fds);
				fds = NULL;
				break;
			}
			fds = more;
			cap *= 2;
		}
		fds[n++] = (int) fd;
	}
	closedir(d);
	if (fds == NULL) {
		return -ENOMEM;
	}
	*out = fds;
	*count = n;
	return 0;
}

int rt_fdset_take(rt_fdset *set)
{
	return rt__fds_now(&set->fds, &set->count);
}

void rt_fdset_cloexec_new(rt_fdset *set)
{
	int *now;
	size_t n;

	if (rt__fds_now(&now, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			size_t j = 0;
			while (j < set->count && set->fds[j] != now[i]) {
				j++;
			}
			if (j == set->count) {
				int flags = fcntl(now[i], F_GETFD);
				if (flags >= 0 && !(flags & FD_CLOEXEC)) {
					fcntl(now[i], F_SETFD, flags | FD_CLOEXEC);
				}
			}
		}
		free(now);
	}
	free(set->fds);
	set->fds = NULL;
	set->count = 0;
}
