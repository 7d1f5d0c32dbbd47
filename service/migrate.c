/*
 * migrate.c - the migration runner.
 *
 * Migrations run with literal SQL (db_exec_sql) because they create the
 * tables that the prepared statements name.  An advisory lock serialises
 * concurrent runners; each migration and its schema_migrations row commit
 * together, so a failure leaves the database at the previous version.
 */
#include "service/migrate.h"

#include <stdio.h>
#include <stdlib.h>

/* Arbitrary, fixed: "carbonsched migrate" as an advisory lock key. */
#define MIGRATE_LOCK_KEY "7248115001"

int migrate_latest(void)
{
	return migrations_count ? migrations[migrations_count - 1].version : 0;
}

int migrate_current(struct db *db, int *ret_version, struct err_detail *err)
{
	int exists, rc;

	rc = db_query_int(db, "SELECT (to_regclass('schema_migrations') IS NOT NULL)::int", &exists, err);
	if (rc)
		return rc;
	if (!exists) {
		*ret_version = 0;
		return ERR_OK;
	}
	return db_query_int(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", ret_version, err);
}

int migrate_apply(struct db *db, int *ret_applied, struct err_detail *err)
{
	int current, applied = 0, rc;
	char sql[256];

	rc = db_exec_sql(db,
			 "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
			 " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
			 err);
	if (rc)
		return rc;
	if ((rc = db_exec_sql(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err)))
		return rc;
	if ((rc = migrate_current(db, &current, err)))
		goto unlock;
	for (size_t i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		int done = 1;

		/* Each area numbers its migrations in its own range (010 jobs, 020
		 * forecasts, ...), so a database may already hold a higher number
		 * than one merged later: apply every version not recorded, in order. */
		if (m->version <= current) {
			snprintf(sql, sizeof(sql),
				 "SELECT count(*)::int FROM schema_migrations WHERE version = %d",
				 m->version);
			if ((rc = db_query_int(db, sql, &done, err)))
				goto unlock;
		}
		if (m->version <= current && done)
			continue;
		if ((rc = db_begin(db, err)))
			goto unlock;
		rc = db_exec_sql(db, m->sql, err);
		if (!rc) {
			/* The name comes from our own file names: digits, letters, '_' and '.'. */
			snprintf(sql, sizeof(sql),
				 "INSERT INTO schema_migrations (version, name) VALUES (%d, '%s')",
				 m->version, m->name);
			rc = db_exec_sql(db, sql, err);
		}
		if (!rc)
			rc = db_commit(db, err);
		if (rc) {
			db_rollback(db);
			err_prefix(err, "migration %s: ", m->name);
			goto unlock;
		}
		applied++;
	}
unlock:
	db_exec_sql(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL);
	if (!rc && ret_applied)
		*ret_applied = applied;
	return rc;
}
