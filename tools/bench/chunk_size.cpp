// tools/bench/chunk_size: see chunk_size.hpp.
//
// A column's cost is measured without looking inside the format: the chunk
// is encoded once with no slot (header + timestamps) and once per slot with
// that slot alone; the difference is the slot's length varint and body,
// exactly what it adds to the full chunk. In a log batch, a machine with one
// poll is a poll record (storage/log_batch.hpp), a value's cost is then the
// record of that value alone; with several polls it is a chunk, as above.
#include "tools/bench/chunk_size.hpp"
#include "tools/bench/load.hpp"

#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
#include "storage/chunk.hpp"
#include "storage/log_batch.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>

namespace edgemes::bench {

namespace {

constexpr int64_t first_ts_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z, a multiple of any window in whole minutes

// One simulated machine: its metric names and how to get a poll's values.
struct machine {
  std::vector<std::string> names;
  std::unique_ptr<adapters::sim_machine> sim;
  std::unique_ptr<adapters::extractor> extract;
  std::unique_ptr<value_model> synthetic;
  int64_t phase_ms = 0;

  // Current window's polls.
  int64_t window = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> ts;
  std::vector<double> values;  // [i * names.size() + s]

  void poll(int64_t now_ms, std::vector<double>& out) {
    if (sim)
      out = extract->apply(sim->reply(now_ms)).values;
    else
      synthetic->next(out);
  }
};

struct cost {
  int64_t samples = 0;
  int64_t bytes = 0;
};

nlohmann::json per_sample(const cost& c) {
  return {{"samples", c.samples},
          {"bytes", c.bytes},
          {"bytes_per_sample", c.samples > 0 ? static_cast<double>(c.bytes) / c.samples : 0.0}};
}

// Totals of one encoding (history chunks or log batches).
struct tally {
  int64_t units = 0;          // chunks or batches
  int64_t bytes = 0;
  int64_t samples = 0;
  int64_t fixed_bytes = 0;    // everything but the columns: headers, timestamps, directory
  std::map<std::string, cost> metrics;

  nlohmann::json json(int64_t polls, const char* unit, const char* fixed_name) const {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& kv : metrics)
      m[kv.first] = per_sample(kv.second);
    return {{unit, units},
            {"bytes", bytes},
            {"samples", samples},
            {"bytes_per_sample", samples > 0 ? static_cast<double>(bytes) / samples : 0.0},
            {fixed_name, fixed_bytes},
            {std::string(fixed_name) + "_share", bytes > 0 ? static_cast<double>(fixed_bytes) / bytes : 0.0},
            {"fixed_bytes_per_poll", polls > 0 ? static_cast<double>(fixed_bytes) / polls : 0.0},
            {"metrics", m}};
  }
};

// Encodes one machine's polls as a chunk; adds its column costs to `t`
// and returns the chunk's bytes (without appending them anywhere).
size_t encode_measured(const std::vector<std::string>& names, const std::vector<int64_t>& ts,
                       const std::vector<double>& values, int64_t base, tally& t, std::string& out,
                       std::vector<double>& column) {
  const size_t n = ts.size(), nslots = names.size();
  const size_t start = out.size();
  storage::chunk::encode(ts.data(), values.data(), n, nslots, out, base);
  const size_t total = out.size() - start;
  std::string probe;
  storage::chunk::encode(ts.data(), nullptr, n, 0, probe, base);
  const size_t fixed = probe.size();
  t.fixed_bytes += static_cast<int64_t>(fixed);
  for (size_t s = 0; s < nslots; ++s) {
    column.resize(n);
    int64_t present = 0;
    for (size_t i = 0; i < n; ++i) {
      column[i] = values[i * nslots + s];
      present += std::isfinite(column[i]) ? 1 : 0;
    }
    probe.clear();
    storage::chunk::encode(ts.data(), column.data(), n, 1, probe, base);
    cost& c = t.metrics[names[s]];
    c.bytes += static_cast<int64_t>(probe.size() - fixed);
    c.samples += present;
    t.samples += present;
  }
  return total;
}

std::vector<machine> make_machines(const chunk_size_options& o) {
  std::vector<machine> out(static_cast<size_t>(o.machines));
  const auto& types = adapters::sim_types();
  for (int64_t i = 0; i < o.machines; ++i) {
    machine& m = out[static_cast<size_t>(i)];
    const auto seed = static_cast<uint64_t>(i) + 1;
    std::vector<std::pair<std::string, std::string>> metrics;
    if (o.source == "sim") {
      const std::string& type = types[static_cast<size_t>(i) % types.size()];
      metrics = adapters::sim_standard_metrics(type);
      m.sim = std::make_unique<adapters::sim_machine>("bench-m" + std::to_string(i), type, seed);
      m.extract = std::make_unique<adapters::extractor>(metrics, "/state");
    } else {
      metrics = synthetic_metrics(static_cast<int>(o.metrics));
      m.synthetic = std::make_unique<value_model>(static_cast<int>(o.metrics), seed);
    }
    for (const auto& p : metrics)
      m.names.push_back(p.first);
    // First polls spread over one interval, as the daemon starts its pollers.
    m.phase_ms = i * o.interval_ms / o.machines;
  }
  return out;
}

// splitmix64, for the timestamp jitter.
struct jitter_source {
  uint64_t state = 0x2545F4914F6CDD1DULL;
  int64_t next(int64_t range) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return range > 0 ? static_cast<int64_t>(z % static_cast<uint64_t>(2 * range + 1)) - range : 0;
  }
};

// A poll waiting for its log batch.
struct logged_poll {
  int64_t machine;
  int64_t ts;
  std::vector<double> values;
};

int measure(const chunk_size_options& o) {
  const auto t_start = std::chrono::steady_clock::now();
  auto machines = make_machines(o);
  const int64_t window_ms = o.window_s * 1000;
  const int64_t ticks = o.minutes * 60000 / o.interval_ms;

  tally history, log;
  int64_t polls = 0;
  std::vector<std::string> chunks, batches;  // kept for the decode measurements
  std::string bytes;
  std::vector<double> column, values;

  auto flush_window = [&](machine& m) {
    if (m.ts.empty())
      return;
    bytes.clear();
    encode_measured(m.names, m.ts, m.values, 0, history, bytes, column);
    history.bytes += static_cast<int64_t>(bytes.size());
    ++history.units;
    chunks.push_back(bytes);
    m.ts.clear();
    m.values.clear();
  };

  // Batches by ts / batch_ms; a batch is encoded once no later tick can add to it.
  std::map<int64_t, std::vector<logged_poll>> pending;
  std::vector<storage::log_batch::poll> batch_polls;
  auto flush_batch = [&](std::vector<logged_poll>& ps) {
    batch_polls.clear();
    for (const auto& p : ps)
      batch_polls.push_back({p.machine, p.ts, &p.values});
    bytes.clear();
    storage::log_batch::encode(batch_polls, bytes);
    log.bytes += static_cast<int64_t>(bytes.size());
    ++log.units;
    // Columns per machine: the same probe as for history, with the batch's base.
    storage::log_batch::view view;
    if (!view.parse(bytes.data(), bytes.size()))
      throw std::runtime_error("a log batch did not parse back");
    int64_t columns = 0;
    std::vector<int64_t> ts;
    std::vector<double> vals;
    std::string probe;
    std::map<int64_t, std::vector<const logged_poll*>> by_machine;  // each in ts order
    for (const auto& p : ps)
      by_machine[p.machine].push_back(&p);
    for (const auto& kv : by_machine) {
      const machine& m = machines[static_cast<size_t>(kv.first)];
      if (kv.second.size() == 1) {  // a poll record
        const auto& v = kv.second[0]->values;
        for (size_t s = 0; s < v.size(); ++s) {
          probe.clear();
          storage::chunk::encode_poll(&v[s], 1, probe);
          cost& c = log.metrics[m.names[s]];
          c.bytes += static_cast<int64_t>(probe.size());
          columns += static_cast<int64_t>(probe.size());
          if (std::isfinite(v[s])) {
            ++c.samples;
            ++log.samples;
          }
        }
        continue;
      }
      ts.clear();
      vals.clear();
      for (const auto* p : kv.second) {
        ts.push_back(p->ts);
        vals.insert(vals.end(), p->values.begin(), p->values.end());
      }
      tally scratch;
      probe.clear();
      encode_measured(m.names, ts, vals, ts[0], scratch, probe, column);
      for (const auto& c : scratch.metrics) {
        log.metrics[c.first].bytes += c.second.bytes;
        log.metrics[c.first].samples += c.second.samples;
        columns += c.second.bytes;
      }
      log.samples += scratch.samples;
    }
    log.fixed_bytes += static_cast<int64_t>(bytes.size()) - columns;
    batches.push_back(bytes);
  };

  jitter_source jitter;
  for (int64_t k = 0; k < ticks; ++k) {
    for (size_t i = 0; i < machines.size(); ++i) {
      machine& m = machines[i];
      const int64_t ts = first_ts_ms + k * o.interval_ms + m.phase_ms + jitter.next(o.jitter_ms);
      m.poll(ts, values);
      values.resize(m.names.size(), std::numeric_limits<double>::quiet_NaN());
      ++polls;
      const int64_t w = ts >= 0 ? ts / window_ms : -((-ts + window_ms - 1) / window_ms);
      if (w != m.window) {
        flush_window(m);
        m.window = w;
      }
      m.ts.push_back(ts);
      m.values.insert(m.values.end(), values.begin(), values.end());
      pending[(ts - first_ts_ms + o.jitter_ms) / o.batch_ms].push_back(
          {static_cast<int64_t>(i), ts, values});
    }
    // The next tick's polls are no earlier than this.
    const int64_t next_earliest = first_ts_ms + (k + 1) * o.interval_ms - o.jitter_ms;
    while (!pending.empty() &&
           first_ts_ms - o.jitter_ms + (pending.begin()->first + 1) * o.batch_ms <= next_earliest) {
      flush_batch(pending.begin()->second);
      pending.erase(pending.begin());
    }
  }
  for (auto& m : machines)
    flush_window(m);
  for (auto& kv : pending)
    flush_batch(kv.second);
  const double encode_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

  // Decode as a reader does: per chunk, the timestamps and one slot, for every
  // slot in turn. Best of three passes.
  int64_t points = 0;
  double best_s = 0;
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<int64_t> ts;
    std::vector<double> col;
    int64_t pass_points = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& c : chunks) {
      storage::chunk::view v;
      if (!v.parse(c.data(), c.size()))
        throw std::runtime_error("a chunk did not parse back");
      for (size_t s = 0; s < v.slots(); ++s) {
        if (!v.timestamps(ts) || !v.column(s, col))
          throw std::runtime_error("a chunk did not decode");
        pass_points += static_cast<int64_t>(v.polls());
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass == 0 || s < best_s)
      best_s = s;
    points = pass_points;
  }

  // Decode the log as the writer reloads it and a reader scans it: per batch
  // the directory, per machine its polls, timestamps and every slot.
  int64_t log_points = 0;
  double log_best_s = 0;
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<int64_t> ts;
    std::vector<double> col;
    storage::log_batch::view b;
    storage::chunk::view v;
    int64_t pass_points = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& bytes_of_batch : batches) {
      if (!b.parse(bytes_of_batch.data(), bytes_of_batch.size()))
        throw std::runtime_error("a log batch did not parse back");
      for (const auto& e : b.entries()) {
        if (!b.machine(e.machine_id, v) || !v.timestamps(ts))
          throw std::runtime_error("a log batch entry did not decode");
        for (size_t s = 0; s < v.slots(); ++s) {
          if (!v.column(s, col))
            throw std::runtime_error("a log batch entry did not decode");
          pass_points += static_cast<int64_t>(v.polls());
        }
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass == 0 || s < log_best_s)
      log_best_s = s;
    log_points = pass_points;
  }

  nlohmann::json summary = {
      {"source", o.source},
      {"machines", o.machines},
      {"interval_ms", o.interval_ms},
      {"jitter_ms", o.jitter_ms},
      {"minutes", o.minutes},
      {"window_s", o.window_s},
      {"batch_ms", o.batch_ms},
      {"polls", polls},
      {"samples", history.samples},
      {"chunk", history.json(polls, "chunks", "timestamp_bytes")},
      {"log", log.json(polls, "batches", "overhead_bytes")},
      {"decode", {{"points", points},
                  {"seconds", best_s},
                  {"points_per_s", best_s > 0 ? points / best_s : 0.0}}},
      {"log_decode", {{"points", log_points},
                      {"seconds", log_best_s},
                      {"points_per_s", log_best_s > 0 ? log_points / log_best_s : 0.0}}},
      {"encode_s", encode_s}};
  std::printf("chunk-size: %lld polls, %lld samples; history %.3f bytes/sample (timestamps %.1f%%), "
              "ingest log %.3f bytes/sample; decode %.1f M points/s (one slot + timestamps), "
              "log %.1f M points/s (machine + timestamps + slots)\n",
              static_cast<long long>(polls), static_cast<long long>(history.samples),
              history.samples ? static_cast<double>(history.bytes) / history.samples : 0.0,
              history.bytes ? 100.0 * history.fixed_bytes / history.bytes : 0.0,
              log.samples ? static_cast<double>(log.bytes) / log.samples : 0.0,
              best_s > 0 ? points / best_s / 1e6 : 0.0,
              log_best_s > 0 ? log_points / log_best_s / 1e6 : 0.0);
  std::printf("summary chunk-size: %s\n", summary.dump().c_str());
  std::fflush(stdout);
  return 0;
}

} // namespace

int run_chunk_size(const chunk_size_options& o) {
  if (o.source != "sim" && o.source != "synthetic")
    throw std::invalid_argument("--source must be sim or synthetic, not '" + o.source + "'");
  try {
    return measure(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chunk-size: %s\n", e.what());
    return 1;
  }
}

} // namespace edgemes::bench
