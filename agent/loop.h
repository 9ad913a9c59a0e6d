/* The one poll() loop: file descriptors with callbacks, and timers whose
 * nearest deadline is poll's timeout.  With no timer armed the loop sleeps
 * until an fd is ready; an idle agent wakes only for its xenstored check
 * (agent.c, every 5 s). */
#ifndef XSAGENT_LOOP_H
#define XSAGENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
typedef void loop_fd_fn(void *arg, int fd, short revents);
typedef void loop_timer_fn(void *arg);

struct loop_timer {
	struct loop_timer *next;
	uint64_t when_ms;
	loop_timer_fn *fn;
	void *arg;
	bool armed;
};

uint64_t loop_now_ms(void);	/* CLOCK_MONOTONIC */

struct loop *loop_new(void);
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, loop_fd_fn *fn, void *arg);
void loop_del(struct loop *l, int fd);
void loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg);
void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t when_ms);
void loop_timer_disarm(struct loop *l, struct loop_timer *t);
/* Wait for one round of events and dispatch them; -errno if poll failed. */
int loop_run_once(struct loop *l);

#endif
