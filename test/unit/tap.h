/* A minimal TAP producer for the host unit tests. */
#ifndef XSAGENT_TAP_H
#define XSAGENT_TAP_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                 \
	do {                                                          \
		int ok_c_ = !!(cond);                                 \
		printf("%sok %d - ", ok_c_ ? "" : "not ", ++tap_n);   \
		printf(__VA_ARGS__);                                  \
		printf("\n");                                         \
		if (!ok_c_) {                                         \
			tap_failed++;                                 \
			printf("#   failed at %s:%d: %s\n", __FILE__, \
			       __LINE__, #cond);                      \
		}                                                     \
	} while (0)

#define is_str(got, want, ...)                                          \
	do {                                                            \
		const char *g_ = (got), *w_ = (want);                   \
		ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__);           \
		if (!(g_ && w_ && !strcmp(g_, w_)))                     \
			printf("#   got '%s'\n#   want '%s'\n",         \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

/* Write text to dir/name; returns the path (a static buffer). */
static inline const char *tap_put(const char *dir, const char *name,
				  const char *text)
{
	static char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
