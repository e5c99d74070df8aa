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

// One run: the writer, the batch being filled and the totals so far.
class raw_run {
public:
  raw_run(const raw_options& o, std::unique_ptr<storage::writer> w, recorder& rec)
      : o_(o), w_(std::move(w)), rec_(rec), bindings_(make_catalog(*w_, o)),
        batch_(static_cast<size_t>(o.batch_polls)), next_report_(o.report_every) {
    for (int64_t i = 0; i < o.machines; ++i)
      models_.emplace_back(static_cast<int>(o.metrics), static_cast<uint64_t>(i) + 1);
  }

  // Whole rows only: the run writes the first multiple of --metrics >= --samples.
  void write_all() {
    int64_t generated = 0;
    for (int64_t tick = 0; generated < o_.samples; ++tick) {
      const int64_t ts = first_ts_ms + tick * tick_ms;
      for (int64_t m = 0; m < o_.machines && generated < o_.samples; ++m) {
        generated += o_.metrics;
        add_poll(static_cast<size_t>(m), tick, ts);
        if (used_ == batch_.size())
          commit();
      }
    }
    if (used_ > 0)
      commit();
  }

  // Records the last point if the reports missed it, closes the file and
  // prints the summary.
  void finish() {
    const double elapsed = rec_.elapsed_s();
    if (recorded_ < samples_)
      rec_.record(samples_, rows_, 0);

    auto close_start = std::chrono::steady_clock::now();
    w_->close();
    double close_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - close_start).count();
    rec_.finish(samples_, rows_, elapsed, samples_,
                {{"commits", commits_}, {"compactions", compactions_}, {"duplicates", duplicates_},
                 {"close_s", close_s}});
  }

private:
  // Machine m's poll of `tick` into the batch, and its status when --statuses.
  void add_poll(size_t m, int64_t tick, int64_t ts) {
    const auto& b = bindings_[m];
    models_[m].next(values_);
    auto& row = batch_[used_++];
    row.machine_id = b.machine_id;
    row.ts_ms = ts;
    row.values.assign(values_.size(), 0.0);
    for (size_t k = 0; k < values_.size(); ++k)
      row.values[static_cast<size_t>(b.slots[k])] = values_[k];
    if (o_.statuses) {
      storage::status_row s;
      s.machine_id = b.machine_id;
      s.status = "online";
      s.last_poll_ms = s.last_ok_ms = ts;
      s.polls_ok = tick + 1;
      latest_[b.machine_id] = std::move(s);
    }
  }

  void commit() {
    batch_.resize(used_);
    for (auto& kv : latest_)
      statuses_.push_back(std::move(kv.second));
    latest_.clear();
    auto st = w_->commit(batch_, {}, statuses_);
    // The layout's whole cost: windows move into chunks as the writer actor
    // moves them (storage/compaction.cpp), on the same thread.
    if (w_->compaction_due()) {
      w_->compact();
      ++compactions_;
    }
    batch_.resize(static_cast<size_t>(o_.batch_polls));
    used_ = 0;
    statuses_.clear();
    samples_ += st.samples;
    rows_ += st.rows;
    duplicates_ += st.duplicates;
    ++commits_;
    if (samples_ >= next_report_) {
      rec_.record(samples_, rows_, 0);
      recorded_ = samples_;
      while (next_report_ <= samples_)
        next_report_ += o_.report_every;
    }
  }

  const raw_options& o_;
  std::unique_ptr<storage::writer> w_;
  recorder& rec_;
  std::vector<storage::machine_binding> bindings_;
  std::vector<value_model> models_;
  std::vector<storage::poll_row> batch_;
  size_t used_ = 0;                                 // polls in batch_
  std::map<int64_t, storage::status_row> latest_;   // per machine, as the writer actor sends them
  std::vector<storage::status_row> statuses_;
  std::vector<double> values_;
  int64_t samples_ = 0, rows_ = 0, duplicates_ = 0, commits_ = 0, compactions_ = 0;
  int64_t next_report_;
  int64_t recorded_ = 0;  // samples in the last point
};

} // namespace

int run_raw(const raw_options& o) {
  nlohmann::json params = {{"machines", o.machines},         {"metrics", o.metrics},
                           {"samples", o.samples},           {"batch_polls", o.batch_polls},
                           {"report_every", o.report_every}, {"statuses", o.statuses}};
  try {
    remove_database(o.db);
    auto w = storage::writer::open(o.db, storage::options{});
    recorder rec("ingest-raw", o.db, o.json, params);
    raw_run run(o, std::move(w), rec);
    rec.start();
    run.write_all();
    run.finish();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-bench ingest-raw: %s\n", e.what());
    return 1;
  }
}

} // namespace edgemes::bench
