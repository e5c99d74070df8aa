// storage/schema: the layout of the telemetry file, version 5.
//
//   lines(id, ident UNIQUE, name)
//   machines(id, line_id -> lines, ident UNIQUE, name, type, adapter,
//            configured, status, last_poll_ms, last_ok_ms, last_error,
//            polls_ok, polls_failed, poll_problems, polls_missed)
//   metrics(machine_id -> machines, slot, name)      PK (machine_id, slot)
//   state_changes(machine_id -> machines, ts, state) PK (machine_id, ts)
//   chunks(start, machine_id -> machines, polls, data) PK (start, machine_id)
//   ingest_log(id, data)                             rowid table, commit order
//   compaction(one = 1, window_ms, boundary, generation, hours_from)   one row
//   counter_hours(hour, machine_id -> machines, slot, first_ts, first,
//                 last_ts, last, increase, resets, n)
//                                   PK (hour, machine_id, slot) WITHOUT ROWID
//   products(id, ident UNIQUE, name, created_ms)
//   bom_revisions(id, product_id -> products CASCADE, revision, imported_ms,
//                 source, items, components)      UNIQUE (product_id, revision)
//   bom_items(revision_id -> bom_revisions CASCADE, position, part_number,
//             quantity, designators, description, side, csv_line)
//                                                    PK (revision_id, position)
//   work_orders(id, ident UNIQUE, product_id -> products RESTRICT,
//               bom_revision_id -> bom_revisions RESTRICT,
//               line_id -> lines CASCADE, quantity, status, created_ms,
//               completed_ms)         at most one 'running' per line (index)
//   work_order_runs(work_order_id -> work_orders CASCADE, start_ms, end_ms)
//                                                    PK (work_order_id, start_ms)
//   VIEW samples(machine, metric, ts, value)
//   VIEW samples_10s(machine, metric, ts, count, sum, min, max, last)
//
// Where a poll lives (version 4; the invariant everything else relies on):
// every committed poll is in EXACTLY ONE of
// - ingest_log: one row per commit, its polls in compact binary form
//   (storage/log_batch.hpp), appended in commit order. The hot window.
// - chunks: one row per machine and compaction window [start, start +
//   window_ms) (start a multiple of window_ms since the epoch), its polls
//   compressed column by column (storage/chunk.hpp). The history.
// The writer moves whole windows from the log into chunks once they ended
// more than a grace period ago (storage/compaction.cpp); every window before
// compaction.boundary has been moved, and a poll that arrives later for such
// a window waits in the log until the next compaction merges it into the
// window's chunk.
//
// Why it is laid out so (docs/ARCHITECTURE.md has the measurements):
// - Flash wear. Version 3 stored one row per poll keyed (machine_id, ts): each
//   commit rewrote one 4 KiB B-tree page per machine it carried, ~1 000 bytes
//   written per 8-byte sample. The log appends at the end of one B-tree, and
//   chunks are keyed (start, machine_id) so a compaction appends too: what a
//   commit writes is about what it adds.
// - Space. A chunk stores timestamps as bit-packed deltas and each metric as
//   decimal integers (or XOR'd doubles) in bit-packed blocks: counters,
//   setpoints and 1-decimal readings cost a fraction of a byte per sample.
// - Reads. "One machine, one metric, a range" is one primary-key lookup per
//   window plus the decode of two columns; the hot window is read from the
//   writer's head in memory (storage/head.hpp) by the daemon's readers, and
//   from ingest_log by any other reader.
// - metrics.slot is append-only per machine (storage::writer::sync_catalog):
//   a metric keeps its slot (its column in a chunk) forever, so old chunks
//   decode correctly after the config adds or drops metrics.
// - counter_hours summarises, per hour, machine and slot, the values in
//   `chunks` (storage/counter_hours.hpp states the row's contract): a
//   counter's increase over a shift reads ~one row per hour instead of
//   decoding 30 chunks per hour. Keyed hour first, like chunks by start, so a
//   compaction rewrites the current hour's rows, which are contiguous, and
//   retention deletes from the front. Written with the chunks, in the same
//   transactions, so rows and chunks always agree.
// - state_changes stores changes only (the writer skips repeats), so the state
//   at time t is the last row with ts <= t.
// - Machines are identified by ident (the config's name for them) and keep
//   their id forever; a machine dropped from the config stays, configured=0,
//   with its history. Deleting a line cascades to everything below it but the
//   log, whose rows hold many machines: the reader and the next compaction
//   ignore polls of machines that no longer exist.
// - The views exist for people with the stock sqlite3 shell. They decode the
//   binary columns with two table-valued functions that edgemes registers on
//   its own connections and ships as a loadable extension for the shell
//   (storage/sql_functions.hpp, docs/STORAGE-FORMAT.md):
//     sqlite3 factory.db -cmd '.load build/bin/edgemes'
//       "SELECT ts, value FROM samples WHERE machine='smt1-placer1'
//         AND metric='cycle_time_s' ORDER BY ts"
//   samples_10s groups samples into 10 s buckets (it replaced the rollup
//   table of versions 2 and 3: the daemon aggregates chunks as it decodes).
//
// The MES tables (version 5, docs/MES.md) cascade like lines -> machines ->
// telemetry: a product owns its BOM revisions, a revision its items, a work
// order its runs. A BOM import is one transaction that adds the next revision
// (1, 2, ...) with all its items, so a revision has every item or does not
// exist. A work order points at the revision it was created with: a
// re-import adds a revision and never touches an old one. Deleting a product
// or a revision that a work order uses is REFUSED (ON DELETE RESTRICT): an
// order's components are counted from its revision, so it must outlive
// neither; a product without orders goes with all its revisions and items.
// A line's orders go with the line. `work_orders_running` (a partial unique
// index) makes a second running order on one line a constraint error, whatever
// the code above it does.
//
// Versioning: PRAGMA user_version is the schema version; 0 means a new file.
// A migration from version n to n+1 is appended to `migrations` and runs in
// the same transaction as the version bump, so a file is always at a version
// (a kill -9 during a migration leaves the old version; the next start runs
// it again). Version 4 converts version 3's telemetry rows into chunks (and
// the newest window into the log) and drops telemetry and telemetry_10s.
// Version 5 adds counter_hours (filled from the chunks already there) and the MES
// tables (empty).
#include "storage/schema.hpp"

#include "storage/chunk.hpp"
#include "storage/codec.hpp"
#include "storage/connection.hpp"
#include "storage/counter_hours.hpp"
#include "storage/database.hpp"
#include "storage/log_batch.hpp"
#include "storage/rollup.hpp"

#include <cmath>
#include <string>
#include <vector>

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

// Version 4: chunks + ingest log (see the top of this file). The C++ step
// (to_chunks) moves the telemetry rows before the SQL of `schema_v4_drop`
// drops the old tables.
const char* const schema_v4 = R"sql(
CREATE TABLE compaction(
  one        INTEGER PRIMARY KEY CHECK(one = 1),
  window_ms  INTEGER NOT NULL CHECK(window_ms > 0), -- chunk width, fixed for the file
  boundary   INTEGER,            -- every window before it is compacted; NULL = none yet
  generation INTEGER NOT NULL DEFAULT 0             -- +1 per compaction
);
CREATE TABLE chunks(
  start      INTEGER NOT NULL,   -- window start, unix ms, a multiple of compaction.window_ms
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  polls      INTEGER NOT NULL,   -- polls in the chunk
  data       BLOB NOT NULL,      -- storage/chunk.hpp, docs/STORAGE-FORMAT.md
  PRIMARY KEY(start, machine_id)
) WITHOUT ROWID;
CREATE TABLE ingest_log(
  id   INTEGER PRIMARY KEY,      -- commit order
  data BLOB NOT NULL             -- storage/log_batch.hpp: one commit's polls
);
)sql";

const char* const schema_v4_drop = R"sql(
DROP VIEW samples;
DROP VIEW samples_10s;
DROP TABLE telemetry_10s;
DROP TABLE telemetry;
CREATE VIEW samples(machine, metric, ts, value) AS
  SELECT mc.ident, m.name, p.ts, p.value
    FROM chunks c, edgemes_chunk(c.data) p
    JOIN machines mc ON mc.id = c.machine_id
    JOIN metrics m ON m.machine_id = c.machine_id AND m.slot = p.slot
  UNION ALL
  SELECT mc.ident, m.name, p.ts, p.value
    FROM ingest_log l, edgemes_log(l.data) p
    JOIN machines mc ON mc.id = p.machine_id
    JOIN metrics m ON m.machine_id = p.machine_id AND m.slot = p.slot;
CREATE VIEW samples_10s(machine, metric, ts, count, sum, min, max, last) AS
  SELECT machine, metric, b, count(*), sum(value), min(value), max(value), newest
    FROM (SELECT machine, metric, value, b,
                 last_value(value) OVER (PARTITION BY machine, metric, b ORDER BY ts
                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS newest
            FROM (SELECT machine, metric, ts, value,
                         ts - ((ts % 10000) + 10000) % 10000 AS b FROM samples))
   GROUP BY machine, metric, b;
)sql";

// Version 5: hour summaries of every slot in `chunks` (counter_hours.hpp);
// the C++ step (backfill_counter_hours) fills them from the chunks there.
// And the MES layer's products, BOMs and work orders (see the top of this
// file; *_ms are unix ms, quantities whole units).
// `first`, `last` and `increase` are REAL: SQLite stores an integral REAL as
// an integer on disk (1-6 bytes), so a counter's row stays small.
const char* const schema_v5 = R"sql(
CREATE TABLE counter_hours(
  hour       INTEGER NOT NULL,   -- unix ms, a multiple of 3600000
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  slot       INTEGER NOT NULL,   -- metrics.slot
  first_ts   INTEGER NOT NULL,   -- the hour's first value in chunks, and its time
  first      REAL NOT NULL,
  last_ts    INTEGER NOT NULL,   -- the hour's last value in chunks, and its time
  last       REAL NOT NULL,
  increase   REAL NOT NULL,      -- rises between consecutive values inside the hour
  resets     INTEGER NOT NULL,   -- drops between consecutive values inside the hour
  n          INTEGER NOT NULL,   -- values
  PRIMARY KEY(hour, machine_id, slot)
) WITHOUT ROWID;
-- Rows of hours before this are gone (retention cut their chunks); NULL = none cut.
ALTER TABLE compaction ADD COLUMN hours_from INTEGER;
CREATE TABLE products(
  id         INTEGER PRIMARY KEY,
  ident      TEXT NOT NULL UNIQUE,   -- the API's and the CLI's product id
  name       TEXT NOT NULL,          -- default: ident
  created_ms INTEGER NOT NULL
);
CREATE TABLE bom_revisions(
  id          INTEGER PRIMARY KEY,
  product_id  INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
  revision    INTEGER NOT NULL CHECK(revision > 0),  -- 1, 2, ... per product, one per import
  imported_ms INTEGER NOT NULL,
  source      TEXT NOT NULL,         -- the imported file's name ('' = not given)
  items       INTEGER NOT NULL,      -- rows of bom_items
  components  INTEGER NOT NULL,      -- sum of their quantities
  UNIQUE(product_id, revision)
);
CREATE TABLE bom_items(
  revision_id INTEGER NOT NULL REFERENCES bom_revisions(id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,      -- 1-based, file order
  part_number TEXT NOT NULL,
  quantity    INTEGER NOT NULL CHECK(quantity > 0),
  designators TEXT NOT NULL,         -- space-separated, expanded; '' = not placed by a machine
  description TEXT NOT NULL,
  side        TEXT NOT NULL CHECK(side IN ('', 'top', 'bottom')),
  csv_line    INTEGER NOT NULL,      -- the item's line in the imported file
  PRIMARY KEY(revision_id, position)
) WITHOUT ROWID;
CREATE TABLE work_orders(
  id              INTEGER PRIMARY KEY,
  ident           TEXT NOT NULL UNIQUE,
  product_id      INTEGER NOT NULL REFERENCES products(id) ON DELETE RESTRICT,
  bom_revision_id INTEGER NOT NULL REFERENCES bom_revisions(id) ON DELETE RESTRICT,
  line_id         INTEGER NOT NULL REFERENCES lines(id) ON DELETE CASCADE,
  quantity        INTEGER NOT NULL CHECK(quantity > 0),  -- boards to make
  status          TEXT NOT NULL DEFAULT 'created'
                  CHECK(status IN ('created', 'running', 'paused', 'completed')),
  created_ms      INTEGER NOT NULL,
  completed_ms    INTEGER            -- NULL until completed
);
CREATE UNIQUE INDEX work_orders_running ON work_orders(line_id) WHERE status = 'running';
CREATE INDEX work_orders_by_line ON work_orders(line_id, status);
CREATE INDEX work_orders_by_product ON work_orders(product_id);
CREATE INDEX work_orders_by_revision ON work_orders(bom_revision_id);
CREATE TABLE work_order_runs(
  work_order_id INTEGER NOT NULL REFERENCES work_orders(id) ON DELETE CASCADE,
  start_ms      INTEGER NOT NULL,
  end_ms        INTEGER CHECK(end_ms IS NULL OR end_ms >= start_ms),  -- NULL while running
  PRIMARY KEY(work_order_id, start_ms)
) WITHOUT ROWID;
)sql";

void backfill_hours(sqlite3* db, int64_t) { backfill_counter_hours(db); }

// The v3 -> v4 move of the telemetry rows (to_chunks): its statements and the
// buffers reused across machines and windows.
class telemetry_move {
public:
  // Polls from `boundary` on (the newest window) go to the log, older ones
  // to chunks.
  telemetry_move(sqlite3* db, int64_t window_ms, int64_t boundary)
      : db_(db), window_ms_(window_ms), boundary_(boundary),
        rows_(prepare(db, "SELECT ts, v FROM telemetry WHERE machine_id=? ORDER BY ts")),
        put_(prepare(db, "INSERT INTO chunks(start, machine_id, polls, data) "
                         "VALUES(?,?,?,?)")),
        log_(prepare(db, "INSERT INTO ingest_log(data) VALUES(?)")) {}

  // One machine's rows, oldest first: a chunk per window before the
  // boundary, the rest held for the log.
  void machine(int64_t machine) {
    reset_on_exit r(rows_.get());
    sqlite3_bind_int64(rows_.get(), 1, machine);
    int64_t start = 0;
    while (next_row(db_, rows_.get(), "schema v4: read telemetry")) {
      const int64_t t = sqlite3_column_int64(rows_.get(), 0);
      // A row that does not decode (edited by hand) held no values.
      if (!decode_all(reinterpret_cast<const char*>(sqlite3_column_text(rows_.get(), 1)),
                      static_cast<size_t>(sqlite3_column_bytes(rows_.get(), 1)), values_))
        values_.clear();
      if (t >= boundary_) {
        hot_.push_back({{machine, t}, values_});
        continue;
      }
      const int64_t w = floor_to(t, window_ms_);
      if (!ts_.empty() && w != start)
        flush(machine, start);
      start = w;
      ts_.push_back(t);
      polls_.push_back(values_);
    }
    flush(machine, start);
  }

  // The newest window goes to the log, in batches of at most 5 000 polls.
  void hot_to_log() {
    for (size_t from = 0; from < hot_.size(); from += 5000) {
      std::vector<log_batch::poll> batch;
      for (size_t i = from; i < std::min(hot_.size(), from + 5000); ++i)
        batch.push_back({hot_[i].first.first, hot_[i].first.second, &hot_[i].second});
      buf_.clear();
      log_batch::encode(std::move(batch), buf_);
      reset_on_exit r(log_.get());
      sqlite3_bind_blob(log_.get(), 1, buf_.data(), static_cast<int>(buf_.size()), SQLITE_STATIC);
      if (int rc = sqlite3_step(log_.get()); rc != SQLITE_DONE)
        fail(db_, rc, "schema v4: write the ingest log");
    }
  }

private:
  // Writes the window's polls gathered so far as its chunk.
  void flush(int64_t machine, int64_t start) {
    if (ts_.empty())
      return;
    size_t nslots = 0;
    for (const auto& p : polls_)
      nslots = std::max(nslots, p.size());
    flat_.assign(ts_.size() * nslots, NAN);
    for (size_t i = 0; i < polls_.size(); ++i)
      std::copy(polls_[i].begin(), polls_[i].end(),
                flat_.begin() + static_cast<std::ptrdiff_t>(i * nslots));
    buf_.clear();
    chunk::encode(ts_.data(), flat_.data(), ts_.size(), nslots, buf_);
    reset_on_exit r(put_.get());
    sqlite3_bind_int64(put_.get(), 1, start);
    sqlite3_bind_int64(put_.get(), 2, machine);
    sqlite3_bind_int64(put_.get(), 3, static_cast<int64_t>(ts_.size()));
    sqlite3_bind_blob(put_.get(), 4, buf_.data(), static_cast<int>(buf_.size()), SQLITE_STATIC);
    if (int rc = sqlite3_step(put_.get()); rc != SQLITE_DONE)
      fail(db_, rc, "schema v4: write a chunk");
    ts_.clear();
    polls_.clear();
  }

  sqlite3* const db_;
  const int64_t window_ms_, boundary_;
  stmt_ptr rows_, put_, log_;
  std::vector<int64_t> ts_;                  // the current window's polls
  std::vector<std::vector<double>> polls_;
  std::vector<double> values_, flat_;
  std::string buf_;
  // The newest window's polls, for the log: (machine, ts, values).
  std::vector<std::pair<std::pair<int64_t, int64_t>, std::vector<double>>> hot_;
};

// Moves every telemetry row of a version 3 file into chunks (windows before
// the one holding the newest row) or the ingest log (that window), then
// drops the old tables. Streams one machine and one window at a time.
void to_chunks(sqlite3* db, int64_t window_ms) {
  std::string sql = "INSERT INTO compaction(one, window_ms) VALUES(1, " +
                    std::to_string(window_ms) + ")";
  exec(db, sql.c_str(), "schema v4: compaction state");
  int64_t boundary = 0;
  bool any = false;
  {
    stmt_ptr q = prepare(db, "SELECT max(ts) FROM telemetry");
    if (next_row(db, q.get(), "schema v4: newest poll") &&
        sqlite3_column_type(q.get(), 0) != SQLITE_NULL) {
      boundary = floor_to(sqlite3_column_int64(q.get(), 0), window_ms);
      any = true;
    }
  }
  if (any) {
    std::vector<int64_t> machines;
    {
      stmt_ptr q = prepare(db, "SELECT DISTINCT machine_id FROM telemetry");
      while (next_row(db, q.get(), "schema v4: machines"))
        machines.push_back(sqlite3_column_int64(q.get(), 0));
    }
    telemetry_move move(db, window_ms, boundary);
    for (int64_t machine : machines)
      move.machine(machine);
    move.hot_to_log();
    sql = "UPDATE compaction SET boundary=" + std::to_string(boundary);
    exec(db, sql.c_str(), "schema v4: boundary");
  }
  exec(db, schema_v4_drop, "schema v4: replace telemetry");
}

// migrations[n] takes a file from version n to n + 1: its SQL, then its C++
// step (if any), in the one transaction of create_or_migrate. Version 2's
// rollup backfill is gone: version 4 drops the rollups it would fill.
struct migration {
  const char* sql;
  void (*then)(sqlite3* db, int64_t window_ms);
};
const migration migrations[] = {
    {schema_v1, nullptr},
    {schema_v2, nullptr},
    {schema_v3, nullptr},
    {schema_v4, to_chunks},
    {schema_v5, backfill_hours},
};
static_assert(sizeof migrations / sizeof migrations[0] == schema_version,
              "one migration per schema version");

int user_version(sqlite3* db) { return static_cast<int>(pragma_int(db, "user_version")); }

std::string too_new(int version) {
  return "database schema version " + std::to_string(version) +
         " is newer than this build (" + std::to_string(schema_version) + ")";
}

} // namespace

void create_or_migrate(sqlite3* db, int64_t window_ms) {
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
        migrations[v].then(db, window_ms);
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
