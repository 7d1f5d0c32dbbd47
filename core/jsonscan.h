/*
 * jsonscan.h - bounds of a JSON text, checked before it is parsed.
 *
 * jansson nests up to 2048 levels and builds arrays of any length; a
 * request body of a megabyte of '[' or of a million small items costs far
 * more to parse and free than to scan.  jscan_check walks the raw text once,
 * keeping only a stack of the open arrays and objects, and stops at the
 * first array or object nested too deep or holding too many items.  It does
 * not validate: text that is not JSON passes (or stops early) and is left to
 * the parser to refuse.  Pure: no allocation, no I/O (fuzzed by
 * tests/fuzz/fuzz_jsonscan.c).
 */
#ifndef CARBONSCHED_CORE_JSONSCAN_H
#define CARBONSCHED_CORE_JSONSCAN_H

#include <stddef.h>

#include "core/error.h"

#define JSCAN_MAX_DEPTH 256 /* the largest max_depth accepted */

struct jscan_limits {
	int max_depth;	  /* deepest nesting; 1 = a flat array or object (<= JSCAN_MAX_DEPTH) */
	size_t max_items; /* items of any array or members of any object */
	const char *depth_key, *items_key; /* names of the limits for messages ("limits.max_json_depth") */
	/* Optional: a tighter cap for the array at 'path' ("" = the top level,
	 * "regions", "jobs[2].tags"); returns 0 for none, else the cap, with the
	 * limit's name in *ret_key. */
	size_t (*array_cap)(void *ctx, const char *path, const char **ret_key);
	void *ctx;
};

/* ERR_OK, or ERR_LIMIT with err->field the path of the offending array or
 * object ("body" for the top level) and a message naming the limit. */
int jscan_check(const char *text, size_t len, const struct jscan_limits *lim, struct err_detail *err);

#endif
