// tools/bench/pipeline: ingest-pipeline, the daemon's ingest path in-process.
//
// Wiring and shutdown follow daemon/run.cpp: writer connection first, catalog,
// CAF system (scheduler threads = max(2, cores), max-throughput 100), writer
// actor, one poller per machine with first polls spread over one interval;
// at the end pollers are stopped (each hands in its poll in flight), then the
// writer commits what it holds, checkpoints and closes.
//
// The main thread only watches actors::ingest_gauge (committed, dropped,
// held samples) every few milliseconds; a run that commits nothing for
// stall_s seconds fails with the writer's last error.
#include "tools/bench/bench.hpp"
#include "tools/bench/load.hpp"
#include "tools/bench/progress.hpp"

#include "actors/ingest.hpp"
#include "actors/poller.hpp"
#include "actors/writer.hpp"
#include "adapters/adapter.hpp"
#include "adapters/blocking_pool.hpp"
#include "adapters/sim_model.hpp"
#include "storage/writer.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <thread>

namespace edgemes::bench {

namespace {

constexpr double stall_s = 30;

struct machine {
  std::string ident;
  std::string type;
  std::vector<std::pair<std::string, std::string>> metrics;  // (name, pointer)
  std::shared_ptr<adapters::source> source;
};

std::vector<machine> make_machines(const pipeline_options& o) {
  std::vector<machine> out;
  const auto& types = adapters::sim_types();
  for (int64_t i = 0; i < o.machines; ++i) {
    machine m;
    m.ident = "bench-m" + std::to_string(i);
    auto seed = static_cast<uint64_t>(i) + 1;
    if (o.source == "sim") {
      m.type = types[static_cast<size_t>(i) % types.size()];
      m.metrics = adapters::sim_standard_metrics(m.type);
      m.source =
          adapters::make_sim(m.ident, m.type, seed, adapters::extractor(m.metrics, "/state"));
    } else {
      m.type = "synthetic";
      m.metrics = synthetic_metrics(static_cast<int>(o.metrics));
      m.source = make_synthetic_source(static_cast<int>(o.metrics), seed);
    }
    out.push_back(std::move(m));
  }
  return out;
}

// Stops every poller (waiting for its poll in flight), then the writer.
actors::writer_totals stop_all(caf::actor_system& sys, std::vector<actors::poller_actor>& pollers,
                               actors::writer_actor& writer) {
  caf::scoped_actor self{sys};
  for (auto& p : pollers) {
    self->monitor(p);
    self->send(p, actors::stop_atom::value);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  size_t down = 0;
  while (down < pollers.size()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    bool timed_out = left.count() <= 0;
    if (!timed_out)
      self->receive([&](caf::down_msg&) { ++down; }, [&](actors::done_atom) {},
                    caf::after(left) >> [&] { timed_out = true; });
    if (timed_out) {
      std::fprintf(stderr, "edgemes-bench: %zu pollers did not stop in time\n",
                   pollers.size() - down);
      for (auto& p : pollers)
        caf::anon_send_exit(p, caf::exit_reason::kill);
      break;
    }
  }
  actors::writer_totals totals;
  self->request(writer, std::chrono::minutes(5), actors::stop_atom::value)
      .receive([&](actors::writer_totals& t) { totals = t; },
               [&](caf::error& err) {
                 std::fprintf(stderr, "edgemes-bench: writer did not stop cleanly: %s\n",
                              caf::to_string(err).c_str());
               });
  return totals;
}

// The run's parameters as the report lists them.
nlohmann::json run_params(const pipeline_options& o, size_t threads) {
  nlohmann::json params = {{"machines", o.machines},     {"source", o.source},
                           {"samples", o.samples},       {"interval_ms", o.interval_ms},
                           {"max_batch", o.max_batch},   {"flush_ms", o.flush_ms},
                           {"max_queue", o.max_queue},   {"report_every", o.report_every},
                           {"threads", threads},         {"scheduler", o.scheduler}};
  if (o.source == "synthetic")
    params["metrics"] = o.metrics;
  return params;
}

// The file with its catalog: the writer connection and each machine's binding.
struct catalog {
  std::unique_ptr<storage::writer> db;
  std::map<std::string, storage::machine_binding> bindings;
};

// A fresh file at o.db with one catalog entry per machine.
catalog open_catalog(const pipeline_options& o, const std::vector<machine>& machines,
                     const storage::options& opts) {
  catalog c;
  remove_database(o.db);
  c.db = storage::writer::open(o.db, opts);
  std::vector<storage::machine_def> defs;
  for (const auto& m : machines) {
    storage::machine_def d{m.ident, m.ident, "bench", m.type, o.source, {}};
    for (const auto& metric : m.metrics)
      d.metric_names.push_back(metric.first);
    defs.push_back(std::move(d));
  }
  c.bindings = c.db->sync_catalog({{"bench", "benchmark line"}}, defs);
  return c;
}

// One poller per machine, first polls spread over one interval.
std::vector<actors::poller_actor> spawn_pollers(
    caf::actor_system& sys, const pipeline_options& o, const std::vector<machine>& machines,
    const std::map<std::string, storage::machine_binding>& bindings,
    const actors::writer_actor& writer, const std::shared_ptr<actors::ingest_gauge>& gauge,
    const std::shared_ptr<adapters::blocking_pool>& pool) {
  std::vector<actors::poller_actor> pollers;
  for (size_t i = 0; i < machines.size(); ++i) {
    auto& m = machines[i];
    actors::poller_parts parts;
    parts.settings.ident = m.ident;
    parts.settings.interval_ms = o.interval_ms;
    parts.settings.start_delay_ms =
        static_cast<int64_t>(i * static_cast<size_t>(o.interval_ms) / machines.size());
    parts.binding = bindings.at(m.ident);
    parts.source = m.source;
    parts.writer = writer;
    parts.gauge = gauge;
    parts.pool = pool;
    pollers.push_back(actors::spawn_poller(sys, std::move(parts)));
  }
  return pollers;
}

// Watches the gauge, recording a point every report_every samples, until
// o.samples are committed (true) or nothing was committed for stall_s (false).
bool watch(const pipeline_options& o, const actors::ingest_gauge& gauge, recorder& rec) {
  int64_t next_report = o.report_every;
  int64_t last_committed = 0;
  double last_progress_s = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const int64_t committed = gauge.committed_samples();
    const double now = rec.elapsed_s();
    if (committed != last_committed) {
      last_committed = committed;
      last_progress_s = now;
    } else if (now - last_progress_s > stall_s) {
      return false;
    }
    if (committed >= next_report) {
      rec.record(committed, gauge.committed_rows(), gauge.dropped_samples());
      while (next_report <= committed)
        next_report += o.report_every;
    }
    if (committed >= o.samples)
      return true;
  }
}

} // namespace

int run_pipeline(const pipeline_options& o) {
  if (o.source != "synthetic" && o.source != "sim") {
    std::fprintf(stderr, "edgemes-bench ingest-pipeline: --source must be synthetic or sim, not '%s'\n",
                 o.source.c_str());
    return 2;
  }
  const size_t threads =
      o.threads > 0 ? static_cast<size_t>(o.threads)
                    : static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency()));
  nlohmann::json params = run_params(o, threads);

  std::vector<machine> machines;
  catalog cat;
  try {
    machines = make_machines(o);
    storage::options opts;  // the daemon's defaults
    cat = open_catalog(o, machines, opts);
    params["wal_restart_bytes"] = std::max<int64_t>(opts.journal_size_limit_bytes, 4 << 20);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-bench ingest-pipeline: %s\n", e.what());
    return 1;
  }

  caf::actor_system_config caf_cfg;
  caf_cfg.set("scheduler.max-threads", threads);
  caf_cfg.set("scheduler.max-throughput", static_cast<size_t>(100));
  // The daemon's policy by default (daemon/run.cpp: sharing parks idle
  // workers instead of letting them poll for work to steal).
  caf_cfg.set("scheduler.policy", caf::atom_from_string(o.scheduler));
  actors::register_message_types(caf_cfg);
  caf::actor_system sys{caf_cfg};

  auto gauge = std::make_shared<actors::ingest_gauge>(o.max_queue);
  actors::writer_settings ws;
  ws.max_batch = o.max_batch;
  ws.flush_interval_ms = o.flush_ms;
  ws.wal_restart_bytes = params["wal_restart_bytes"].get<int64_t>();
  auto writer = actors::spawn_writer(sys, std::move(cat.db), ws, gauge);
  // In-process sources never block: the pool has no thread, as in the daemon.
  auto pool = std::make_shared<adapters::blocking_pool>(0, 16);

  recorder rec("ingest-pipeline", o.db, o.json, params);
  rec.start();
  auto pollers = spawn_pollers(sys, o, machines, cat.bindings, writer, gauge, pool);
  const bool stalled = !watch(o, *gauge, rec);

  const double elapsed = rec.elapsed_s();
  const int64_t committed = gauge->committed_samples();
  const int64_t rows = gauge->committed_rows();
  const int64_t offered = committed + gauge->held_samples() + gauge->dropped_samples();
  nlohmann::json summary = {{"dropped_samples", gauge->dropped_samples()},
                            {"dropped_reports", gauge->dropped_reports()},
                            {"duplicates", gauge->duplicates()},
                            {"commits", gauge->commits()},
                            {"held_samples_at_end", gauge->held_samples()},
                            {"offered_samples_per_s", elapsed > 0 ? offered / elapsed : 0.0},
                            {"rss_kib_at_end", rss_kib()},
                            {"cpu_s_by_thread", cpu_s_by_thread()}};

  auto stop_start = std::chrono::steady_clock::now();
  auto totals = stop_all(sys, pollers, writer);
  pool->stop();
  summary["stop_s"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stop_start).count();
  summary["lost_samples"] = totals.lost_samples;
  if (stalled) {
    std::fprintf(stderr,
                 "edgemes-bench ingest-pipeline: nothing committed for %.0f s (writer error: %s)\n",
                 stall_s, gauge->writer_error().c_str());
    return 1;
  }
  // The rate is what was committed by the time the target was reached; the
  // samples still held then are committed during the stop and not counted.
  rec.finish(committed, rows, elapsed, totals.samples, summary);
  return 0;
}

} // namespace edgemes::bench
