// tools/bench/seed_pg: the seed's workload on PostgreSQL through libpq
// (seed.hpp). Built only when libpq is found (tools/bench/CMakeLists.txt).
//
// Same table shape as edgemes: machines(id PK, ident UNIQUE) and
//   telemetry(machine_id -> machines, ts bigint, v jsonb, PRIMARY KEY(machine_id, ts))
// v is jsonb: the same JSON array edgemes stores, in PostgreSQL's native
// (binary, indexed-access) JSON type; `v->>slot` reads one element without
// parsing the text, which is the fair analogue of edgemes' decode_slot.
// pg_load copies the prefilled SQLite file's rows verbatim (COPY), in file
// order (machine by machine), then VACUUM ANALYZE.
//
// The read aggregates on the server (one round trip, ~300 rows back):
//   SELECT bucket, avg((v->>slot)::float8) ... GROUP BY bucket ORDER BY bucket
// Each writer commits one row per autocommit INSERT, as fast as it can.
#include "tools/bench/seed.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace edgemes::bench::seed {

namespace {

struct pg {
  PGconn* c;
  explicit pg(const std::string& conninfo) : c(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(c) != CONNECTION_OK)
      throw std::runtime_error("cannot connect to PostgreSQL (" + conninfo + "): " + PQerrorMessage(c));
  }
  ~pg() { PQfinish(c); }
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    auto st = PQresultStatus(r);
    std::string out = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      throw std::runtime_error(sql.substr(0, 60) + ": " + PQerrorMessage(c));
    return out;
  }
  void prepare(const char* name, const char* sql) {
    PGresult* r = PQprepare(c, name, sql, 0, nullptr);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
      throw std::runtime_error(std::string("prepare ") + name + ": " + PQerrorMessage(c));
  }
};

const char* const read_sql =
    "SELECT ts / $4::bigint * $4::bigint AS b, "  // buckets aligned to the epoch, as the API's
    "avg((v->>$5::int)::float8), count(v->>$5::int) FROM telemetry "
    "WHERE machine_id = $1::int AND ts >= $2::bigint AND ts < $3::bigint GROUP BY b ORDER BY b";

} // namespace

int pg_load(const std::string& conninfo, const std::string& sqlite_db) {
  try {
    pg p(conninfo);
    p.exec("DROP TABLE IF EXISTS telemetry");
    p.exec("DROP TABLE IF EXISTS machines");
    p.exec("CREATE TABLE machines(id int PRIMARY KEY, ident text NOT NULL UNIQUE)");
    p.exec("CREATE TABLE telemetry(machine_id int NOT NULL REFERENCES machines(id) ON DELETE CASCADE, "
           "ts bigint NOT NULL, v jsonb NOT NULL, PRIMARY KEY(machine_id, ts))");
    sqlite3* s = nullptr;
    if (sqlite3_open_v2(sqlite_db.c_str(), &s, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + sqlite_db);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(s, sqlite3_close_v2);
    auto copy = [&](const char* copy_sql, const char* select_sql, int cols) {
      PGresult* started = PQexec(p.c, copy_sql);
      const bool copy_in = PQresultStatus(started) == PGRES_COPY_IN;
      PQclear(started);
      if (!copy_in)
        throw std::runtime_error(std::string(copy_sql) + ": " + PQerrorMessage(p.c));
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(s, select_sql, -1, &st, nullptr);
      std::string buf;
      int64_t rows = 0;
      while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < cols; ++i) {
          buf += reinterpret_cast<const char*>(sqlite3_column_text(st, i));
          buf += i + 1 < cols ? '\t' : '\n';
        }
        if (buf.size() > (1 << 20)) {
          PQputCopyData(p.c, buf.data(), static_cast<int>(buf.size()));
          buf.clear();
        }
        ++rows;
      }
      sqlite3_finalize(st);
      PQputCopyData(p.c, buf.data(), static_cast<int>(buf.size()));
      if (PQputCopyEnd(p.c, nullptr) != 1)
        throw std::runtime_error(std::string("COPY: ") + PQerrorMessage(p.c));
      PGresult* r = PQgetResult(p.c);
      bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      while ((r = PQgetResult(p.c)) != nullptr)
        PQclear(r);
      if (!ok)
        throw std::runtime_error(std::string("COPY: ") + PQerrorMessage(p.c));
      return rows;
    };
    auto t0 = std::chrono::steady_clock::now();
    copy("COPY machines FROM STDIN", "SELECT id, ident FROM machines ORDER BY id", 2);
    int64_t rows = copy("COPY telemetry FROM STDIN", "SELECT machine_id, ts, v FROM telemetry", 3);
    p.exec("VACUUM ANALYZE");
    double s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string bytes = p.exec("SELECT pg_total_relation_size('telemetry')");
    std::printf("{\"pg_load\": %lld, \"seconds\": %.2f, \"telemetry_bytes\": %s}\n",
                static_cast<long long>(rows), s_, bytes.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed pg-load: %s\n", e.what());
    return 1;
  }
}

int run_pg(const run_options& o, const std::string& label) {
  std::vector<int64_t> ids;
  int64_t newest = 0;
  std::string sync;
  try {
    pg p(o.db);
    newest = std::stoll(p.exec("SELECT max(ts) FROM telemetry"));
    sync = p.exec("SHOW synchronous_commit");
    PGresult* r = PQexec(p.c, "SELECT id FROM machines ORDER BY id");
    for (int i = 0; i < PQntuples(r); ++i)
      ids.push_back(std::stoll(PQgetvalue(r, i, 0)));
    PQclear(r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed pg: %s\n", e.what());
    return 1;
  }
  if (static_cast<int64_t>(ids.size()) < o.writers) {
    std::fprintf(stderr, "edgemes-seed pg: too few machines (run pg-load first)\n");
    return 1;
  }
  const std::string from = std::to_string(newest - window_ms), to = std::to_string(newest + window_ms);
  const std::string step = std::to_string(read_step_ms(o));

  auto make_reader = [&](int) -> read_fn {
    auto p = std::make_shared<pg>(o.db);
    p->prepare("read", read_sql);
    return [p, &ids, &o, from, to, step](std::mt19937_64& rng, reader_counters& c) {
      const std::string id = std::to_string(ids[rng() % ids.size()]);
      const std::string slot = std::to_string(rng() % static_cast<uint64_t>(o.metrics));
      const char* v[] = {id.c_str(), from.c_str(), to.c_str(), step.c_str(), slot.c_str()};
      PGresult* r = PQexecPrepared(p->c, "read", 5, v, nullptr, nullptr, 0);
      if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0)
        ++c.errors;
      PQclear(r);
    };
  };
  auto writer = [&](int w, const std::atomic<bool>& stop, writer_counters& wc) {
    pg p(o.db);
    p.prepare("ins", "INSERT INTO telemetry(machine_id, ts, v) VALUES($1::int, $2::bigint, $3::jsonb)");
    std::mt19937_64 rng(static_cast<uint64_t>(w) + 17);
    const std::string id = std::to_string(ids[static_cast<size_t>(w)]);
    int64_t ts = newest + 1;
    while (!stop) {
      const std::string v = encode_poll(rng, o.metrics);
      const std::string t = std::to_string(ts++);
      const char* vals[] = {id.c_str(), t.c_str(), v.c_str()};
      auto t0 = std::chrono::steady_clock::now();
      PGresult* r = PQexecPrepared(p.c, "ins", 3, vals, nullptr, nullptr, 0);
      bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (!ok) {
        ++wc.busy;
        continue;
      }
      wc.committed(t0, o.metrics);
    }
  };
  nlohmann::json params = {{"synchronous_commit", sync}, {"v", "jsonb"}};
  auto r = run(label, o, make_reader, writer, params);
  std::printf("%s\n", r.json().dump().c_str());
  return r.reader_errors > 0 ? 1 : 0;
}

} // namespace edgemes::bench::seed
