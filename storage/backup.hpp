// storage/backup: a consistent copy of the telemetry file while the daemon runs.
//
// `cp` of a live WAL database is not a backup: committed pages may still live
// only in the -wal file. backup() copies through SQLite instead: it opens the
// source SQLITE_OPEN_READONLY (+ PRAGMA query_only=1), so it can neither
// write nor checkpoint the live file (see database.hpp on the WAL-reset race),
// and copies every page with one sqlite3_backup_step(-1) under a single read
// snapshot: the copy holds exactly the transactions committed when the step
// began, whatever the writer commits meanwhile (WAL readers never block it).
//
// The copy is written to `<out>.part`, fsync'ed, then renamed to `out` and
// the directory fsync'ed: `out` either does not exist or is a complete copy.
// An existing `out` is never overwritten.
#pragma once

#include "storage/database.hpp"

#include <cstdint>
#include <string>

namespace edgemes::storage {

struct backup_result {
  int64_t bytes = 0;   // size of the copy
  int64_t pages = 0;   // pages copied
  int64_t ms = 0;      // wall time of the whole backup
};

// Copies the database at `db_path` to `out_path`. Throws db_error with a
// message naming the file and the step that failed (e.g. "backup target
// /x/y.db already exists").
backup_result backup(const std::string& db_path, const std::string& out_path,
                     const options& opts);

} // namespace edgemes::storage
