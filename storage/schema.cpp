// storage/schema: the layout of the telemetry file, version 2.
//
//   lines(id, ident UNIQUE, name)
//   machines(id, line_id -> lines, ident UNIQUE, name, type, adapter,
//            configured, status, last_poll_ms, last_ok_ms, last_error,
//            polls_ok, polls_failed, poll_problems, polls_missed)
//   metrics(machine_id -> machines, slot, name)      PK (machine_id, slot)
//   telemetry(machine_id -> machines, ts, v)         PK (machine_id, ts)
//   telemetry_10s(machine_id -> machines, ts, v)     PK (machine_id, ts)
//   state_changes(machine_id -> machines, ts, state) PK (machine_id, ts)
//   VIEW samples(machine, metric, ts, value)
//   VIEW samples_10s(machine, metric, ts, count, sum, min, max, last)
//
// Why it is keyed so:
// - telemetry holds ONE ROW PER POLL, not one per sample: v is a JSON array of
//   the poll's values indexed by metric slot (storage/codec.hpp). A row per
//   sample keyed (machine, metric, ts) scatters each poll over 20 B-tree
//   positions and ingest falls from 300 k to 35 k samples/s as the file grows
//   to 10 M rows; a row per poll appends at the end of one key range per
//   machine and stays flat (measured, /work/shared/SQLITE-3.40.md).
// - telemetry, telemetry_10s, metrics and state_changes are WITHOUT ROWID,
//   clustered on (machine_id, ts|slot): every query is "one machine, a time
//   range", which is then one contiguous range scan, and the key costs no
//   second index.
// - metrics.slot is append-only per machine (storage::writer::sync_catalog):
//   a metric keeps its slot forever, so old rows decode correctly after the
//   config adds or drops metrics. UNIQUE(machine_id, name) finds a slot by name.
// - state_changes stores changes only (the writer skips repeats), so the state
//   at time t is the last row with ts <= t.
// - Machines are identified by ident (the config's name for them) and keep
//   their id forever; a machine dropped from the config stays, configured=0,
//   with its history. Deleting a line cascades to everything below it
//   (foreign_keys is ON on every connection); machines_by_line serves that
//   cascade and the per-line listing.
// - The samples view exists for people with the stock sqlite3 shell:
//     SELECT ts, value FROM samples
//      WHERE machine='smt1-placer1' AND metric='cycle_time_s' ORDER BY ts;
//   It unpacks v with json_extract; the daemon itself decodes in C++.
//
// Rollups (version 2): telemetry_10s holds one row per machine and 10-second
// bucket that has raw rows, ts = the bucket start (a multiple of 10 000 ms
// since the epoch), v = per slot [count,sum,min,max,last] or null, or one
// of the short forms of version 3 (storage/codec.hpp, arithmetic in
// storage/rollup.hpp). They exist so a
// /series read of an hour at 1 s polls reads ~360 rows instead of 3 600
// (docs/BENCHMARKS.md, "Rollups (schema v2)"), and they are a CACHE: raw
// telemetry is the truth, and the invariants that make the cache exact are
//   (1) a rollup row equals the aggregate of its bucket's raw rows, in every
//       committed state (the writer writes a closed bucket's row in the same
//       transaction as the poll that closes it, and rebuilds a bucket from raw
//       rows when a poll arrives out of order);
//   (2) every bucket of a machine at or before its newest rollup row that has
//       raw rows has its rollup row ("coverage"): so the reader takes rollups
//       up to the newest one and raw rows after it (the writer's open bucket
//       has no row until it closes, and is always after it; a poll into a
//       bucket that has a row rebuilds the row in the poll's transaction);
//   (3) retention deletes raw and rollup rows by whole buckets.
// samples_10s unpacks them for the shell:
//     SELECT ts, count, sum / count AS avg, min, max FROM samples_10s
//      WHERE machine='smt1-placer1' AND metric='cycle_time_s' ORDER BY ts;
// A 20-metric row is ~600 bytes; beyond ~1 000 bytes (about 30 metrics with
// fractional values) SQLite moves the rest of a row to an overflow page at the
// default 4 KiB page size, which costs space and a page read per row.
//
// Versioning: PRAGMA user_version is the schema version; 0 means a new file.
// A migration from version n to n+1 is appended to `migrations` and runs in
// the same transaction as the version bump, so a file is always at a version.
// Version 3 only replaces the samples_10s view (rollup short forms).
// Version 2's migration backfills the rollups of existing telemetry (all but
// each machine's newest bucket, which the writer rebuilds on its next poll):
// 0.35-0.6 s for the 5 M-sample benchmark file (docs/BENCHMARKS.md).
#include "storage/schema.hpp"

#include "storage/connection.hpp"
#include "storage/database.hpp"
#include "storage/rollup_store.hpp"

#include <string>

namespace edgemes::storage::detail {

namespace {

const char* const schema_v1 = R"sql(
CREATE TABLE lines(
  id    INTEGER PRIMARY KEY,
  ident TEXT NOT NULL UNIQUE,
  name  TEXT NOT NULL
);
CREATE TABLE machines(
  id            INTEGER PRIMARY KEY,
  line_id       INTEGER NOT NULL REFERENCES lines(id) ON DELETE CASCADE,
  ident         TEXT NOT NULL UNIQUE,
  name          TEXT NOT NULL DEFAULT '',
  type          TEXT NOT NULL DEFAULT '',
  adapter       TEXT NOT NULL DEFAULT '',
  configured    INTEGER NOT NULL DEFAULT 1,   -- 0: no longer in the config
  status        TEXT NOT NULL DEFAULT 'unknown', -- online | offline | unknown
  last_poll_ms  INTEGER NOT NULL DEFAULT 0,   -- unix ms, 0 = never
  last_ok_ms    INTEGER NOT NULL DEFAULT 0,   -- unix ms, 0 = never
  last_error    TEXT NOT NULL DEFAULT '',
  polls_ok      INTEGER NOT NULL DEFAULT 0,
  polls_failed  INTEGER NOT NULL DEFAULT 0,
  poll_problems INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX machines_by_line ON machines(line_id);
CREATE TABLE metrics(
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  slot       INTEGER NOT NULL,                -- index into telemetry.v
  name       TEXT NOT NULL,
  PRIMARY KEY(machine_id, slot),
  UNIQUE(machine_id, name)
) WITHOUT ROWID;
CREATE TABLE telemetry(
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  ts         INTEGER NOT NULL,                -- poll time, unix ms
  v          TEXT NOT NULL,                   -- JSON array by slot, see codec.hpp
  PRIMARY KEY(machine_id, ts)
) WITHOUT ROWID;
CREATE TABLE state_changes(
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  ts         INTEGER NOT NULL,                -- unix ms the state began
  state      TEXT NOT NULL,
  PRIMARY KEY(machine_id, ts)
) WITHOUT ROWID;
CREATE VIEW samples(machine, metric, ts, value) AS
  SELECT mc.ident, m.name, t.ts, json_extract(t.v, '$[' || m.slot || ']') AS value
    FROM telemetry t
    JOIN machines mc ON mc.id = t.machine_id
    JOIN metrics m ON m.machine_id = t.machine_id
   WHERE value IS NOT NULL;
)sql";

const char* const schema_v2 = R"sql(
CREATE TABLE telemetry_10s(
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  ts         INTEGER NOT NULL,                -- bucket start, unix ms, a multiple of 10000
  v          TEXT NOT NULL,                   -- per slot [count,sum,min,max,last] or null
  PRIMARY KEY(machine_id, ts)
) WITHOUT ROWID;
ALTER TABLE machines ADD COLUMN polls_missed INTEGER NOT NULL DEFAULT 0;
CREATE VIEW samples_10s(machine, metric, ts, count, sum, min, max, last) AS
  SELECT mc.ident, m.name, r.ts,
         json_extract(r.v, '$[' || m.slot || '][0]') AS n,
         json_extract(r.v, '$[' || m.slot || '][1]'),
         json_extract(r.v, '$[' || m.slot || '][2]'),
         json_extract(r.v, '$[' || m.slot || '][3]'),
         json_extract(r.v, '$[' || m.slot || '][4]')
    FROM telemetry_10s r
    JOIN machines mc ON mc.id = r.machine_id
    JOIN metrics m ON m.machine_id = r.machine_id
   WHERE n IS NOT NULL;
)sql";

// Version 3: rollup elements may be written in short forms (codec.hpp); the
// view reads every form, rows of either era alike (no data is rewritten).
// An element of k numbers: count [0], sum [1], min [min(k-1,2)],
// max [min(k-1,3)], last [k-1].
const char* const schema_v3 = R"sql(
DROP VIEW samples_10s;
CREATE VIEW samples_10s(machine, metric, ts, count, sum, min, max, last) AS
  SELECT ident, name, ts,
         json_extract(e, '$[0]'),
         json_extract(e, '$[1]'),
         json_extract(e, '$[' || min(k - 1, 2) || ']'),
         json_extract(e, '$[' || min(k - 1, 3) || ']'),
         json_extract(e, '$[' || (k - 1) || ']')
    FROM (SELECT mc.ident AS ident, m.name AS name, r.ts AS ts,
                 json_extract(r.v, '$[' || m.slot || ']') AS e,
                 json_array_length(r.v, '$[' || m.slot || ']') AS k
            FROM telemetry_10s r
            JOIN machines mc ON mc.id = r.machine_id
            JOIN metrics m ON m.machine_id = r.machine_id)
   WHERE e IS NOT NULL;
)sql";

// migrations[n] takes a file from version n to n + 1: its SQL, then its C++
// step (if any), in the one transaction of create_or_migrate.
struct migration {
  const char* sql;
  void (*then)(sqlite3* db);
};
const migration migrations[] = {
    {schema_v1, nullptr},
    {schema_v2, backfill_rollups},
    {schema_v3, nullptr},
};
static_assert(sizeof migrations / sizeof migrations[0] == schema_version,
              "one migration per schema version");

int user_version(sqlite3* db) { return static_cast<int>(pragma_int(db, "user_version")); }

std::string too_new(int version) {
  return "database schema version " + std::to_string(version) +
         " is newer than this build (" + std::to_string(schema_version) + ")";
}

} // namespace

void create_or_migrate(sqlite3* db) {
  if (user_version(db) == schema_version)
    return;  // the common case: no write transaction at all
  exec(db, "BEGIN IMMEDIATE", "schema: begin");
  try {
    int version = user_version(db);  // re-read under the write lock
    if (version > schema_version)
      throw db_error(SQLITE_ERROR, too_new(version));
    if (version < 0)
      throw db_error(SQLITE_CORRUPT, "database schema version " + std::to_string(version) +
                                         " is not valid");
    for (int v = version; v < schema_version; ++v) {
      exec(db, migrations[v].sql, "schema: migrate to version " + std::to_string(v + 1));
      if (migrations[v].then)
        migrations[v].then(db);
    }
    std::string bump = "PRAGMA user_version=" + std::to_string(schema_version);
    exec(db, bump.c_str(), "schema: set user_version");
    exec(db, "COMMIT", "schema: commit");
  } catch (...) {
    if (!sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void check_schema(sqlite3* db, const std::string& path) {
  int version = user_version(db);
  if (version == schema_version)
    return;
  if (version > schema_version)
    throw db_error(SQLITE_ERROR, path + ": " + too_new(version));
  throw db_error(SQLITE_ERROR, path + ": database schema version " + std::to_string(version) +
                                   " is not this build's (" + std::to_string(schema_version) +
                                   "); open it with the writer (the daemon) first to create or "
                                   "migrate it");
}

} // namespace edgemes::storage::detail
