// tools/bench/oee_seed: see oee_seed.hpp.
#include "tools/bench/oee_seed.hpp"

#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
#include "clock/clock.hpp"
#include "storage/writer.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

namespace edgemes::bench {

namespace {

class stepped_clock final : public clock::clock_source {
public:
  int64_t wall_ms() const override { return now; }
  int64_t now = 0;
};

// The oee block each sim type gets (ideal cycles near the models' fastest:
// adapters/sim_types.cpp).
nlohmann::json oee_of(const std::string& type) {
  if (type == "placer")
    return {{"ideal_cycle_s", 20}, {"total", "boards_total"}};
  if (type == "printer")
    return {{"ideal_cycle_s", 14}, {"total", "prints_total"}, {"good", "boards_total"}};
  if (type == "reflow")
    return {{"ideal_cycle_s", 10}, {"total", "boards_total"}};
  return {{"ideal_cycle_s", 12}, {"total", "inspected_total"}, {"reject", "defects_total"}};
}

struct sim {
  std::string id;
  std::unique_ptr<adapters::source> src;
  std::optional<std::string> state;
};

int64_t one_int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

// What counter_hours costs in the seeded file: its pages at rest (dbstat)
// per sample, and the bytes one compaction writes for it — every row of the
// current hour rewritten — measured as the WAL bytes of rewriting one whole
// hour's rows in one transaction (x2: the checkpoint copies each page again).
nlohmann::json measure_hours(const std::string& path, int64_t samples, int64_t hours) {
  sqlite3* db = nullptr;
  nlohmann::json out;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
    return out;
  sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0", nullptr, nullptr, nullptr);
  const int64_t rest = one_int(db, "SELECT sum(pgsize) FROM dbstat WHERE name='counter_hours'");
  const int64_t chunks = one_int(db, "SELECT sum(pgsize) FROM dbstat WHERE name='chunks'");
  const int64_t rows = one_int(db, "SELECT count(*) FROM counter_hours");
  const int64_t last = one_int(db, "SELECT max(hour) FROM counter_hours");
  const int64_t hour_rows =
      one_int(db, "SELECT count(*) FROM counter_hours WHERE hour=" + std::to_string(last));
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  std::error_code ec;
  const auto wal0 = std::filesystem::file_size(path + "-wal", ec);
  // A real change (SQLite skips writing a row that comes out byte-identical),
  // undone right after, so the file stays as seeded.
  const std::string where = " WHERE hour=" + std::to_string(last);
  sqlite3_exec(db, ("UPDATE counter_hours SET last_ts = last_ts + 1" + where).c_str(), nullptr,
               nullptr, nullptr);
  const auto wal1 = std::filesystem::file_size(path + "-wal", ec);
  sqlite3_exec(db, ("UPDATE counter_hours SET last_ts = last_ts - 1" + where).c_str(), nullptr,
               nullptr, nullptr);
  sqlite3_close(db);
  const double per_hour = static_cast<double>(samples) / static_cast<double>(hours);
  out = {{"rows", rows},
         {"bytes_at_rest", rest},
         {"bytes_at_rest_per_sample", static_cast<double>(rest) / static_cast<double>(samples)},
         {"chunks_bytes_per_sample", static_cast<double>(chunks) / static_cast<double>(samples)},
         {"rows_of_one_hour", hour_rows},
         {"wal_bytes_rewriting_one_hour", static_cast<int64_t>(wal1 - wal0)},
         {"samples_per_hour", per_hour}};
  return out;
}

} // namespace

int run_oee_seed(const oee_seed_options& o) {
  using namespace std::chrono;
  const auto started = steady_clock::now();
  constexpr int64_t hour = 3600 * 1000;
  const int64_t to = (duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() /
                      hour) * hour;
  const int64_t from = to - o.hours * hour;

  std::vector<storage::line_def> lines;
  std::vector<storage::machine_def> defs;
  std::vector<sim> sims;
  nlohmann::json cfg_lines = nlohmann::json::array();
  const auto& types = adapters::sim_types();
  for (int64_t l = 0; l < o.lines; ++l) {
    const std::string line = "line" + std::to_string(l);
    lines.push_back({line, line});
    cfg_lines.push_back({{"id", line}, {"machines", nlohmann::json::array()}});
  }
  for (int64_t i = 0; i < o.machines; ++i) {
    char id[24];
    std::snprintf(id, sizeof id, "m%04lld", static_cast<long long>(i));
    const std::string& type = types[static_cast<size_t>(i) % types.size()];
    const auto line = static_cast<size_t>(i * o.lines / o.machines);
    const auto metrics = adapters::sim_standard_metrics(type);
    storage::machine_def d{id, id, lines[line].ident, type, "sim", {}};
    for (const auto& m : metrics)
      d.metric_names.push_back(m.first);
    defs.push_back(d);
    adapters::extractor ex(metrics, "/state");
    sims.push_back({id, adapters::make_sim(id, type, static_cast<uint64_t>(i) + 1, ex), {}});
    cfg_lines[line]["machines"].push_back({{"id", id},
                                           {"type", type},
                                           {"poll_interval_ms", o.interval_ms},
                                           {"source", {{"adapter", "sim"}}},
                                           {"oee", oee_of(type)}});
  }
  nlohmann::json cfg = {{"site", "bench-oee"},
                        {"database", {{"path", o.db}}},
                        {"api", {{"bind", "127.0.0.1"}, {"port", o.port}}},
                        {"lines", cfg_lines}};
  std::ofstream(o.config_out) << cfg.dump(2) << "\n";

  std::filesystem::remove(o.db);
  std::filesystem::remove(o.db + "-wal");
  std::filesystem::remove(o.db + "-shm");
  auto w = storage::writer::open(o.db, storage::options{});
  auto bind = w->sync_catalog(lines, defs);
  stepped_clock clk;
  clock::install(&clk);
  int64_t polls = 0, samples = 0;
  std::vector<storage::poll_row> batch;
  std::vector<storage::state_row> states;
  for (int64_t t = from; t < to; t += o.interval_ms) {
    for (size_t i = 0; i < sims.size(); ++i) {
      clk.now = t + static_cast<int64_t>(i) * o.interval_ms / o.machines;  // spread as pollers are
      adapters::reading r = sims[i].src->poll();
      const int64_t machine = bind.at(sims[i].id).machine_id;
      if (r.state && r.state != sims[i].state) {
        states.push_back({machine, clk.now, *r.state});
        sims[i].state = r.state;
      }
      for (double v : r.values)
        samples += std::isnan(v) ? 0 : 1;
      batch.emplace_back(machine, clk.now, std::move(r.values));
      ++polls;
    }
    if ((t - from) % 500 == 0 || t + o.interval_ms >= to) {
      w->commit(batch, states, {});
      batch.clear();
      states.clear();
      if (w->compaction_due())
        w->compact();
    }
  }
  w->compact(true);
  w->close();
  clock::install(nullptr);
  const double secs = duration<double>(steady_clock::now() - started).count();
  nlohmann::json out = {{"from", from}, {"to", to},   {"machines", o.machines},
                        {"polls", polls}, {"samples", samples}, {"seconds", secs}};
  out["counter_hours"] = measure_hours(o.db, samples, o.hours);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

} // namespace edgemes::bench
