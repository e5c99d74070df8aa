// adapters/sim_lifecycle (internal): the pieces every simulated machine type
// shares — a seeded random stream and the run/idle/down/alarm state machine.
//
// State machine (durations in seconds, drawn when the state is entered):
//   RUN   (30 + exp(310))  -> IDLE 55% | ALARM 30% | DOWN 15%
//   IDLE  (5 + exp(45))    -> RUN
//   ALARM (15 + exp(30))   -> RUN
//   DOWN  (30 + exp(90))   -> RUN
// which gives about 85% RUN, 7% IDLE and 8% ALARM/DOWN over a long time.
//
// Time advances in spells: advance(dt) walks from one state change to the
// next, so where state changes fall depends only on the seed, never on how
// often the machine is polled. Per-reply noise comes from a second stream.
//
// A type's reply fields are flat: fields() lists each number's JSON pointer
// in the reply and its kind, once per type, and describe() writes the numbers
// in that order. sim_machine builds the JSON document from the two for
// edgemes-sim; the in-process sim source copies the numbers without it.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace edgemes::adapters::sim {

// splitmix64: small, fast, and identical on every platform (std:: engines'
// distributions are not), which keeps replies reproducible everywhere.
class rng {
public:
  explicit rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  double normal() {  // Box-Muller, one value per call
    double u1 = 1.0 - uniform();
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
private:
  uint64_t s_;
};

uint64_t fnv1a(const std::string& text);

enum class state { run, idle, down, alarm };
const char* state_name(state s);

// One number of a reply: where it goes in the document, and how it is written
// there (a count is a whole number >= 0, written without a decimal point).
enum class field_kind { real, count };
struct field {
  std::string pointer;  // RFC 6901, e.g. "/counters/boards"
  field_kind kind;
};

// One simulated machine: the lifecycle is here, the physics in the subclass.
class lifecycle {
public:
  explicit lifecycle(uint64_t seed);
  virtual ~lifecycle() = default;

  // Advances to `now_ms` (the first call only sets the clock) and writes the
  // type's numbers into `out`, fields().size() of them, in fields() order.
  void step_to(int64_t now_ms, double* out);
  state current() const { return state_; }

  // The type's numbers in the reply, the same for every reply of the type.
  virtual const std::vector<field>& fields() const = 0;

protected:
  // `seconds` spent in state `s`; counters may only grow, and only in RUN.
  virtual void spend(state s, double seconds) = 0;
  virtual void entered(state s) {}
  // Writes this reply's numbers (fields() order), drawing its noise.
  virtual void describe(double* out) = 0;

  rng life_;   // parameters and state changes
  rng noise_;  // per-reply measurement noise

private:
  void advance(double seconds);
  void enter(state s);

  state state_ = state::run;
  double left_s_ = 0;  // seconds until the next state change
  bool started_ = false;
  int64_t last_ms_ = 0;
};

// `v` with `decimals` digits after the point, as the nearest double (so JSON prints it short).
inline double round_to(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}
inline uint64_t whole(double counter) {
  return counter > 0 ? static_cast<uint64_t>(std::floor(counter)) : 0;
}

} // namespace edgemes::adapters::sim
