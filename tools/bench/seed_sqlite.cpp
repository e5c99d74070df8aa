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

} // namespace

int run_sqlite(const run_options& o, const std::string& journal) {
  if (journal != "wal" && journal != "delete") {
    std::fprintf(stderr, "edgemes-seed sqlite: --journal must be wal or delete\n");
    return 2;
  }
  const std::string sync = journal == "wal" ? "NORMAL" : "FULL";
  std::vector<int64_t> ids;
  int64_t newest = 0;
  try {
    conn c(o.db);
    std::string mode = c.exec_text("PRAGMA journal_mode=" + journal);
    if (mode != journal + "\n")
      throw std::runtime_error("journal_mode is " + mode + " not " + journal);
    std::string list = c.exec_text("SELECT id FROM machines ORDER BY id");
    for (size_t p = 0, e; (e = list.find('\n', p)) != std::string::npos; p = e + 1)
      ids.push_back(std::stoll(list.substr(p, e - p)));
    storage::register_sql_functions(c.db);
    newest = std::stoll(c.exec_text("SELECT max(ts) FROM samples"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed sqlite: %s\n", e.what());
    return 1;
  }
  if (ids.empty() || static_cast<int64_t>(ids.size()) < o.writers) {
    std::fprintf(stderr, "edgemes-seed sqlite: %s has too few machines (prefill first)\n", o.db.c_str());
    return 1;
  }
  const int64_t from = newest - window_ms, to = newest + window_ms, step = read_step_ms(o);

  storage::options ropts;
  ropts.synchronous = sync;
  auto make_reader = [&](int) -> read_fn {
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
    return [r, &ids, &o, from, to, step](std::mt19937_64& rng, reader_counters& c) {
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
  };

  auto writer = [&](int w, const std::atomic<bool>& stop, writer_counters& wc) {
    conn c(o.db);
    // The first statement reads the schema, which in rollback mode can stay
    // locked past busy_timeout: retry rather than run with fewer writers.
    for (;;) {
      try {
        c.exec_text("PRAGMA synchronous=" + sync);
        c.exec_text("PRAGMA foreign_keys=ON");
        c.exec_text("SELECT count(*) FROM machines");
        break;
      } catch (const std::runtime_error&) {
        if ((sqlite3_errcode(c.db) & 0xff) != SQLITE_BUSY || stop)
          throw;
        ++wc.busy;
      }
    }
    sqlite3_stmt *begin, *ins, *commit;
    sqlite3_prepare_v2(c.db, "BEGIN IMMEDIATE", -1, &begin, nullptr);
    sqlite3_prepare_v2(c.db, "INSERT INTO ingest_log(data) VALUES(?)", -1, &ins, nullptr);
    std::vector<double> values;
    std::string batch;
    sqlite3_prepare_v2(c.db, "COMMIT", -1, &commit, nullptr);
    std::mt19937_64 rng(static_cast<uint64_t>(w) + 17);
    const int64_t id = ids[static_cast<size_t>(w)];
    int64_t ts = newest + 1;
    while (!stop) {
      const std::string v = encode_poll(rng, o.metrics);
      storage::decode_all(v.data(), v.size(), values);
      batch.clear();
      storage::log_batch::encode({{id, ts, &values}}, batch);
      auto t0 = std::chrono::steady_clock::now();
      int rc = step_retry(begin, wc.busy);
      sqlite3_reset(begin);
      if (rc != SQLITE_DONE)
        throw std::runtime_error(std::string("BEGIN: ") + sqlite3_errmsg(c.db));
      ++ts;
      sqlite3_bind_blob(ins, 1, batch.data(), static_cast<int>(batch.size()), SQLITE_STATIC);
      rc = step_retry(ins, wc.busy);
      sqlite3_reset(ins);
      if (rc != SQLITE_DONE)
        throw std::runtime_error(std::string("INSERT: ") + sqlite3_errmsg(c.db));
      rc = step_retry(commit, wc.busy);
      sqlite3_reset(commit);
      if (rc != SQLITE_DONE)
        throw std::runtime_error(std::string("COMMIT: ") + sqlite3_errmsg(c.db));
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - t0).count();
      if (us > wc.max_txn_us.load())
        wc.max_txn_us = us;
      ++wc.txns;
      wc.samples += o.metrics;
    }
    sqlite3_finalize(begin);
    sqlite3_finalize(ins);
    sqlite3_finalize(commit);
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
