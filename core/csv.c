/*
 * csv.c - the CSV tokenizer shared by every file reader.
 */
#include "core/csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t csv_chomp(char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	return len;
}

int csv_split(char *line, char **fields, int max)
{
	char *p = line;
	int n = 0;

	for (;;) {
		if (n == max)
			return max + 1;
		if (*p == '"') {
			char *w = ++p;
			fields[n++] = w;
			for (;;) {
				if (!*p)
					return -1;
				if (*p == '"') {
					if (p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*w++ = *p++;
			}
			*w = '\0';
			/* Anything up to the separator after a closing quote is dropped. */
			while (*p && *p != ',')
				p++;
		} else {
			fields[n++] = p;
			while (*p && *p != ',')
				p++;
		}
		if (!*p)
			return n;
		*p++ = '\0';
	}
}

bool csv_double(const char *s, double *ret)
{
	char *end;
	double v;

	while (*s == ' ')
		s++;
	if (!*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return false;
	while (*end == ' ')
		end++;
	if (*end)
		return false;
	*ret = v;
	return true;
}

const char *csv_skip_bom(const char *s)
{
	return strncmp(s, "\xEF\xBB\xBF", 3) ? s : s + 3;
}
