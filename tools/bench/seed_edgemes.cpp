// tools/bench/seed_edgemes: the seed's workload through edgemes (seed.hpp).
//
// Wired in-process as daemon/run.cpp wires the daemon: writer connection and
// catalog first, read-only connections for the query workers (one per core),
// CAF system (max(2, cores) threads, max-throughput 100), the writer actor and
// query pool with the daemon's defaults, the HTTP API on 127.0.0.1 with the
// daemon's thread count. The "10 writers" are 10 poller actors (machines
// bench-m0..9, 20 metrics each, the synthetic source of ingest-pipeline)
// polling every interval_ms, so the ingest is 10 x 20 x 1000 / interval_ms
// samples/s, committed by the one writer actor. The reads are GET
// /api/v1/machines/{id}/series over keep-alive HTTP, one httplib client per
// reader thread, with the window of the SQLite and PostgreSQL runs.
#include "tools/bench/seed.hpp"
#include "tools/bench/load.hpp"

#include "actors/ingest.hpp"
#include "actors/poller.hpp"
#include "actors/query.hpp"
#include "actors/writer.hpp"
#include "adapters/adapter.hpp"
#include "adapters/blocking_pool.hpp"
#include "api/admission.hpp"
#include "api/server.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <caf/all.hpp>
#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace edgemes::bench::seed {

namespace {

// The file as the daemon opens it: the writer connection with the catalog,
// one read-only connection per query worker, and the newest ts in the file.
struct store {
  std::unique_ptr<storage::writer> db;
  std::map<std::string, storage::machine_binding> bindings;
  std::vector<std::unique_ptr<storage::reader>> readers;
  int64_t newest = 0;
};

store open_store(const run_options& o, int64_t machines, unsigned cores, const storage::options& opts) {
  store s;
  s.db = storage::writer::open(o.db, opts);
  std::vector<std::string> names;
  for (const auto& m : synthetic_metrics(static_cast<int>(o.metrics)))
    names.push_back(m.first);
  std::vector<storage::machine_def> defs;
  for (int64_t i = 0; i < machines; ++i)
    defs.push_back({machine_ident(i), machine_ident(i), "bench", "synthetic", "synthetic", names});
  s.bindings = s.db->sync_catalog({{"bench", "benchmark line"}}, defs);
  for (unsigned i = 0; i < cores; ++i)
    s.readers.push_back(storage::reader::open(o.db, opts));
  int64_t id0 = s.bindings.at(machine_ident(0)).machine_id;
  auto latest = s.readers[0]->samples(id0, 0, 0, INT64_MAX / 2, 1000000);
  if (latest.empty())
    throw std::runtime_error(o.db + " has no telemetry (prefill first)");
  s.newest = latest.back().ts_ms;
  return s;
}

// The "writers": o.writers pollers of the synthetic source, first polls
// spread over one interval.
std::vector<actors::poller_actor> spawn_pollers(
    caf::actor_system& sys, const run_options& o, int64_t interval_ms,
    const std::map<std::string, storage::machine_binding>& bindings,
    const actors::writer_actor& writer, const std::shared_ptr<actors::ingest_gauge>& gauge,
    const std::shared_ptr<adapters::blocking_pool>& pool) {
  std::vector<actors::poller_actor> pollers;
  for (int64_t i = 0; i < o.writers; ++i) {
    actors::poller_parts parts;
    parts.settings.ident = machine_ident(i);
    parts.settings.interval_ms = interval_ms;
    parts.settings.start_delay_ms = i * interval_ms / o.writers;
    parts.binding = bindings.at(machine_ident(i));
    parts.source = make_synthetic_source(static_cast<int>(o.metrics), static_cast<uint64_t>(i) + 1);
    parts.writer = writer;
    parts.gauge = gauge;
    parts.pool = pool;
    pollers.push_back(actors::spawn_poller(sys, std::move(parts)));
  }
  return pollers;
}

// A reader thread's keep-alive client and its read: GET .../series of a
// random machine and metric over [from, to).
read_fn http_reader(int port, const run_options& o, int64_t machines, int64_t from, int64_t to) {
  auto cli = std::make_shared<httplib::Client>("127.0.0.1", port);
  cli->set_keep_alive(true);
  cli->set_tcp_nodelay(true);  // as curl, browsers and wrk do
  cli->set_read_timeout(30, 0);
  // No step_ms unless asked for: the API's default, as a dashboard reads.
  const std::string step = o.step_ms > 0 ? "&step_ms=" + std::to_string(o.step_ms) : "";
  return [cli, &o, machines, from, to, step](std::mt19937_64& rng, reader_counters& c) {
    char path[256];
    std::snprintf(path, sizeof path,
                  "/api/v1/machines/bench-m%lld/series?metric=m%02d&from=%lld&to=%lld%s",
                  static_cast<long long>(rng() % static_cast<uint64_t>(machines)),
                  static_cast<int>(rng() % static_cast<uint64_t>(o.metrics)),
                  static_cast<long long>(from), static_cast<long long>(to), step.c_str());
    auto res = cli->Get(path);
    if (!res || res->status != 200 || res->body.size() < 100) {
      if (res && res->status == 503)
        ++c.busy;
      ++c.errors;
    }
  };
}

// Kills the pollers, then stops the writer (it commits what it holds) and the query pool.
void stop_actors(caf::actor_system& sys, std::vector<actors::poller_actor>& pollers,
                 const actors::writer_actor& writer, actors::query_pool& queries) {
  caf::scoped_actor self{sys};
  for (auto& p : pollers)
    caf::anon_send_exit(p, caf::exit_reason::kill);
  self->request(writer, std::chrono::minutes(1), actors::stop_atom::value)
      .receive([](actors::writer_totals&) {}, [](caf::error&) {});
  queries.stop();
}

} // namespace

int run_edgemes(const run_options& o, int64_t interval_ms, int64_t machines) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  storage::options opts;  // the daemon's defaults
  store st;
  try {
    st = open_store(o, machines, cores, opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed edgemes: %s\n", e.what());
    return 1;
  }
  const int64_t from = st.newest - window_ms, to = st.newest + window_ms;

  caf::actor_system_config caf_cfg;
  caf_cfg.set("scheduler.max-threads", static_cast<size_t>(std::max(2u, cores)));
  caf_cfg.set("scheduler.max-throughput", static_cast<size_t>(100));
  actors::register_message_types(caf_cfg);
  caf::actor_system sys{caf_cfg};
  auto gauge = std::make_shared<actors::ingest_gauge>(200000);
  actors::writer_settings ws;  // daemon defaults: 5000 samples/txn, 200 ms flush
  auto writer = actors::spawn_writer(sys, std::move(st.db), ws, gauge);
  const int64_t max_pending = 256;
  auto queries = std::make_shared<actors::query_pool>(sys, std::move(st.readers),
                                                      static_cast<size_t>(max_pending));
  auto pool = std::make_shared<adapters::blocking_pool>(0, 16);

  api::server_settings as;
  as.site = "seed";
  as.port = 0;
  as.db_path = o.db;
  as.version = "bench";
  as.http_threads = api::http_threads_for(cores, max_pending);  // as daemon/settings.cpp
  as.db_options = opts;
  api::server http{queries, gauge, as};
  std::string error;
  if (!http.bind(&error)) {
    std::fprintf(stderr, "edgemes-seed edgemes: %s\n", error.c_str());
    return 1;
  }
  http.start();
  const int port = http.port();
  auto pollers = spawn_pollers(sys, o, interval_ms, st.bindings, writer, gauge, pool);

  auto make_reader = [&](int) { return http_reader(port, o, machines, from, to); };
  // One thread mirrors what the writer actor committed into the counters.
  auto mirror = [&](int, const std::atomic<bool>& stop, writer_counters& wc) {
    while (!stop) {
      wc.txns = gauge->commits();
      wc.samples = gauge->committed_samples();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  run_options ro = o;
  ro.writers = 1;
  nlohmann::json params = {{"interval_ms", interval_ms},
                           {"offered_samples_per_s", o.writers * o.metrics * 1000 / interval_ms},
                           {"pollers", o.writers}, {"db", o.db}};
  const int64_t rows0 = gauge->committed_rows();
  auto r = run("edgemes", ro, make_reader, mirror, params);
  r.params["writers"] = o.writers;
  r.extra["dropped_samples"] = gauge->dropped_samples();
  r.extra["committed_rows"] = gauge->committed_rows() - rows0;
  r.extra["http_threads"] = as.http_threads;
  r.extra["query_workers"] = cores;

  http.stop();
  stop_actors(sys, pollers, writer, *queries);
  std::printf("%s\n", r.json().dump().c_str());
  return r.reader_errors > 0 ? 1 : 0;
}

} // namespace edgemes::bench::seed
