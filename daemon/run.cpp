// daemon/run: see the header. run() is the order; each step below is one
// stage of it and logs its own failure.
#include "daemon/run.hpp"

#include "daemon/mqtt.hpp"
#include "daemon/settings.hpp"
#include "daemon/sources.hpp"

#include "actors/ingest.hpp"
#include "actors/poller.hpp"
#include "actors/query.hpp"
#include "actors/writer.hpp"
#include "adapters/adapter.hpp"
#include "adapters/blocking_pool.hpp"
#include "api/server.hpp"
#include "log/log.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <optional>
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

// The writer connection: creates the file, the WAL and the schema (migrating
// an older file), then upserts the configured lines and machines.
struct opened_store {
  std::unique_ptr<storage::writer> db;
  std::map<std::string, storage::machine_binding> bindings;
};

std::optional<opened_store> open_store(const config::config& cfg) {
  try {
    storage::layout_options layout = layout_options(cfg.database);
    layout.before_migration = [&](int from, int to) {
      log::info("edgemes", "migrating " + cfg.database.path + " from schema version " +
                               std::to_string(from) + " to " + std::to_string(to) +
                               ": the stored telemetry is rewritten once, in one transaction "
                               "(interrupting it leaves the file at version " +
                               std::to_string(from) + ")");
    };
    opened_store s;
    s.db = storage::writer::open(cfg.database.path, storage_options(cfg.database), layout);
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
    s.bindings = s.db->sync_catalog(lines, machines);
    return s;
  } catch (const storage::db_error& e) {
    log::error("edgemes", "cannot open database " + cfg.database.path + ": " + e.what());
    return std::nullopt;
  }
}

// One read-only connection per query worker, opened after the writer's (the
// WAL index must exist), each sharing the writer's head.
bool open_readers(const config::config& cfg, size_t count, const storage::writer& db,
                  std::vector<std::unique_ptr<storage::reader>>& out) {
  try {
    for (size_t i = 0; i < count; ++i)
      out.push_back(
          storage::reader::open(cfg.database.path, reader_options(cfg.database), db.shared_head()));
    return true;
  } catch (const storage::db_error& e) {
    log::error("edgemes", "cannot open read-only connection to " + cfg.database.path + ": " +
                              e.what());
    return false;
  }
}

caf::actor_system_config scheduler_config() {
  caf::actor_system_config c;
  c.set("scheduler.max-threads",
        static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  c.set("scheduler.max-throughput", static_cast<size_t>(100));
  // Work sharing parks idle workers on a condition variable; the default
  // work stealing polls every 50 us, which was 55 % of an idle daemon's CPU.
  c.set("scheduler.policy", caf::atom("sharing"));
  actors::register_message_types(c);
  return c;
}

// Blocking (http_json) polls run on a shared pool, at most one per machine.
std::shared_ptr<adapters::blocking_pool> make_poll_pool(const config::config& cfg,
                                                        const std::vector<machine_plan>& plans) {
  size_t blocking = 0;
  for (const auto& p : plans)
    blocking += p.source && p.source->blocking() ? 1 : 0;
  return std::make_shared<adapters::blocking_pool>(
      std::min(static_cast<size_t>(cfg.pollers.http_workers), blocking),
      std::max<size_t>(16, blocking * 2));
}

struct running {
  std::vector<actors::poller_actor> pollers;
  std::shared_ptr<adapters::blocking_pool> pool;
  actors::writer_actor writer;
  std::shared_ptr<actors::query_pool> queries;
  std::shared_ptr<actors::ingest_gauge> gauge;
  mqtt_running mqtt;  // its machines' actors are in `pollers`
  int64_t longest_poll_ms = 0;
};

// One poller per machine, into r.pollers (r.writer, r.pool, r.gauge already set).
void spawn_pollers(caf::actor_system& sys, const config::config& cfg,
                   const std::vector<machine_plan>& plans, const opened_store& store, running& r) {
  for (size_t index = 0; index < plans.size(); ++index) {
    if (!plans[index].source)
      continue;  // pushed: daemon/mqtt
    const auto& m = *plans[index].cfg;
    actors::poller_parts parts;
    parts.settings = poller_settings(cfg, m, index, plans.size());
    parts.binding = store.bindings.at(m.id);
    parts.source = plans[index].source;
    parts.writer = r.writer;
    parts.gauge = r.gauge;
    parts.pool = r.pool;
    r.pollers.push_back(actors::spawn_poller(sys, std::move(parts)));
    r.longest_poll_ms = std::max(r.longest_poll_ms, m.source.timeout_ms);
  }
}

// Pollers first (each hands in its poll in flight, bounded by the longest
// poll timeout), then the writer (commits what it holds, checkpoints,
// closes), then the query workers.
void stop_all(caf::actor_system& sys, running& r) {
  stop_mqtt(r.mqtt);  // no more messages; what was received is in the actors' mailboxes
  caf::scoped_actor self{sys};
  for (auto& p : r.pollers) {
    self->monitor(p);
    self->send(p, actors::stop_atom::value);
  }
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(r.longest_poll_ms + 2000);
  size_t down = 0;
  while (down < r.pollers.size()) {
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
  if (down < r.pollers.size()) {
    log::warn("edgemes", std::to_string(r.pollers.size() - down) +
                             " pollers did not stop in time; abandoning their polls");
    for (auto& p : r.pollers)
      caf::anon_send_exit(p, caf::exit_reason::kill);
  }
  r.pool->stop();
  self->request(r.writer, std::chrono::minutes(5), actors::stop_atom::value)
      .receive(
          [&](actors::writer_totals& t) {
            const int64_t dups = r.gauge->duplicates();
            log::info("edgemes", "writer closed: " + std::to_string(t.samples) + " samples in " +
                                     std::to_string(t.rows) + " rows committed this run" +
                                     (dups > 0 ? ", " + std::to_string(dups) +
                                                     " duplicate polls not stored (same machine "
                                                     "and timestamp as a stored one)"
                                               : "") +
                                     (t.lost_samples > 0
                                          ? ", " + std::to_string(t.lost_samples) +
                                                " samples could not be committed"
                                          : ""));
          },
          [&](caf::error& err) {
            log::error("edgemes", "writer did not stop cleanly: " + caf::to_string(err));
          });
  r.queries->stop();
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

  auto store = open_store(cfg);
  size_t query_actors = query_actor_count(cfg);
  std::vector<std::unique_ptr<storage::reader>> readers;
  if (!store || !open_readers(cfg, query_actors, *store->db, readers))
    return 1;

  auto caf_cfg = scheduler_config();
  caf::actor_system sys{caf_cfg};
  auto gauge = std::make_shared<actors::ingest_gauge>(cfg.writer.max_queue);
  running r;
  r.gauge = gauge;
  r.writer = actors::spawn_writer(sys, std::move(store->db), writer_settings(cfg), gauge);
  r.queries = std::make_shared<actors::query_pool>(sys, std::move(readers),
                                                   static_cast<size_t>(cfg.api.max_pending));
  r.pool = make_poll_pool(cfg, plans);
  spawn_pollers(sys, cfg, plans, *store, r);
  const bool mqtt_started =
      start_mqtt(sys, cfg, plans, store->bindings, r.writer, gauge, r.pollers, r.mqtt);

  auto settings = server_settings(cfg, query_actors, EDGEMES_VERSION);
  settings.brokers = [&mqtt = r.mqtt] { return broker_statuses(mqtt); };  // http stops first
  api::server http{r.queries, gauge, std::move(settings), r.writer};
  std::string bind_error;
  bool serving = mqtt_started && http.bind(&bind_error);
  if (serving) {
    http.start();
    log::info("edgemes", "serving http://" + cfg.api.bind + ":" + std::to_string(http.port()) +
                             "/api/v1 — site '" + cfg.site + "', " +
                             std::to_string(plans.size()) + " machines from " + origin +
                             ", database " + cfg.database.path);
    wait_for_signal();
  } else if (mqtt_started) {
    log::error("edgemes", bind_error);
  }
  // Shutdown: HTTP first, so no request arrives at a stopping worker.
  http.stop();
  stop_all(sys, r);
  sys.await_all_actors_done();
  return serving ? 0 : 1;
}

} // namespace edgemes::daemon
