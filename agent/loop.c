#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "loop.h"

#define LOOP_MAX_FDS 256

struct loop_fd {
	int fd;
	loop_fd_fn *fn;
	void *arg;
};

struct loop {
	struct loop_fd fds[LOOP_MAX_FDS];
	unsigned nfds;
	struct loop_timer *timers;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	return calloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	free(l);
}

int loop_add(struct loop *l, int fd, loop_fd_fn *fn, void *arg)
{
	if (l->nfds == LOOP_MAX_FDS)
		return -EMFILE;
	l->fds[l->nfds++] = (struct loop_fd){ fd, fn, arg };
	return 0;
}

void loop_del(struct loop *l, int fd)
{
	for (unsigned i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd) {
			l->fds[i] = l->fds[--l->nfds];
			return;
		}
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg)
{
	*t = (struct loop_timer){ .fn = fn, .arg = arg };
}

void loop_timer_disarm(struct loop *l, struct loop_timer *t)
{
	for (struct loop_timer **p = &l->timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->armed = false;
	t->next = NULL;
}

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t when_ms)
{
	if (t->armed)
		loop_timer_disarm(l, t);
	t->when_ms = when_ms;
	t->armed = true;
	t->next = l->timers;
	l->timers = t;
}

int loop_run_once(struct loop *l)
{
	struct pollfd pfd[LOOP_MAX_FDS];
	struct loop_fd snap[LOOP_MAX_FDS];
	unsigned n = l->nfds;
	int timeout = -1, r;
	uint64_t now;

	now = loop_now_ms();
	for (struct loop_timer *t = l->timers; t; t = t->next) {
		int left = t->when_ms <= now ? 0 :
			   (int)(t->when_ms - now > 3600000 ? 3600000
							     : t->when_ms - now);
		if (timeout < 0 || left < timeout)
			timeout = left;
	}
	for (unsigned i = 0; i < n; i++) {
		snap[i] = l->fds[i];
		pfd[i] = (struct pollfd){ .fd = snap[i].fd, .events = POLLIN };
	}
	r = poll(pfd, n, timeout);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	/* Callbacks may add or remove fds: dispatch from the snapshot, and
	 * skip an fd that a previous callback removed. */
	for (unsigned i = 0; i < n && r > 0; i++) {
		bool live = false;

		if (!pfd[i].revents)
			continue;
		r--;
		for (unsigned j = 0; j < l->nfds; j++)
			if (l->fds[j].fd == snap[i].fd && l->fds[j].arg == snap[i].arg)
				live = true;
		if (live)
			snap[i].fn(snap[i].arg, snap[i].fd, pfd[i].revents);
	}
	now = loop_now_ms();
	for (;;) {
		struct loop_timer *due = NULL;

		for (struct loop_timer *t = l->timers; t; t = t->next)
			if (t->when_ms <= now) {
				due = t;
				break;
			}
		if (!due)
			break;
		loop_timer_disarm(l, due);
		due->fn(due->arg);
	}
	return 0;
}
