/*
 * csv.h - splitting one CSV record in place (RFC 4180 quoting).
 *
 * Readers own the line buffer; csv_split writes NUL terminators into it and
 * returns pointers to the fields, unquoted.  Records spanning several lines
 * (quoted newlines) are not supported: none of the data sets has them.
 */
#ifndef CARBONSCHED_CORE_CSV_H
#define CARBONSCHED_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* Split 'line' (NUL-terminated, trailing CR/LF removed first) into at most
 * 'max' fields.  Returns the number of fields found; when the record has
 * more than 'max' the count returned is max + 1 and the rest is left
 * unsplit.  Returns -1 on an unterminated quote. */
int csv_split(char *line, char **fields, int max);

/* Remove a trailing "\n" or "\r\n"; returns the new length. */
size_t csv_chomp(char *line, size_t len);

/* Parse a whole field as a finite double (surrounding blanks allowed);
 * false when empty or malformed. */
bool csv_double(const char *s, double *ret);

/* Skip a UTF-8 byte-order mark at the start of s. */
const char *csv_skip_bom(const char *s);

#endif
