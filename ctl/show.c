/* show: progress lines and figures (show.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"

unsigned show_pct(const char *v)
{
	char *end;
	unsigned long p;

	if (!v || *v < '0' || *v > '9')
		return 0;
	p = strtoul(v, &end, 10);
	if (*end)
		return 0;
	return p > 100 ? 100 : (unsigned)p;
}

void show_line(char *buf, size_t n, const char *state, unsigned pct,
	       const char *stage)
{
	snprintf(buf, n, "%s %u%%%s%s", state, pct > 100 ? 100 : pct,
		 *stage ? " " : "", stage);
}

void show_bar(char *buf, size_t n, const char *state, unsigned pct,
	      const char *stage)
{
	char bar[SHOW_BAR_WIDTH + 1];
	unsigned fill;

	if (pct > 100)
		pct = 100;
	fill = pct * SHOW_BAR_WIDTH / 100;
	memset(bar, '#', fill);
	memset(bar + fill, ' ', SHOW_BAR_WIDTH - fill);
	bar[SHOW_BAR_WIDTH] = '\0';
	snprintf(buf, n, "\r%-9s [%s] %3u%% %-14s", state, bar, pct, stage);
}

void show_uptime(char *buf, size_t n, long long secs)
{
	long long d, h, m, s;

	if (secs < 0) {
		snprintf(buf, n, "-");
		return;
	}
	d = secs / 86400;
	h = secs / 3600 % 24;
	m = secs / 60 % 60;
	s = secs % 60;
	if (d)
		snprintf(buf, n, "%lld day%s, %lld:%02lld:%02lld", d,
			 d == 1 ? "" : "s", h, m, s);
	else
		snprintf(buf, n, "%lld:%02lld:%02lld", h, m, s);
}
