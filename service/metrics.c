/*
 * metrics.c - the Prometheus registry.
 *
 * Each family keeps its series in an open-addressing hash table of atomic
 * pointers (twice METRICS_MAX_SERIES slots, so probes stay short) and in
 * an array in creation order for rendering.  Readers probe without a
 * lock: a slot, once published with release semantics, never changes.
 * Writers insert under the family's mutex after probing again.  Values
 * are doubles stored as bits in 64-bit atomics (compare-and-swap to add);
 * histogram buckets are plain atomic counts, made cumulative when
 * rendered.  A scrape may see a histogram's count, sum and buckets a few
 * observations apart - as with every Prometheus client that does not
 * lock, and harmless for rates.
 */
#include "service/metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define SLOTS (2 * METRICS_MAX_SERIES)

struct metric {
	struct metric_family *fam;
	uint64_t hash;
	char **values;
	_Atomic uint64_t bits;	   /* value, or a histogram's sum (a double's bits) */
	_Atomic uint64_t count;	   /* histogram observations */
	_Atomic uint64_t *buckets; /* histogram: per bucket, not cumulative; [nbuckets] is +Inf */
	atomic_bool present;	   /* rendered; cleared by metrics_family_clear */
};

struct metric_family {
	struct metrics *reg;
	enum metric_type type;
	char *name, *help;
	char *labels[METRICS_MAX_LABELS];
	int nlabels;
	double buckets[METRICS_MAX_BUCKETS];
	size_t nbuckets;
	_Atomic(struct metric *) slots[SLOTS];
	struct metric *order[METRICS_MAX_SERIES];
	atomic_size_t n;
	struct metric sink; /* where updates go when the family is full */
	pthread_mutex_t lock;
	struct metric_family *next;
};

struct metrics {
	pthread_mutex_t lock; /* registration and rendering */
	struct metric_family *first, *last;
	struct metric *dropped;
};

static double load_double(const _Atomic uint64_t *a)
{
	uint64_t u = atomic_load_explicit(a, memory_order_relaxed);
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void store_double(_Atomic uint64_t *a, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	atomic_store_explicit(a, u, memory_order_relaxed);
}

static void add_double(_Atomic uint64_t *a, double v)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed), next;

	do {
		double d;

		memcpy(&d, &old, sizeof(d));
		d += v;
		memcpy(&next, &d, sizeof(next));
	} while (!atomic_compare_exchange_weak_explicit(a, &old, next, memory_order_relaxed,
							memory_order_relaxed));
}

static void series_init(struct metric *s, struct metric_family *f)
{
	s->fam = f;
	if (f->type == METRIC_HISTOGRAM) {
		s->buckets = xcalloc(f->nbuckets + 1, sizeof(*s->buckets));
		for (size_t i = 0; i <= f->nbuckets; i++)
			atomic_init(&s->buckets[i], 0);
	}
	atomic_init(&s->bits, 0); /* 0.0 */
	atomic_init(&s->count, 0);
	atomic_init(&s->present, true);
}

static void series_release(struct metric *s)
{
	if (s->values)
		for (int i = 0; i < s->fam->nlabels; i++)
			free(s->values[i]);
	free(s->values);
	free(s->buckets);
}

struct metrics *metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	m->dropped = metric_get(
	    metrics_family(
		m, METRIC_COUNTER, "carbonsched_metrics_dropped_series_total",
		"Updates to label sets that did not fit in their family (a label with too many values)", NULL,
		NULL, 0),
	    NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	struct metric_family *f, *next;

	if (!m)
		return;
	for (f = m->first; f; f = next) {
		next = f->next;
		for (size_t i = 0; i < atomic_load(&f->n); i++) {
			series_release(f->order[i]);
			free(f->order[i]);
		}
		series_release(&f->sink);
		for (int i = 0; i < f->nlabels; i++)
			free(f->labels[i]);
		free(f->name);
		free(f->help);
		pthread_mutex_destroy(&f->lock);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static bool same_labels(const struct metric_family *f, const char *const *labels)
{
	int n = 0;

	for (; labels && labels[n]; n++)
		if (n >= f->nlabels || strcmp(labels[n], f->labels[n]))
			return false;
	return n == f->nlabels;
}

struct metric_family *metrics_family(struct metrics *m, enum metric_type type, const char *name,
				     const char *help, const char *const *labels, const double *buckets,
				     size_t nbuckets)
{
	struct metric_family *f;

	pthread_mutex_lock(&m->lock);
	for (f = m->first; f; f = f->next) {
		if (!strcmp(f->name, name)) {
			assert(f->type == type && same_labels(f, labels));
			pthread_mutex_unlock(&m->lock);
			return f;
		}
	}
	f = xcalloc(1, sizeof(*f));
	f->reg = m;
	f->type = type;
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	for (; labels && labels[f->nlabels]; f->nlabels++) {
		assert(f->nlabels < METRICS_MAX_LABELS);
		f->labels[f->nlabels] = xstrdup(labels[f->nlabels]);
	}
	assert(type == METRIC_HISTOGRAM ? nbuckets > 0 && nbuckets <= METRICS_MAX_BUCKETS : nbuckets == 0);
	for (size_t i = 0; i < nbuckets; i++) {
		assert(i == 0 || buckets[i] > buckets[i - 1]);
		f->buckets[i] = buckets[i];
	}
	f->nbuckets = nbuckets;
	for (size_t i = 0; i < SLOTS; i++)
		atomic_init(&f->slots[i], NULL);
	atomic_init(&f->n, 0);
	series_init(&f->sink, f);
	pthread_mutex_init(&f->lock, NULL);
	if (m->last)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	pthread_mutex_unlock(&m->lock);
	return f;
}

static uint64_t hash_values(const char *const *values, int n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (int i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static bool same_values(const struct metric *s, const char *const *values, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s->values[i], values[i]))
			return false;
	return true;
}

/* The series for values, or NULL; *ret_slot gets the empty slot where it
 * would go. */
static struct metric *probe(struct metric_family *f, uint64_t h, const char *const *values, size_t *ret_slot)
{
	size_t i = h & (SLOTS - 1);

	for (;;) {
		struct metric *s = atomic_load_explicit(&f->slots[i], memory_order_acquire);

		if (!s) {
			*ret_slot = i;
			return NULL;
		}
		if (s->hash == h && same_values(s, values, f->nlabels))
			return s;
		i = (i + 1) & (SLOTS - 1);
	}
}

struct metric *metric_get(struct metric_family *f, const char *const *values)
{
	int n = 0;
	uint64_t h;
	size_t slot;
	struct metric *s;

	while (values && values[n])
		n++;
	assert(n == f->nlabels);
	h = hash_values(values, n);
	if ((s = probe(f, h, values, &slot)))
		return s;

	pthread_mutex_lock(&f->lock);
	if ((s = probe(f, h, values, &slot))) {
		pthread_mutex_unlock(&f->lock);
		return s;
	}
	size_t count = atomic_load_explicit(&f->n, memory_order_relaxed);
	if (count >= METRICS_MAX_SERIES) {
		pthread_mutex_unlock(&f->lock);
		if (f->reg->dropped)
			metric_inc(f->reg->dropped);
		return &f->sink;
	}
	s = xcalloc(1, sizeof(*s));
	series_init(s, f);
	s->hash = h;
	if (n) {
		s->values = xcalloc((size_t)n, sizeof(*s->values));
		for (int i = 0; i < n; i++)
			s->values[i] = xstrdup(values[i]);
	}
	f->order[count] = s;
	atomic_store_explicit(&f->n, count + 1, memory_order_release);
	atomic_store_explicit(&f->slots[slot], s, memory_order_release);
	pthread_mutex_unlock(&f->lock);
	return s;
}

static void mark_present(struct metric *s)
{
	if (!atomic_load_explicit(&s->present, memory_order_relaxed))
		atomic_store_explicit(&s->present, true, memory_order_relaxed);
}

void metric_inc(struct metric *s)
{
	metric_add(s, 1);
}

void metric_add(struct metric *s, double v)
{
	assert(s->fam->type != METRIC_HISTOGRAM);
	if (!(v >= 0) && s->fam->type == METRIC_COUNTER)
		return;
	add_double(&s->bits, v);
	mark_present(s);
}

void metric_set(struct metric *s, double v)
{
	assert(s->fam->type != METRIC_HISTOGRAM);
	store_double(&s->bits, v);
	mark_present(s);
}

void metric_observe(struct metric *s, double v)
{
	const struct metric_family *f = s->fam;
	size_t i = 0;

	assert(f->type == METRIC_HISTOGRAM);
	if (isnan(v))
		return;
	while (i < f->nbuckets && v > f->buckets[i])
		i++;
	atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
	add_double(&s->bits, v);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

double metric_value(const struct metric *s)
{
	if (s->fam->type == METRIC_HISTOGRAM)
		return (double)atomic_load_explicit(&s->count, memory_order_relaxed);
	return load_double(&s->bits);
}

void metrics_family_clear(struct metric_family *f)
{
	size_t n = atomic_load_explicit(&f->n, memory_order_acquire);

	for (size_t i = 0; i < n; i++)
		atomic_store_explicit(&f->order[i]->present, false, memory_order_relaxed);
}

/* --- rendering ------------------------------------------------------------ */

/* Prometheus float syntax: NaN, +Inf, -Inf, else the shortest decimal
 * that reads back to the same double. */
static const char *fmt_value(double v, char out[40])
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, 40, "%.0f", v);
		return out;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, 40, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	return out;
}

static void add_value(struct buf *b, double v)
{
	char tmp[40];

	buf_adds(b, fmt_value(v, tmp));
}

/* Escape for a label value (backslash, quote, newline) or, with
 * help = true, for a HELP line (backslash, newline). */
static void add_escaped(struct buf *b, const char *s, bool help)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(b, "\\\\");
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else if (*s == '"' && !help)
			buf_adds(b, "\\\"");
		else
			buf_addc(b, *s);
	}
}

/* name{l1="v1",...,extra_name="extra_value"} */
static void add_series_name(struct buf *b, const struct metric_family *f, const char *suffix,
			    const struct metric *s, const char *extra_name, const char *extra_value)
{
	bool any = f->nlabels > 0 || extra_name;

	buf_adds(b, f->name);
	buf_adds(b, suffix);
	if (!any)
		return;
	buf_addc(b, '{');
	for (int i = 0; i < f->nlabels; i++) {
		buf_addf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
		add_escaped(b, s->values[i], false);
		buf_addc(b, '"');
	}
	if (extra_name)
		buf_addf(b, "%s%s=\"%s\"", f->nlabels ? "," : "", extra_name, extra_value);
	buf_addc(b, '}');
}

static void render_histogram(struct buf *b, const struct metric_family *f, const struct metric *s)
{
	uint64_t cum = 0;
	char tmp[40];

	for (size_t i = 0; i <= f->nbuckets; i++) {
		cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
		add_series_name(b, f, "_bucket", s, "le",
				i < f->nbuckets ? fmt_value(f->buckets[i], tmp) : "+Inf");
		buf_addf(b, " %llu\n", (unsigned long long)cum);
	}
	add_series_name(b, f, "_sum", s, NULL, NULL);
	buf_addc(b, ' ');
	add_value(b, load_double(&s->bits));
	buf_addc(b, '\n');
	/* The count is the +Inf bucket, so that the two always agree. */
	add_series_name(b, f, "_count", s, NULL, NULL);
	buf_addf(b, " %llu\n", (unsigned long long)cum);
}

void metrics_render(struct metrics *m, struct buf *out)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};

	pthread_mutex_lock(&m->lock);
	for (const struct metric_family *f = m->first; f; f = f->next) {
		size_t n = atomic_load_explicit(&f->n, memory_order_acquire);

		buf_addf(out, "# HELP %s ", f->name);
		add_escaped(out, f->help, true);
		buf_addf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
		for (size_t i = 0; i < n; i++) {
			const struct metric *s = f->order[i];

			if (!atomic_load_explicit(&s->present, memory_order_relaxed))
				continue;
			if (f->type == METRIC_HISTOGRAM) {
				render_histogram(out, f, s);
				continue;
			}
			add_series_name(out, f, "", s, NULL, NULL);
			buf_addc(out, ' ');
			add_value(out, load_double(&s->bits));
			buf_addc(out, '\n');
		}
	}
	pthread_mutex_unlock(&m->lock);
}
