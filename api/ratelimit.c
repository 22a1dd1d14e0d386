/*
 * The per-key rate limit: a rolling 60-second window kept in a small file
 * per key (DATA/rate/<key id>: 60 one-second buckets), read and updated
 * under flock. Counting in SQLite would make every request, reads
 * included, a write transaction; this is an open, a lock, a read and a
 * write of 960 bytes, and nothing is synced: after a crash the window
 * simply starts again.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUCKETS 60

typedef struct {
	int64_t second;
	int64_t count;
} bucket;

int api_rate_take(const char *dir, const char *key_id, long long limit, long long now, api_rate *out)
{
	bucket b[BUCKETS];
	char path[512];
	long long count = 0, oldest = now;
	ssize_t got;
	int fd, i;

	memset(out, 0, sizeof *out);
	out->limit = limit;
	if (snprintf(path, sizeof path, "%s/rate/%s", dir, key_id) >= (int)sizeof path)
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		/* the first request of a data directory makes DIR/rate */
		char *slash = strrchr(path, '/');
		if (errno != ENOENT)
			return -1;
		*slash = 0;
		if (mkdir(path, 0750) && errno != EEXIST)
			return -1;
		*slash = '/';
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
			return -1;
	}
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return -1;
	}
	memset(b, 0, sizeof b);
	got = pread(fd, b, sizeof b, 0);
	if (got != (ssize_t)sizeof b)
		memset(b, 0, sizeof b);
	for (i = 0; i < BUCKETS; i++)
		if (b[i].second > now - BUCKETS && b[i].second <= now && b[i].count > 0) {
			count += b[i].count;
			if (b[i].second < oldest)
				oldest = b[i].second;
		}
	out->reset = oldest + BUCKETS;
	if (count >= limit) {
		out->allowed = 0;
		out->remaining = 0;
		out->retry_after = oldest + BUCKETS - now;
		if (out->retry_after < 1)
			out->retry_after = 1;
	} else {
		bucket *cur = &b[now % BUCKETS];
		if (cur->second != now) {
			cur->second = now;
			cur->count = 0;
		}
		cur->count++;
		out->allowed = 1;
		out->remaining = limit - count - 1;
		if (pwrite(fd, b, sizeof b, 0) != (ssize_t)sizeof b) {
			close(fd);
			return -1;
		}
	}
	close(fd); /* releases the lock */
	return 0;
}
