// adapters/sim_types: the physics of each simulated machine type. Numbers are
// those of a typical lead-free SMT line; each machine draws its own settings
// (program, setpoints) from its seed, then adds measurement noise per reply.
// Counters are kept as fractional accumulators that only grow in RUN and are
// reported floored, so they never go down.
#include "adapters/sim_types.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace edgemes::adapters::sim {

namespace {

// First-order approach of `value` to `target` over `seconds` with time constant `tau_s`.
void relax(double& value, double target, double seconds, double tau_s) {
  value = target + (value - target) * std::exp(-seconds / tau_s);
}

// Cycles (boards, prints) a machine with a cycle of `cycle_s` finishes in
// `seconds` spent in state `s`: only RUN produces.
double cycles_in(state s, double seconds, double cycle_s) {
  return s == state::run ? seconds / cycle_s : 0.0;
}

class placer final : public lifecycle {
public:
  explicit placer(uint64_t seed) : lifecycle(seed) {
    parts_per_board_ = std::round(life_.uniform(250, 900));
    double cph = life_.uniform(28000, 42000);  // components per hour
    cycle_s_ = parts_per_board_ / cph * 3600.0;
    reject_rate_ = life_.uniform(0.0002, 0.0008);
    boards_ = std::round(life_.uniform(0, 3000));
    placements_ = boards_ * parts_per_board_;
    rejects_ = placements_ * reject_rate_;
    feeder_errors_ = std::round(life_.uniform(0, 20));
    last_cycle_s_ = cycle_s_;
  }

private:
  void spend(state s, double seconds) override {
    const double boards = cycles_in(s, seconds, cycle_s_);
    boards_ += boards;
    placements_ += boards * parts_per_board_;
    rejects_ += boards * parts_per_board_ * reject_rate_;
    relax(head_c_, s == state::run ? 41.0 : s == state::idle ? 34.0 : 28.0, seconds, 600);
  }
  void entered(state s) override {
    if (s == state::alarm && life_.uniform() < 0.6)
      feeder_errors_ += 1;
  }
  const std::vector<field>& fields() const override {
    static const std::vector<field> f{{"/counters/placements", field_kind::count},
                                      {"/counters/boards", field_kind::count},
                                      {"/counters/rejects", field_kind::count},
                                      {"/cycle_time_s", field_kind::real},
                                      {"/feeder_errors", field_kind::count},
                                      {"/nozzle_vacuum_kpa", field_kind::real},
                                      {"/head_temp_c", field_kind::real}};
    return f;
  }
  void describe(double* out) override {
    state s = current();
    if (s == state::run)
      last_cycle_s_ = cycle_s_ * (1.0 + 0.02 * noise_.normal());
    double vacuum = s == state::alarm ? -55.0 + 5.0 * noise_.normal() : -78.0 + 1.0 * noise_.normal();
    out[0] = whole(placements_);
    out[1] = whole(boards_);
    out[2] = whole(rejects_);
    out[3] = round_to(last_cycle_s_, 2);
    out[4] = whole(feeder_errors_);
    out[5] = round_to(std::min(vacuum, -20.0), 1);
    out[6] = round_to(head_c_ + 0.2 * noise_.normal(), 1);
  }

  double parts_per_board_, cycle_s_, reject_rate_, last_cycle_s_;
  double boards_, placements_, rejects_, feeder_errors_;
  double head_c_ = 40.0;
};

class printer final : public lifecycle {
public:
  explicit printer(uint64_t seed) : lifecycle(seed) {
    cycle_s_ = life_.uniform(14, 22);
    misprint_rate_ = life_.uniform(0.003, 0.01);
    wipe_every_ = std::round(life_.uniform(5, 10));
    pressure_kg_ = round_to(life_.uniform(5.5, 8.0), 1);
    speed_mm_s_ = 5.0 * std::round(life_.uniform(30, 70) / 5.0);
    static const std::array<double, 4> stencils_um{100, 120, 127, 150};
    stencil_um_ = stencils_um[life_.next() % stencils_um.size()];
    prints_ = std::round(life_.uniform(0, 3000));
    boards_ = prints_ * (1.0 - misprint_rate_);
  }

private:
  void spend(state s, double seconds) override {
    const double prints = cycles_in(s, seconds, cycle_s_);
    prints_ += prints;
    boards_ += prints * (1.0 - misprint_rate_);
  }
  const std::vector<field>& fields() const override {
    static const std::vector<field> f{{"/counters/prints", field_kind::count},
                                      {"/counters/boards", field_kind::count},
                                      {"/squeegee_pressure_kg", field_kind::real},
                                      {"/print_speed_mm_s", field_kind::real},
                                      {"/paste_height_um", field_kind::real},
                                      {"/stencil_wipes", field_kind::count}};
    return f;
  }
  void describe(double* out) override {
    uint64_t prints = whole(prints_);
    uint64_t wipes = prints / static_cast<uint64_t>(wipe_every_);
    // Paste builds up on the stencil between wipes: deposits get a little higher.
    double since_wipe = static_cast<double>(prints - wipes * static_cast<uint64_t>(wipe_every_));
    out[0] = static_cast<double>(prints);
    out[1] = whole(boards_);
    out[2] = round_to(pressure_kg_ + 0.05 * noise_.normal(), 2);
    out[3] = round_to(speed_mm_s_ + 0.3 * noise_.normal(), 1);
    out[4] = round_to(stencil_um_ * 1.05 + 1.5 * since_wipe + 4.0 * noise_.normal(), 1);
    out[5] = static_cast<double>(wipes);
  }

  double cycle_s_, misprint_rate_, wipe_every_, pressure_kg_, speed_mm_s_, stencil_um_;
  double prints_, boards_;
};

class reflow final : public lifecycle {
public:
  explicit reflow(uint64_t seed) : lifecycle(seed) {
    static const std::array<double, 8> profile{150, 165, 175, 185, 200, 225, 245, 250};
    double offset = life_.uniform(-5, 5);
    for (size_t i = 0; i < profile.size(); ++i) {
      setpoint_c_[i] = profile[i] + offset;
      zone_c_[i] = setpoint_c_[i];
    }
    conveyor_mm_s_ = round_to(life_.uniform(12, 20), 1);
    pitch_mm_ = life_.uniform(200, 350);  // board length plus gap
    o2_ppm_ = life_.uniform(600, 1200);
    boards_ = std::round(life_.uniform(0, 3000));
  }

private:
  void spend(state s, double seconds) override {
    if (s == state::run)
      boards_ += seconds * conveyor_mm_s_ / pitch_mm_;
    // A stopped oven cools slowly towards ambient and heats back up faster.
    for (size_t i = 0; i < zone_c_.size(); ++i) {
      if (s == state::down)
        relax(zone_c_[i], 25.0, seconds, 1500);
      else
        relax(zone_c_[i], setpoint_c_[i], seconds, 240);
    }
  }
  const std::vector<field>& fields() const override {
    static const std::vector<field> f = [] {
      std::vector<field> out;
      for (int i = 0; i < 8; ++i)
        out.push_back({"/oven/zones/" + std::to_string(i), field_kind::real});
      out.push_back({"/oven/conveyor_mm_s", field_kind::real});
      out.push_back({"/oven/o2_ppm", field_kind::real});
      out.push_back({"/counters/boards", field_kind::count});
      return out;
    }();
    return f;
  }
  void describe(double* out) override {
    for (size_t i = 0; i < zone_c_.size(); ++i)
      out[i] = round_to(zone_c_[i] + 0.4 * noise_.normal(), 1);
    bool moving = current() != state::down;
    out[8] = moving ? round_to(conveyor_mm_s_ + 0.05 * noise_.normal(), 2) : 0.0;
    out[9] = round_to(std::max(50.0, o2_ppm_ + 30.0 * noise_.normal()), 0);
    out[10] = whole(boards_);
  }

  std::array<double, 8> setpoint_c_{}, zone_c_{};
  double conveyor_mm_s_, pitch_mm_, o2_ppm_, boards_;
};

class aoi final : public lifecycle {
public:
  explicit aoi(uint64_t seed) : lifecycle(seed) {
    cycle_s_ = life_.uniform(12, 25);
    defect_rate_ = life_.uniform(0.005, 0.015);
    false_call_rate_ = life_.uniform(0.02, 0.05);
    inspected_ = std::round(life_.uniform(0, 3000));
    defects_ = inspected_ * defect_rate_;
    false_calls_ = inspected_ * false_call_rate_;
    last_cycle_s_ = cycle_s_;
  }

private:
  void spend(state s, double seconds) override {
    const double boards = cycles_in(s, seconds, cycle_s_);
    inspected_ += boards;
    defects_ += boards * defect_rate_;
    false_calls_ += boards * false_call_rate_;
    relax(camera_c_, s == state::down ? 30.0 : 40.0, seconds, 900);
  }
  const std::vector<field>& fields() const override {
    static const std::vector<field> f{{"/counters/inspected", field_kind::count},
                                      {"/counters/defects", field_kind::count},
                                      {"/counters/false_calls", field_kind::count},
                                      {"/first_pass_yield", field_kind::real},
                                      {"/cycle_time_s", field_kind::real},
                                      {"/camera_temp_c", field_kind::real}};
    return f;
  }
  void describe(double* out) override {
    if (current() == state::run)
      last_cycle_s_ = cycle_s_ * (1.0 + 0.03 * noise_.normal());
    uint64_t inspected = whole(inspected_), defects = whole(defects_), calls = whole(false_calls_);
    double fpy = inspected == 0 ? 1.0
                                : 1.0 - static_cast<double>(defects + calls) / static_cast<double>(inspected);
    out[0] = static_cast<double>(inspected);
    out[1] = static_cast<double>(defects);
    out[2] = static_cast<double>(calls);
    out[3] = round_to(std::clamp(fpy, 0.0, 1.0), 4);
    out[4] = round_to(last_cycle_s_, 2);
    out[5] = round_to(camera_c_ + 0.2 * noise_.normal(), 1);
  }

  double cycle_s_, defect_rate_, false_call_rate_, last_cycle_s_;
  double inspected_, defects_, false_calls_;
  double camera_c_ = 40.0;
};

} // namespace

std::unique_ptr<lifecycle> make_model(const std::string& type, uint64_t seed) {
  if (type == "placer")
    return std::make_unique<placer>(seed);
  if (type == "printer")
    return std::make_unique<printer>(seed);
  if (type == "reflow")
    return std::make_unique<reflow>(seed);
  if (type == "aoi")
    return std::make_unique<aoi>(seed);
  return nullptr;
}

} // namespace edgemes::adapters::sim
