// tools/bench/seed_run: the harness shared by every system of edgemes-seed,
// and the SQLite prefill (see seed.hpp).
#include "tools/bench/seed.hpp"
#include "tools/bench/load.hpp"
#include "tools/bench/progress.hpp"

#include "api/endpoints.hpp"
#include "storage/codec.hpp"
#include "storage/writer.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

namespace edgemes::bench::seed {

namespace {

using clock_type = std::chrono::steady_clock;

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

// Everyone waits until `expected` threads arrived.
class barrier {
public:
  explicit barrier(size_t expected) : left_(expected) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(m_);
    if (--left_ == 0)
      cv_.notify_all();
    else
      cv_.wait(lock, [&] { return left_ == 0; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  size_t left_;
};

} // namespace

std::string machine_ident(int64_t i) { return "bench-m" + std::to_string(i); }

int64_t read_step_ms(const run_options& o) {
  return o.step_ms > 0 ? o.step_ms : api::endpoints::default_step_ms(2 * window_ms);
}

std::string encode_poll(std::mt19937_64& rng, int64_t metrics) {
  // Same shapes as load.hpp's value_model, without its per-machine state.
  std::vector<double> v(static_cast<size_t>(metrics));
  for (size_t i = 0; i < v.size(); ++i) {
    const double u = static_cast<double>(rng() >> 11) / 9007199254740992.0;
    switch (i % 4) {
    case 0: v[i] = static_cast<double>(10000 + static_cast<int64_t>(u * 90000)); break;
    case 1: v[i] = static_cast<double>(static_cast<int64_t>(2400 + u * 200)) / 10; break;
    case 2: v[i] = 250; break;
    default: v[i] = static_cast<double>(static_cast<int64_t>(u * 1000)) / 1000; break;
    }
  }
  std::string out;
  storage::encode_values(v, out);
  return out;
}

nlohmann::json run_result::json() const {
  std::vector<double> s = latency_ms;
  std::sort(s.begin(), s.end());
  double sum = 0;
  for (double x : s)
    sum += x;
  nlohmann::json j = {{"system", system}, {"params", params}};
  j["reads_ok"] = s.size();
  j["avg_ms"] = s.empty() ? 0 : sum / static_cast<double>(s.size());
  j["p50_ms"] = percentile(s, 0.50);
  j["p95_ms"] = percentile(s, 0.95);
  j["p99_ms"] = percentile(s, 0.99);
  j["max_ms"] = s.empty() ? 0 : s.back();
  j["read_s"] = read_s;
  j["reads_per_s"] = read_s > 0 ? static_cast<double>(s.size()) / read_s : 0;
  j["write_s"] = write_s;
  j["writes_per_s"] = write_s > 0 ? static_cast<double>(txns) / write_s : 0;
  j["write_samples_per_s"] = write_s > 0 ? static_cast<double>(samples) / write_s : 0;
  j["reader_busy"] = reader_busy;
  j["reader_errors"] = reader_errors;
  j["writer_busy"] = writer_busy;
  j["max_txn_ms"] = max_txn_ms;
  j["extra"] = extra;
  return j;
}

run_result run(const std::string& system, const run_options& o, const make_reader_fn& make_reader,
               const writer_fn& writer, nlohmann::json params) {
  params["readers"] = o.readers;
  params["reads"] = o.reads;
  params["writers"] = o.writers;
  params["max_s"] = o.max_s;
  params["step_ms"] = read_step_ms(o);
  run_result r;
  r.system = system;
  r.params = std::move(params);

  std::atomic<bool> stop{false};
  const auto writers_start = clock_type::now();
  std::vector<writer_counters> wc(static_cast<size_t>(o.writers));
  std::vector<std::thread> writers;
  for (int64_t i = 0; i < o.writers; ++i)
    writers.emplace_back([&, i] {
      try {
        writer(static_cast<int>(i), stop, wc[static_cast<size_t>(i)]);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "edgemes-seed: writer %lld: %s\n", static_cast<long long>(i), e.what());
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // writers warm up

  std::atomic<int64_t> next{0};
  std::mutex m;
  barrier ready(static_cast<size_t>(o.readers) + 1);
  std::vector<std::thread> readers;
  for (int64_t t = 0; t < o.readers; ++t)
    readers.emplace_back([&, t] {
      read_fn read;
      try {
        read = make_reader(static_cast<int>(t));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "edgemes-seed: reader %lld: %s\n", static_cast<long long>(t), e.what());
      }
      std::mt19937_64 rng(o.seed * 7919 + static_cast<uint64_t>(t));
      std::vector<double> lat;
      reader_counters c;
      ready.arrive_and_wait();
      const auto deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                      std::chrono::duration<double>(o.max_s));
      while (read && next.fetch_add(1) < o.reads && clock_type::now() < deadline) {
        auto t0 = clock_type::now();
        const int64_t errors = c.errors;
        read(rng, c);
        if (c.errors == errors)
          lat.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
      }
      std::lock_guard<std::mutex> lock(m);
      r.latency_ms.insert(r.latency_ms.end(), lat.begin(), lat.end());
      r.reader_busy += c.busy;
      r.reader_errors += c.errors;
    });

  auto snapshot = [&](int64_t& txns, int64_t& samples) {
    txns = samples = 0;
    for (auto& c : wc) {
      txns += c.txns.load();
      samples += c.samples.load();
    }
  };
  int64_t txns0, samples0, txns1, samples1;
  ready.arrive_and_wait();
  snapshot(txns0, samples0);
  const auto t0 = clock_type::now();
  for (auto& t : readers)
    t.join();
  r.read_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  snapshot(txns1, samples1);
  // edgemes commits every 200 ms: a reading phase of 0.1 s may hold no commit,
  // so writes/s is counted from the writers' start (1 s warm-up included) to
  // the end of the reading phase; the reading phase alone goes into extra.
  r.write_s = std::chrono::duration<double>(clock_type::now() - writers_start).count();
  stop = true;
  for (auto& t : writers)
    t.join();
  r.txns = txns1;
  r.samples = samples1;
  r.extra["read_phase_write_samples"] = samples1 - samples0;
  for (auto& c : wc) {
    r.writer_busy += c.busy.load();
    r.max_txn_ms = std::max(r.max_txn_ms, static_cast<double>(c.max_txn_us.load()) / 1000);
  }
  return r;
}

int prefill(const std::string& db, const dataset& d) {
  try {
    remove_database(db);
    auto w = storage::writer::open(db, storage::options{});
    std::vector<storage::machine_def> defs;
    std::vector<std::string> names;
    for (const auto& m : synthetic_metrics(static_cast<int>(d.metrics)))
      names.push_back(m.first);
    for (int64_t i = 0; i < d.machines; ++i)
      defs.push_back({machine_ident(i), machine_ident(i), "bench", "synthetic", "synthetic", names});
    auto bound = w->sync_catalog({{"bench", "benchmark line"}}, defs);
    std::vector<int64_t> ids;
    for (const auto& def : defs)
      ids.push_back(bound.at(def.ident).machine_id);

    std::vector<value_model> models;
    for (int64_t i = 0; i < d.machines; ++i)
      models.emplace_back(static_cast<int>(d.metrics), static_cast<uint64_t>(i) + 1);
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
    const int64_t first = (now_ms / 1000 - d.ticks) * 1000;
    std::vector<storage::poll_row> batch;
    int64_t samples = 0;
    for (int64_t t = 0; t < d.ticks; ++t) {
      for (int64_t i = 0; i < d.machines; ++i) {
        storage::poll_row row;
        row.machine_id = ids[static_cast<size_t>(i)];
        row.ts_ms = first + t * 1000;
        models[static_cast<size_t>(i)].next(row.values);
        batch.push_back(std::move(row));
      }
      if (batch.size() >= 1000 || t + 1 == d.ticks) {
        samples += w->commit(batch, {}, {}).samples;
        batch.clear();
      }
    }
    w->checkpoint(storage::checkpoint_mode::truncate);
    w->close();
    nlohmann::json j = {{"prefill", db},         {"machines", d.machines},
                        {"metrics", d.metrics},  {"ticks", d.ticks},
                        {"rows", d.machines * d.ticks}, {"samples", samples},
                        {"first_ts", first},     {"last_ts", first + (d.ticks - 1) * 1000},
                        {"bytes", file_bytes(db)}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed prefill: %s\n", e.what());
    return 1;
  }
}

} // namespace edgemes::bench::seed
