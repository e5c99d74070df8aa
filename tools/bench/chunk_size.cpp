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

// One measurement's state: the machines, both encodings' totals and the
// encoded bytes, kept for the decode measurements.
struct run_state {
  explicit run_state(const chunk_size_options& options)
      : o(options), machines(make_machines(options)) {}

  const chunk_size_options& o;
  std::vector<machine> machines;
  tally history, log;
  int64_t polls = 0;
  std::vector<std::string> chunks, batches;
  std::string bytes;           // the unit being encoded
  std::vector<double> column;  // scratch for encode_measured
};

// Ends the machine's current window: its polls become one history chunk.
void flush_window(run_state& r, machine& m) {
  if (m.ts.empty())
    return;
  r.bytes.clear();
  encode_measured(m.names, m.ts, m.values, 0, r.history, r.bytes, r.column);
  r.history.bytes += static_cast<int64_t>(r.bytes.size());
  ++r.history.units;
  r.chunks.push_back(r.bytes);
  m.ts.clear();
  m.values.clear();
}

// A machine with one poll in a batch is a poll record: each value's cost is
// its record alone. Returns the bytes of its columns.
int64_t poll_record_costs(const machine& m, const std::vector<double>& v, tally& log) {
  int64_t columns = 0;
  std::string probe;
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
  return columns;
}

// A machine with several polls in a batch is a chunk with the batch's base:
// the same probe as for history. Returns the bytes of its columns.
int64_t chunk_costs(const machine& m, const std::vector<const logged_poll*>& polls, tally& log,
                    std::vector<double>& column) {
  std::vector<int64_t> ts;
  std::vector<double> vals;
  for (const auto* p : polls) {
    ts.push_back(p->ts);
    vals.insert(vals.end(), p->values.begin(), p->values.end());
  }
  tally scratch;
  std::string probe;
  encode_measured(m.names, ts, vals, ts[0], scratch, probe, column);
  int64_t columns = 0;
  for (const auto& c : scratch.metrics) {
    log.metrics[c.first].bytes += c.second.bytes;
    log.metrics[c.first].samples += c.second.samples;
    columns += c.second.bytes;
  }
  log.samples += scratch.samples;
  return columns;
}

// Encodes one log batch and adds its costs, per machine, to r.log.
void flush_batch(run_state& r, std::vector<logged_poll>& ps) {
  std::vector<storage::log_batch::poll> batch_polls;
  for (const auto& p : ps)
    batch_polls.push_back({p.machine, p.ts, &p.values});
  r.bytes.clear();
  storage::log_batch::encode(batch_polls, r.bytes);
  r.log.bytes += static_cast<int64_t>(r.bytes.size());
  ++r.log.units;
  storage::log_batch::view view;
  if (!view.parse(r.bytes.data(), r.bytes.size()))
    throw std::runtime_error("a log batch did not parse back");
  int64_t columns = 0;
  std::map<int64_t, std::vector<const logged_poll*>> by_machine;  // each in ts order
  for (const auto& p : ps)
    by_machine[p.machine].push_back(&p);
  for (const auto& kv : by_machine) {
    const machine& m = r.machines[static_cast<size_t>(kv.first)];
    columns += kv.second.size() == 1 ? poll_record_costs(m, kv.second[0]->values, r.log)
                                     : chunk_costs(m, kv.second, r.log, r.column);
  }
  r.log.fixed_bytes += static_cast<int64_t>(r.bytes.size()) - columns;
  r.batches.push_back(r.bytes);
}

// Polls every machine every tick; each poll goes to its machine's window
// (a chunk when the window ends) and to the log batch of its ts / batch_ms,
// encoded once no later tick can add to it.
void encode_all(run_state& r) {
  const chunk_size_options& o = r.o;
  const int64_t window_ms = o.window_s * 1000;
  const int64_t ticks = o.minutes * 60000 / o.interval_ms;
  std::map<int64_t, std::vector<logged_poll>> pending;
  std::vector<double> values;
  jitter_source jitter;
  for (int64_t k = 0; k < ticks; ++k) {
    for (size_t i = 0; i < r.machines.size(); ++i) {
      machine& m = r.machines[i];
      const int64_t ts = first_ts_ms + k * o.interval_ms + m.phase_ms + jitter.next(o.jitter_ms);
      m.poll(ts, values);
      values.resize(m.names.size(), std::numeric_limits<double>::quiet_NaN());
      ++r.polls;
      const int64_t w = ts >= 0 ? ts / window_ms : -((-ts + window_ms - 1) / window_ms);
      if (w != m.window) {
        flush_window(r, m);
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
      flush_batch(r, pending.begin()->second);
      pending.erase(pending.begin());
    }
  }
  for (auto& m : r.machines)
    flush_window(r, m);
  for (auto& kv : pending)
    flush_batch(r, kv.second);
}

// Points decoded by one pass and the best time of three passes.
struct decode_rate {
  int64_t points = 0;
  double seconds = 0;

  double per_s() const { return seconds > 0 ? points / seconds : 0.0; }
  nlohmann::json json() const {
    return {{"points", points}, {"seconds", seconds}, {"points_per_s", per_s()}};
  }
};

// Runs `pass` (which returns the points it decoded) three times.
template <class Pass>
decode_rate best_of_three(Pass pass) {
  decode_rate rate;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t points = pass();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i == 0 || s < rate.seconds)
      rate.seconds = s;
    rate.points = points;
  }
  return rate;
}

// Decode as a reader does: per chunk, the timestamps and one slot, for every
// slot in turn.
decode_rate decode_chunks(const std::vector<std::string>& chunks) {
  return best_of_three([&] {
    std::vector<int64_t> ts;
    std::vector<double> col;
    int64_t points = 0;
    for (const auto& c : chunks) {
      storage::chunk::view v;
      if (!v.parse(c.data(), c.size()))
        throw std::runtime_error("a chunk did not parse back");
      for (size_t s = 0; s < v.slots(); ++s) {
        if (!v.timestamps(ts) || !v.column(s, col))
          throw std::runtime_error("a chunk did not decode");
        points += static_cast<int64_t>(v.polls());
      }
    }
    return points;
  });
}

// Decode the log as the writer reloads it and a reader scans it: per batch
// the directory, per machine its polls, timestamps and every slot.
decode_rate decode_log(const std::vector<std::string>& batches) {
  return best_of_three([&] {
    std::vector<int64_t> ts;
    std::vector<double> col;
    storage::log_batch::view b;
    storage::chunk::view v;
    int64_t points = 0;
    for (const auto& bytes_of_batch : batches) {
      if (!b.parse(bytes_of_batch.data(), bytes_of_batch.size()))
        throw std::runtime_error("a log batch did not parse back");
      for (const auto& e : b.entries()) {
        if (!b.machine(e.machine_id, v) || !v.timestamps(ts))
          throw std::runtime_error("a log batch entry did not decode");
        for (size_t s = 0; s < v.slots(); ++s) {
          if (!v.column(s, col))
            throw std::runtime_error("a log batch entry did not decode");
          points += static_cast<int64_t>(v.polls());
        }
      }
    }
    return points;
  });
}

// The human line and the "summary chunk-size: {...}" line.
void report(const run_state& r, double encode_s, const decode_rate& decode,
            const decode_rate& log_decode) {
  const chunk_size_options& o = r.o;
  const tally& history = r.history;
  const tally& log = r.log;
  nlohmann::json summary = {
      {"source", o.source},
      {"machines", o.machines},
      {"interval_ms", o.interval_ms},
      {"jitter_ms", o.jitter_ms},
      {"minutes", o.minutes},
      {"window_s", o.window_s},
      {"batch_ms", o.batch_ms},
      {"polls", r.polls},
      {"samples", history.samples},
      {"chunk", history.json(r.polls, "chunks", "timestamp_bytes")},
      {"log", log.json(r.polls, "batches", "overhead_bytes")},
      {"decode", decode.json()},
      {"log_decode", log_decode.json()},
      {"encode_s", encode_s}};
  std::printf("chunk-size: %lld polls, %lld samples; history %.3f bytes/sample (timestamps %.1f%%), "
              "ingest log %.3f bytes/sample; decode %.1f M points/s (one slot + timestamps), "
              "log %.1f M points/s (machine + timestamps + slots)\n",
              static_cast<long long>(r.polls), static_cast<long long>(history.samples),
              history.samples ? static_cast<double>(history.bytes) / history.samples : 0.0,
              history.bytes ? 100.0 * history.fixed_bytes / history.bytes : 0.0,
              log.samples ? static_cast<double>(log.bytes) / log.samples : 0.0,
              decode.per_s() / 1e6, log_decode.per_s() / 1e6);
  std::printf("summary chunk-size: %s\n", summary.dump().c_str());
  std::fflush(stdout);
}

int measure(const chunk_size_options& o) {
  const auto t_start = std::chrono::steady_clock::now();
  run_state r(o);
  encode_all(r);
  const double encode_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  const decode_rate decode = decode_chunks(r.chunks);
  const decode_rate log_decode = decode_log(r.batches);
  report(r, encode_s, decode, log_decode);
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
