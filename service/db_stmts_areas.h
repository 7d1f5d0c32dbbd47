/*
 * db_stmts_areas.h - the statement lists of the other areas, appended to
 * the table in db_stmts.h.  An area adds its list here as one line:
 *     #include "service/db_stmts_jobs.h"   (defining DB_STMTS_JOBS(X))
 * and names it in DB_STMTS_AREAS.
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_AREAS_H
#define CARBONSCHED_SERVICE_DB_STMTS_AREAS_H

#include "service/db_stmts_auth.h"
#include "service/db_stmts_forecasts.h"
#include "service/db_stmts_interfaces.h"
#include "service/db_stmts_jobs.h"
#include "service/db_stmts_sources.h"

#define DB_STMTS_AREAS(X) \
	DB_STMTS_FORECASTS(X) DB_STMTS_INTERFACES(X) DB_STMTS_SOURCES(X) DB_STMTS_JOBS(X) DB_STMTS_AUTH(X)

#endif
