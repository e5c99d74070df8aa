// tools/bench/raw: ingest-raw, storage::writer driven from one thread.
//
// Time advances in ticks of 1000 ms; in each tick every machine polls once,
// so rows of one machine append at the end of its key range, as in the
// daemon. Batches hold --batch-polls polls whatever tick they belong to.
#include "tools/bench/bench.hpp"
#include "tools/bench/load.hpp"
#include "tools/bench/progress.hpp"

#include "storage/writer.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <exception>

namespace edgemes::bench {

namespace {

constexpr int64_t first_ts_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t tick_ms = 1000;

std::vector<storage::machine_binding> make_catalog(storage::writer& w, const raw_options& o) {
  std::vector<storage::machine_def> defs;
  std::vector<std::string> names;
  for (const auto& m : synthetic_metrics(static_cast<int>(o.metrics)))
    names.push_back(m.first);
  for (int64_t i = 0; i < o.machines; ++i) {
    std::string ident = "bench-m" + std::to_string(i);
    defs.push_back({ident, ident, "bench", "synthetic", "synthetic", names});
  }
  auto bound = w.sync_catalog({{"bench", "benchmark line"}}, defs);
  std::vector<storage::machine_binding> out;
  for (const auto& d : defs)
    out.push_back(bound.at(d.ident));
  return out;
}

} // namespace

int run_raw(const raw_options& o) {
  nlohmann::json params = {{"machines", o.machines},         {"metrics", o.metrics},
                           {"samples", o.samples},           {"batch_polls", o.batch_polls},
                           {"report_every", o.report_every}, {"statuses", o.statuses}};
  try {
    remove_database(o.db);
    auto w = storage::writer::open(o.db, storage::options{});
    auto bindings = make_catalog(*w, o);

    std::vector<value_model> models;
    for (int64_t i = 0; i < o.machines; ++i)
      models.emplace_back(static_cast<int>(o.metrics), static_cast<uint64_t>(i) + 1);

    std::vector<storage::poll_row> batch(static_cast<size_t>(o.batch_polls));
    std::map<int64_t, storage::status_row> latest;  // per machine, as the writer actor sends them
    std::vector<storage::status_row> statuses;
    std::vector<double> values;
    recorder rec("ingest-raw", o.db, o.json, params);
    rec.start();

    int64_t samples = 0, rows = 0, duplicates = 0, commits = 0, compactions = 0;
    int64_t next_report = o.report_every;
    int64_t recorded = 0;  // samples in the last point
    size_t used = 0;
    auto commit = [&] {
      batch.resize(used);
      for (auto& kv : latest)
        statuses.push_back(std::move(kv.second));
      latest.clear();
      auto st = w->commit(batch, {}, statuses);
      // The layout's whole cost: windows move into chunks as the writer actor
      // moves them (storage/compaction.cpp), on the same thread.
      if (w->compaction_due()) {
        w->compact();
        ++compactions;
      }
      batch.resize(static_cast<size_t>(o.batch_polls));
      used = 0;
      statuses.clear();
      samples += st.samples;
      rows += st.rows;
      duplicates += st.duplicates;
      ++commits;
      if (samples >= next_report) {
        rec.record(samples, rows, 0);
        recorded = samples;
        while (next_report <= samples)
          next_report += o.report_every;
      }
    };

    // Whole rows only: the run writes the first multiple of --metrics >= --samples.
    int64_t generated = 0;
    for (int64_t tick = 0; generated < o.samples; ++tick) {
      const int64_t ts = first_ts_ms + tick * tick_ms;
      for (int64_t m = 0; m < o.machines && generated < o.samples; ++m) {
        generated += o.metrics;
        const auto& b = bindings[static_cast<size_t>(m)];
        models[static_cast<size_t>(m)].next(values);
        auto& row = batch[used++];
        row.machine_id = b.machine_id;
        row.ts_ms = ts;
        row.values.assign(values.size(), 0.0);
        for (size_t k = 0; k < values.size(); ++k)
          row.values[static_cast<size_t>(b.slots[k])] = values[k];
        if (o.statuses) {
          storage::status_row s;
          s.machine_id = b.machine_id;
          s.status = "online";
          s.last_poll_ms = s.last_ok_ms = ts;
          s.polls_ok = tick + 1;
          latest[b.machine_id] = std::move(s);
        }
        if (used == batch.size())
          commit();
      }
    }
    if (used > 0)
      commit();
    const double elapsed = rec.elapsed_s();
    if (recorded < samples)
      rec.record(samples, rows, 0);

    auto close_start = std::chrono::steady_clock::now();
    w->close();
    double close_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - close_start).count();
    rec.finish(samples, rows, elapsed, samples,
               {{"commits", commits}, {"compactions", compactions}, {"duplicates", duplicates},
                {"close_s", close_s}});
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-bench ingest-raw: %s\n", e.what());
    return 1;
  }
}

} // namespace edgemes::bench
