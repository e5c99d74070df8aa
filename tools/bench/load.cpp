#include "tools/bench/load.hpp"

#include <cmath>
#include <cstdio>

namespace edgemes::bench {

namespace {

// Divides by the scale (not multiplies by a step): the quotient of two exact
// integers is the double nearest the decimal, so it prints short ("245.3").
double round_to(double v, double scale) { return std::round(v * scale) / scale; }

} // namespace

value_model::value_model(int metrics, uint64_t seed)
    : state_(seed * 0x9E3779B97F4A7C15ULL + 1), level_(static_cast<size_t>(metrics)),
      metrics_(metrics) {
  for (int i = 0; i < metrics_; ++i) {
    switch (i % 4) {
    case 0: level_[i] = static_cast<double>(rand() % 100000); break;  // counter
    case 1: level_[i] = 180.0 + 80.0 * uniform(); break;              // temperature base
    case 2: level_[i] = 250.0; break;                                 // setpoint
    default: level_[i] = 0.5 + 0.4 * uniform(); break;                // ratio
    }
  }
}

// splitmix64: cheap, so the generator never shows in the benchmark's profile.
uint64_t value_model::rand() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double value_model::uniform() { return static_cast<double>(rand() >> 11) * 0x1.0p-53; }

void value_model::next(std::vector<double>& out) {
  out.resize(static_cast<size_t>(metrics_));
  for (int i = 0; i < metrics_; ++i) {
    double& level = level_[static_cast<size_t>(i)];
    switch (i % 4) {
    case 0:
      level += static_cast<double>(rand() % 4);
      out[i] = level;
      break;
    case 1: out[i] = round_to(level + (uniform() - 0.5) * 2.0, 10.0); break;
    case 2:
      if (uniform() < 0.001)  // a setpoint changes about every 1000 ticks
        level = 240.0 + static_cast<double>(rand() % 21);
      out[i] = level;
      break;
    default: out[i] = round_to(level + (uniform() - 0.5) * 0.05, 1000.0); break;
    }
  }
}

std::vector<std::pair<std::string, std::string>> synthetic_metrics(int metrics) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < metrics; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "m%02d", i);
    out.emplace_back(name, std::string("/") + name);
  }
  return out;
}

namespace {

class synthetic_source final : public adapters::source {
public:
  synthetic_source(int metrics, uint64_t seed) : model_(metrics, seed) {}

  adapters::reading poll() override {
    adapters::reading r;
    r.ok = true;
    model_.next(r.values);
    r.state = "RUN";
    return r;
  }

  bool blocking() const override { return false; }

private:
  value_model model_;
};

} // namespace

std::unique_ptr<adapters::source> make_synthetic_source(int metrics, uint64_t seed) {
  return std::make_unique<synthetic_source>(metrics, seed);
}

} // namespace edgemes::bench
