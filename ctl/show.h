/* show: what xsagentctl prints -- pure, unit-tested (test/unit/test_ctl.c). */
#ifndef XSAGENTCTL_SHOW_H
#define XSAGENTCTL_SHOW_H

#include <stddef.h>

#define SHOW_BAR_WIDTH 30

/* A task's progress node: 0-100; anything else (absent, junk) is 0 and
 * more than 100 is 100. */
unsigned show_pct(const char *v);
/* One plain line for a log or a pipe: "running 31% init". */
void show_line(char *buf, size_t n, const char *state, unsigned pct,
	       const char *stage);
/* The terminal's bar, drawn over itself with '\r' (no newline):
 * "\rrunning   [#########                     ]  31% init          ". */
void show_bar(char *buf, size_t n, const char *state, unsigned pct,
	      const char *stage);
/* Seconds as xl's uptime does: "0:05:07", "2 days, 3:04:05"; "-" when
 * negative (not running). */
void show_uptime(char *buf, size_t n, long long secs);

#endif
