/*
 * migrate.h - applying the numbered migrations of sql/.
 *
 * The files of sql/ are compiled into the binary (build/gen/migrations.c),
 * so a deployed binary migrates its database without the source tree.
 */
#ifndef CARBONSCHED_SERVICE_MIGRATE_H
#define CARBONSCHED_SERVICE_MIGRATE_H

#include <stddef.h>

#include "core/error.h"
#include "service/db.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* Generated from sql/NNN_*.sql, in version order. */
extern const struct migration migrations[];
extern const size_t migrations_count;

/* The newest version compiled in. */
int migrate_latest(void);

/* Apply every migration the database has not recorded (newer ones, and
 * older-numbered ones merged later), in version order, each in its own
 * transaction, under an advisory lock so that replicas starting together
 * migrate once.  'db' is a raw connection (db_connect_raw).  Sets
 * *ret_applied (may be NULL) to the number applied.  ERR_DB on failure,
 * with the migration's name in the message; nothing of a failed migration
 * stays. */
int migrate_apply(struct db *db, int *ret_applied, struct err_detail *err);

/* The database's version (0 when never migrated). */
int migrate_current(struct db *db, int *ret_version, struct err_detail *err);

#endif
