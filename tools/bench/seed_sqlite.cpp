// tools/bench/seed_sqlite: the seed's workload directly on SQLite, one
// connection per thread (seed.hpp).
//
// journal "wal":    journal_mode=WAL,    synchronous=NORMAL (edgemes' pragmas)
// journal "delete": journal_mode=DELETE, synchronous=FULL   (SQLite's defaults)
// Every connection has busy_timeout 5000 ms and foreign_keys=ON. Each writer
// owns one machine and commits one poll (20 samples) per BEGIN IMMEDIATE ...
// COMMIT, as one ingest_log row (schema v4, storage/log_batch.hpp), as fast as it can; a BUSY anywhere is counted
// and the step retried. Ten writer connections are NOT how edgemes writes
// (one writer connection, see storage/database.hpp): this is the seed's setup.
// Readers are storage::reader::series — the code behind GET .../series.
#include "tools/bench/seed.hpp"

#include "storage/codec.hpp"
#include "storage/log_batch.hpp"
#include "storage/sql_functions.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"
#include "tools/bench/progress.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace edgemes::bench::seed {

namespace {

struct conn {
  sqlite3* db = nullptr;
  explicit conn(const std::string& path, int flags = SQLITE_OPEN_READWRITE) {
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path + ": " + sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 5000);
  }
  ~conn() { sqlite3_close_v2(db); }
  std::string exec_text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db));
    std::string out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      if (sqlite3_column_text(s, 0))
        out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) + "\n";
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db));
    return out;
  }
};

// Steps `s` until it is not BUSY, counting the retries.
int step_retry(sqlite3_stmt* s, std::atomic<int64_t>& busy) {
  for (;;) {
    int rc = sqlite3_step(s);
    if ((rc & 0xff) != SQLITE_BUSY)
      return rc;
    ++busy;
    sqlite3_reset(s);
  }
}

// Runs a statement that returns no rows (BEGIN, INSERT, COMMIT) to the end,
// retrying BUSY; anything but DONE throws, naming `what`.
void step_done(conn& c, sqlite3_stmt* s, std::atomic<int64_t>& busy, const char* what) {
  const int rc = step_retry(s, busy);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(c.db));
}

// What a run needs of the file: its machines and its newest ts.
struct file_facts {
  std::vector<int64_t> ids;
  int64_t newest = 0;
};

// Sets the journal mode and reads the facts.
file_facts prepare_file(const run_options& o, const std::string& journal) {
  file_facts f;
  conn c(o.db);
  std::string mode = c.exec_text("PRAGMA journal_mode=" + journal);
  if (mode != journal + "\n")
    throw std::runtime_error("journal_mode is " + mode + " not " + journal);
  std::string list = c.exec_text("SELECT id FROM machines ORDER BY id");
  for (size_t p = 0, e; (e = list.find('\n', p)) != std::string::npos; p = e + 1)
    f.ids.push_back(std::stoll(list.substr(p, e - p)));
  storage::register_sql_functions(c.db);
  f.newest = std::stoll(c.exec_text("SELECT max(ts) FROM samples"));
  return f;
}

// A reader thread's connection and its read: storage::reader::series over the window.
read_fn series_reader(const run_options& o, const storage::options& ropts, const file_facts& f) {
  const int64_t from = f.newest - window_ms, to = f.newest + window_ms, step = read_step_ms(o);
  // In rollback mode opening can meet a writer's EXCLUSIVE lock past the
  // reader's own retries: keep trying (for up to max_s) rather than run
  // with fewer readers.
  std::shared_ptr<storage::reader> r;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration_cast<
      std::chrono::steady_clock::duration>(std::chrono::duration<double>(o.max_s));
  while (!r) {
    try {
      r = storage::reader::open(o.db, ropts);
    } catch (const storage::db_error& e) {
      if ((e.code() & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > give_up)
        throw;
    }
  }
  return [r, &ids = f.ids, &o, from, to, step](std::mt19937_64& rng, reader_counters& c) {
    const int64_t id = ids[rng() % ids.size()];
    const int slot = static_cast<int>(rng() % static_cast<uint64_t>(o.metrics));
    for (;;) {
      try {
        auto b = r->series(id, slot, from, to, step, storage::aggregate::avg);
        if (b.empty())
          ++c.errors;  // the data set guarantees points: an empty reply is a failure
        return;
      } catch (const storage::db_error& e) {
        if ((e.code() & 0xff) != SQLITE_BUSY) {
          ++c.errors;
          return;
        }
        ++c.busy;
      }
    }
  };
}

// A writer's pragmas and first read. The first statement reads the schema,
// which in rollback mode can stay locked past busy_timeout: retry rather than
// run with fewer writers.
void prepare_writer(conn& c, const std::string& sync, const std::atomic<bool>& stop,
                    writer_counters& wc) {
  for (;;) {
    try {
      c.exec_text("PRAGMA synchronous=" + sync);
      c.exec_text("PRAGMA foreign_keys=ON");
      c.exec_text("SELECT count(*) FROM machines");
      return;
    } catch (const std::runtime_error&) {
      if ((sqlite3_errcode(c.db) & 0xff) != SQLITE_BUSY || stop)
        throw;
      ++wc.busy;
    }
  }
}

// Writer w: one poll of machine ids[w] per transaction until `stop`.
void write_polls(const run_options& o, const std::string& sync, const file_facts& f, int w,
                 const std::atomic<bool>& stop, writer_counters& wc) {
  conn c(o.db);
  prepare_writer(c, sync, stop, wc);
  sqlite3_stmt *begin, *ins, *commit;
  sqlite3_prepare_v2(c.db, "BEGIN IMMEDIATE", -1, &begin, nullptr);
  sqlite3_prepare_v2(c.db, "INSERT INTO ingest_log(data) VALUES(?)", -1, &ins, nullptr);
  std::vector<double> values;
  std::string batch;
  sqlite3_prepare_v2(c.db, "COMMIT", -1, &commit, nullptr);
  std::mt19937_64 rng(static_cast<uint64_t>(w) + 17);
  const int64_t id = f.ids[static_cast<size_t>(w)];
  int64_t ts = f.newest + 1;
  while (!stop) {
    const std::string v = encode_poll(rng, o.metrics);
    storage::decode_all(v.data(), v.size(), values);
    batch.clear();
    storage::log_batch::encode({{id, ts, &values}}, batch);
    auto t0 = std::chrono::steady_clock::now();
    step_done(c, begin, wc.busy, "BEGIN");
    ++ts;
    sqlite3_bind_blob(ins, 1, batch.data(), static_cast<int>(batch.size()), SQLITE_STATIC);
    step_done(c, ins, wc.busy, "INSERT");
    step_done(c, commit, wc.busy, "COMMIT");
    wc.committed(t0, o.metrics);
  }
  sqlite3_finalize(begin);
  sqlite3_finalize(ins);
  sqlite3_finalize(commit);
}

} // namespace

int run_sqlite(const run_options& o, const std::string& journal) {
  if (journal != "wal" && journal != "delete") {
    std::fprintf(stderr, "edgemes-seed sqlite: --journal must be wal or delete\n");
    return 2;
  }
  const std::string sync = journal == "wal" ? "NORMAL" : "FULL";
  file_facts f;
  try {
    f = prepare_file(o, journal);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed sqlite: %s\n", e.what());
    return 1;
  }
  if (f.ids.empty() || static_cast<int64_t>(f.ids.size()) < o.writers) {
    std::fprintf(stderr, "edgemes-seed sqlite: %s has too few machines (prefill first)\n", o.db.c_str());
    return 1;
  }

  storage::options ropts;
  ropts.synchronous = sync;
  auto make_reader = [&](int) { return series_reader(o, ropts, f); };
  auto writer = [&](int w, const std::atomic<bool>& stop, writer_counters& wc) {
    write_polls(o, sync, f, w, stop, wc);
  };
  nlohmann::json params = {{"journal_mode", journal}, {"synchronous", sync}, {"db", o.db}};
  auto r = run("sqlite-" + journal, o, make_reader, writer, params);
  std::printf("%s\n", r.json().dump().c_str());
  return r.reader_errors > 0 ? 1 : 0;
}

int open_sqlite(const std::string& db) {
  try {
    auto t0 = std::chrono::steady_clock::now();
    auto w = storage::writer::open(db, storage::options{});  // migrates an older file
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    w->close();
    std::printf("{\"db\": \"%s\", \"open_ms\": %.1f, \"schema_version\": %d}\n", db.c_str(), ms,
                storage::schema_version);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed open: %s\n", e.what());
    return 1;
  }
}

int first_serve_sqlite(const std::string& db) {
  try {
    remove_database(db);
    auto t0 = std::chrono::steady_clock::now();
    auto w = storage::writer::open(db, storage::options{});  // creates the file, WAL, schema
    auto r = storage::reader::open(db, storage::options{});
    auto lines = r->lines();                                 // the first query
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"system\": \"sqlite\", \"first_serve_ms\": %.3f, \"lines\": %zu}\n", ms, lines.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed first-serve: %s\n", e.what());
    return 1;
  }
}

} // namespace edgemes::bench::seed
