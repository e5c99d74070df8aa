#include "daemon/run.hpp"

#include "daemon/settings.hpp"
#include "daemon/sources.hpp"

#include "actors/ingest.hpp"
#include "actors/poller.hpp"
#include "actors/query.hpp"
#include "actors/writer.hpp"
#include "adapters/adapter.hpp"
#include "adapters/blocking_pool.hpp"
#include "adapters/sim_model.hpp"
#include "api/server.hpp"
#include "log/log.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <csignal>
#include <thread>

#ifndef EDGEMES_VERSION
#define EDGEMES_VERSION "0.0.0"
#endif

namespace edgemes::daemon {

namespace {

void wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  log::info("edgemes", std::string{"received "} + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                           ", stopping");
}

} // namespace

int run(config::config cfg, const std::string& origin, const run_overrides& overrides) {
  resolve_defaults(cfg);
  if (overrides.port)
    cfg.api.port = *overrides.port;
  if (overrides.db_path)
    cfg.database.path = *overrides.db_path;
  if (overrides.bind)
    cfg.api.bind = *overrides.bind;

  std::vector<machine_plan> plans;
  if (auto problems = build_sources(cfg, plans); !problems.empty()) {
    for (const auto& p : problems)
      log::error("edgemes", p.message);
    return 1;
  }

  // Bounds the page caches of all connections together: with the writer's
  // 64 000 KiB cache full the daemon passed 100 MiB of RSS on a long run
  // (docs/BENCHMARKS.md, "RSS over a long run").
  storage::set_sqlite_heap_limit(cfg.database.memory_limit_kib * 1024);

  // The writer connection first: it creates the file and the WAL.
  auto opts = storage_options(cfg.database);
  std::unique_ptr<storage::writer> db;
  std::map<std::string, storage::machine_binding> bindings;
  try {
    storage::layout_options layout = layout_options(cfg.database);
    layout.before_migration = [&](int from, int to) {
      log::info("edgemes", "migrating " + cfg.database.path + " from schema version " +
                               std::to_string(from) + " to " + std::to_string(to) +
                               ": the stored telemetry is rewritten once, in one transaction "
                               "(interrupting it leaves the file at version " +
                               std::to_string(from) + ")");
    };
    db = storage::writer::open(cfg.database.path, opts, layout);
    std::vector<storage::line_def> lines;
    std::vector<storage::machine_def> machines;
    for (const auto& line : cfg.lines) {
      lines.push_back({line.id, line.name});
      for (const auto& m : line.machines) {
        storage::machine_def def{m.id, m.name, line.id, m.type, m.source.adapter, {}};
        for (const auto& metric : m.metrics)
          def.metric_names.push_back(metric.first);
        machines.push_back(std::move(def));
      }
    }
    bindings = db->sync_catalog(lines, machines);
  } catch (const storage::db_error& e) {
    log::error("edgemes", "cannot open database " + cfg.database.path + ": " + e.what());
    return 1;
  }

  size_t query_actors = query_actor_count(cfg);
  std::vector<std::unique_ptr<storage::reader>> readers;
  try {
    storage::options read_opts = reader_options(cfg.database);
    for (size_t i = 0; i < query_actors; ++i)
      readers.push_back(storage::reader::open(cfg.database.path, read_opts, db->shared_head()));
  } catch (const storage::db_error& e) {
    log::error("edgemes", "cannot open read-only connection to " + cfg.database.path + ": " +
                              e.what());
    return 1;
  }

  caf::actor_system_config caf_cfg;
  caf_cfg.set("scheduler.max-threads",
              static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  caf_cfg.set("scheduler.max-throughput", static_cast<size_t>(100));
  // Work sharing parks idle workers on a condition variable; the default
  // work stealing polls every 50 us, which was 55 % of an idle daemon's CPU.
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  actors::register_message_types(caf_cfg);
  caf::actor_system sys{caf_cfg};

  auto gauge = std::make_shared<actors::ingest_gauge>(cfg.writer.max_queue);
  auto writer = actors::spawn_writer(sys, std::move(db), writer_settings(cfg), gauge);
  auto queries = std::make_shared<actors::query_pool>(sys, std::move(readers),
                                                      static_cast<size_t>(cfg.api.max_pending));

  size_t http_machines = 0;
  for (const auto& p : plans)
    http_machines += p.source->blocking() ? 1 : 0;
  auto pool = std::make_shared<adapters::blocking_pool>(
      std::min(static_cast<size_t>(cfg.pollers.http_workers), http_machines),
      std::max<size_t>(16, http_machines * 2));

  std::vector<actors::poller_actor> pollers;
  size_t index = 0;
  for (auto& plan : plans) {
    const auto& m = *plan.cfg;
    actors::poller_parts parts;
    parts.settings = poller_settings(cfg, m, index, plans.size());
    parts.binding = bindings.at(m.id);
    parts.source = plan.source;
    parts.extractor = plan.extractor;
    parts.writer = writer;
    parts.gauge = gauge;
    parts.pool = pool;
    pollers.push_back(actors::spawn_poller(sys, std::move(parts)));
    ++index;
  }

  api::server http{queries, gauge, server_settings(cfg, query_actors, EDGEMES_VERSION)};
  std::string bind_error;
  bool serving = http.bind(&bind_error);
  if (serving) {
    http.start();
    log::info("edgemes", "serving http://" + cfg.api.bind + ":" + std::to_string(http.port()) +
                             "/api/v1 — site '" + cfg.site + "', " +
                             std::to_string(plans.size()) + " machines from " + origin +
                             ", database " + cfg.database.path);
    wait_for_signal();
  } else {
    log::error("edgemes", bind_error);
  }

  // Shutdown: HTTP, then pollers (each hands in its poll in flight), then the writer.
  http.stop();
  int64_t longest_poll_ms = 0;
  for (const auto& p : plans)
    longest_poll_ms = std::max(longest_poll_ms, p.cfg->source.timeout_ms);
  {
    caf::scoped_actor self{sys};
    for (auto& p : pollers) {
      self->monitor(p);
      self->send(p, actors::stop_atom::value);
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(longest_poll_ms + 2000);
    size_t down = 0;
    while (down < pollers.size()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      bool timed_out = false;
      self->receive([&](caf::down_msg&) { ++down; }, [&](actors::done_atom) {},
                    caf::after(left) >> [&] { timed_out = true; });
      if (timed_out)
        break;
    }
    if (down < pollers.size()) {
      log::warn("edgemes", std::to_string(pollers.size() - down) +
                               " pollers did not stop in time; abandoning their polls");
      for (auto& p : pollers)
        caf::anon_send_exit(p, caf::exit_reason::kill);
    }
    pool->stop();
    self->request(writer, std::chrono::minutes(5), actors::stop_atom::value)
        .receive(
            [&](actors::writer_totals& t) {
              log::info("edgemes", "writer closed: " + std::to_string(t.samples) +
                                       " samples in " + std::to_string(t.rows) +
                                       " rows committed this run" +
                                       (t.lost_samples > 0
                                            ? ", " + std::to_string(t.lost_samples) +
                                                  " samples could not be committed"
                                            : ""));
            },
            [&](caf::error& err) {
              log::error("edgemes", "writer did not stop cleanly: " + caf::to_string(err));
            });
    queries->stop();
  }
  sys.await_all_actors_done();
  return serving ? 0 : 1;
}

} // namespace edgemes::daemon
