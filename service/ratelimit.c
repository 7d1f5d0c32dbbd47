/*
 * ratelimit.c - token buckets by name with a bounded, LRU-evicted table.
 *
 * A bucket stores its tokens and the time they were counted; taking a
 * token first adds rate x elapsed (capped at burst).  So an idle bucket
 * costs nothing and needs no timer.  The table is a chained hash with an
 * intrusive LRU list, all under one mutex: the critical section is a hash,
 * a short chain walk and a few multiplications, far below the cost of the
 * request it guards, so striping it would buy nothing measurable.
 */
#include "service/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

#define NAME_MAX_LEN 64

struct bucket {
	char name[NAME_MAX_LEN];
	double tokens, at;
	struct bucket *next;	      /* hash chain */
	struct bucket *newer, *older; /* LRU list */
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate, burst;
	size_t max, n, nslots;
	struct bucket **slots;
	struct bucket *newest, *oldest;
};

struct ratelimit *ratelimit_new(double rate, double burst, size_t max_names)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate > 0 ? rate : 1;
	rl->burst = burst >= 1 ? burst : 1;
	rl->max = max_names ? max_names : 1;
	for (rl->nslots = 64; rl->nslots < rl->max; rl->nslots *= 2)
		;
	rl->slots = xcalloc(rl->nslots, sizeof(*rl->slots));
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (struct bucket *b = rl->newest, *next; b; b = next) {
		next = b->older;
		free(b);
	}
	free(rl->slots);
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* FNV-1a. */
static size_t slot_of(const struct ratelimit *rl, const char *name)
{
	unsigned long long h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h & (rl->nslots - 1));
}

static void lru_unlink(struct ratelimit *rl, struct bucket *b)
{
	if (b->newer)
		b->newer->older = b->older;
	else
		rl->newest = b->older;
	if (b->older)
		b->older->newer = b->newer;
	else
		rl->oldest = b->newer;
	b->newer = b->older = NULL;
}

static void lru_push(struct ratelimit *rl, struct bucket *b)
{
	b->older = rl->newest;
	b->newer = NULL;
	if (rl->newest)
		rl->newest->newer = b;
	rl->newest = b;
	if (!rl->oldest)
		rl->oldest = b;
}

static void drop_oldest(struct ratelimit *rl)
{
	struct bucket *b = rl->oldest;
	struct bucket **pp = &rl->slots[slot_of(rl, b->name)];

	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
	lru_unlink(rl, b);
	free(b);
	rl->n--;
}

static struct bucket *find_or_add(struct ratelimit *rl, const char *name, double now)
{
	char key[NAME_MAX_LEN];
	struct bucket *b;
	size_t s;

	snprintf(key, sizeof(key), "%s", name);
	s = slot_of(rl, key);
	for (b = rl->slots[s]; b; b = b->next)
		if (!strcmp(b->name, key)) {
			lru_unlink(rl, b);
			lru_push(rl, b);
			return b;
		}
	if (rl->n >= rl->max) {
		drop_oldest(rl);
		s = slot_of(rl, key);
	}
	b = xcalloc(1, sizeof(*b));
	memcpy(b->name, key, sizeof(key));
	b->tokens = rl->burst;
	b->at = now;
	b->next = rl->slots[s];
	rl->slots[s] = b;
	lru_push(rl, b);
	rl->n++;
	return b;
}

bool ratelimit_take(struct ratelimit *rl, const char *name, double now, int *ret_retry_after)
{
	bool ok;
	double wait = 0;

	pthread_mutex_lock(&rl->lock);
	struct bucket *b = find_or_add(rl, name, now);
	if (now > b->at) {
		b->tokens = fmin(rl->burst, b->tokens + (now - b->at) * rl->rate);
		b->at = now;
	}
	ok = b->tokens >= 1;
	if (ok)
		b->tokens -= 1;
	else
		wait = (1 - b->tokens) / rl->rate;
	pthread_mutex_unlock(&rl->lock);
	if (!ok && ret_retry_after) {
		double w = ceil(wait);
		*ret_retry_after = w < 1 ? 1 : w > 86400 ? 86400 : (int)w;
	}
	return ok;
}

size_t ratelimit_size(struct ratelimit *rl)
{
	size_t n;

	pthread_mutex_lock(&rl->lock);
	n = rl->n;
	pthread_mutex_unlock(&rl->lock);
	return n;
}
