// tools/bench/load: the telemetry the ingest benchmarks write.
//
// value_model produces one machine's metric values tick by tick, shaped like
// real SMT telemetry so the stored JSON text has a realistic length: metric i
// is, by i % 4, a counter that only goes up (boards, placements), a
// temperature with 0.1-degree noise, a setpoint that repeats for long
// stretches, or a 3-decimal ratio/cycle time. Deterministic for a seed.
//
// make_synthetic_source wraps a value_model as an adapters::source whose
// reading is the metrics synthetic_metrics() names ("m00", "m01", ...) in
// order and the state "RUN": the pipeline benchmark's default machine, with
// as many metrics as the raw benchmark writes. It yields its values directly,
// as a register-based adapter would, so the benchmark measures the pipeline,
// not a JSON document built only to be walked.
#pragma once

#include "adapters/adapter.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace edgemes::bench {

class value_model {
public:
  value_model(int metrics, uint64_t seed);

  // Advances one tick and writes `metrics` values into `out` (resized).
  void next(std::vector<double>& out);

private:
  uint64_t rand();
  double uniform();  // [0, 1)
  uint64_t state_;
  std::vector<double> level_;  // per metric: counter value, temperature base, setpoint...
  int metrics_;
};

// Metric names "m00", "m01", ... and their pointers "/m00", ...
std::vector<std::pair<std::string, std::string>> synthetic_metrics(int metrics);

// Never blocks; poll() is one value_model tick.
std::unique_ptr<adapters::source> make_synthetic_source(int metrics, uint64_t seed);

} // namespace edgemes::bench
