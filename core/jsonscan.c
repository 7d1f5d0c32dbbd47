/*
 * jsonscan.c - see jsonscan.h.
 *
 * A frame per open container: whether it is an array, its item count, and
 * for objects the key being read (kept up to 47 bytes, as written - escapes
 * are not decoded: it is only used to name the place in messages).  Paths
 * are built only when a cap callback asks or a limit is hit.
 */
#include "core/jsonscan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define KEY_MAX 48

struct frame {
	bool array;
	bool expect_key; /* objects: the next string is a key */
	size_t items;
	size_t cap;	     /* arrays: the tighter cap, 0 = none */
	const char *cap_key; /* its name */
	char key[KEY_MAX];   /* objects: the current member's key */
};

/* "a.b[2].c" for frames [0, n) (the index of an array is its item count - 1). */
static void path_of(const struct frame *st, int n, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n && len < size; i++) {
		int w;

		if (st[i].array)
			w = snprintf(out + len, size - len, "[%zu]", st[i].items ? st[i].items - 1 : 0);
		else
			w = snprintf(out + len, size - len, "%s%s", len ? "." : "", st[i].key);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

int jscan_check(const char *text, size_t len, const struct jscan_limits *lim, struct err_detail *err)
{
	struct frame st[JSCAN_MAX_DEPTH];
	int depth = 0, max_depth = lim->max_depth < JSCAN_MAX_DEPTH ? lim->max_depth : JSCAN_MAX_DEPTH;
	char path[256];

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		struct frame *top = depth ? &st[depth - 1] : NULL;

		switch (c) {
		case ' ':
		case '\t':
		case '\r':
		case '\n':
		case ':': continue;
		case ',':
			if (top && !top->array)
				top->expect_key = true;
			continue;
		case ']':
		case '}':
			if (depth)
				depth--;
			continue;
		default: break;
		}
		/* A value or a key starts here. */
		bool is_key = top && !top->array && top->expect_key;

		if (top && !is_key) {
			top->items++;
			size_t cap = top->cap && top->cap < lim->max_items ? top->cap : lim->max_items;
			if (top->items > cap) {
				path_of(st, depth - 1, path, sizeof(path));
				return err_set(
				    err, ERR_LIMIT, *path ? path : "body", "'%s' has more than %zu %s (%s)",
				    *path ? path : "the body", cap, top->array ? "items" : "members",
				    top->cap && top->cap < lim->max_items ? top->cap_key : lim->items_key);
			}
		}
		if (c == '"') {
			size_t start = ++i;

			while (i < len && text[i] != '"')
				i += text[i] == '\\' ? 2 : 1;
			if (is_key) {
				size_t n = (i < len ? i : len) - start;
				if (n >= KEY_MAX)
					n = KEY_MAX - 1;
				memcpy(top->key, text + start, n);
				top->key[n] = '\0';
				top->expect_key = false;
			}
			continue;
		}
		if (c == '[' || c == '{') {
			if (depth == max_depth) {
				path_of(st, depth, path, sizeof(path));
				return err_set(
				    err, ERR_LIMIT, *path ? path : "body",
				    "the body nests arrays and objects deeper than %d levels%s%s (%s)",
				    lim->max_depth, *path ? " at " : "", path, lim->depth_key);
			}
			struct frame *f = &st[depth++];
			f->array = c == '[';
			f->expect_key = c == '{';
			f->items = 0;
			f->cap = 0;
			f->cap_key = NULL;
			f->key[0] = '\0';
			if (f->array && lim->array_cap) {
				path_of(st, depth - 1, path, sizeof(path));
				f->cap = lim->array_cap(lim->ctx, path, &f->cap_key);
			}
			continue;
		}
		/* A scalar: skip to its end. */
		while (i + 1 < len && !strchr(" \t\r\n,]}:", text[i + 1]))
			i++;
	}
	return ERR_OK;
}
