// adapters/sim_model: the public face of the simulated machines — type list,
// standard metric maps, and sim_machine, which numbers the replies and hands
// time to the type's model (sim_types.cpp) through its lifecycle.
#include "adapters/sim_model.hpp"

#include "adapters/sim_types.hpp"

#include <algorithm>
#include <stdexcept>

namespace edgemes::adapters {

namespace sim {

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

const char* state_name(state s) {
  switch (s) {
  case state::run: return "RUN";
  case state::idle: return "IDLE";
  case state::down: return "DOWN";
  case state::alarm: return "ALARM";
  }
  return "RUN";
}

lifecycle::lifecycle(uint64_t seed) : life_(seed), noise_(seed ^ 0x5DEECE66Dull) {
  left_s_ = life_.uniform(0, 300);  // start part-way through a run spell
}

void lifecycle::step_to(int64_t now_ms, double* out) {
  if (!started_) {
    started_ = true;
    last_ms_ = now_ms;
  } else if (now_ms > last_ms_) {
    // A machine that was not asked for 30 days does not need simulating longer.
    constexpr int64_t max_gap_ms = int64_t(30) * 24 * 3600 * 1000;
    advance(static_cast<double>(std::min(now_ms - last_ms_, max_gap_ms)) / 1000.0);
    last_ms_ = now_ms;
  }
  describe(out);
}

void lifecycle::advance(double seconds) {
  while (seconds > 0) {
    double step = std::min(seconds, left_s_);
    spend(state_, step);
    seconds -= step;
    left_s_ -= step;
    if (left_s_ <= 0) {
      if (state_ != state::run) {
        enter(state::run);
      } else {
        double pick = life_.uniform();
        enter(pick < 0.55 ? state::idle : pick < 0.85 ? state::alarm : state::down);
      }
    }
  }
}

void lifecycle::enter(state s) {
  state_ = s;
  switch (s) {
  case state::run: left_s_ = 30 + life_.exponential(310); break;
  case state::idle: left_s_ = 5 + life_.exponential(45); break;
  case state::alarm: left_s_ = 15 + life_.exponential(30); break;
  case state::down: left_s_ = 30 + life_.exponential(90); break;
  }
  entered(s);
}

} // namespace sim

const std::vector<std::string>& sim_states() {
  using sim::state;
  static const std::vector<std::string> names{sim::state_name(state::run), sim::state_name(state::idle),
                                              sim::state_name(state::down), sim::state_name(state::alarm)};
  return names;
}

struct sim_machine::model {
  std::unique_ptr<sim::lifecycle> impl;
  std::vector<nlohmann::json::json_pointer> pointers;  // of impl->fields(), parsed once
};

namespace {

// Slots in sim_machine::sample::numbers before the type's own fields.
constexpr size_t seq_slot = 0, ts_slot = 1, first_field_slot = 2;

std::vector<sim_type_info> make_catalogue() {
  std::vector<std::pair<std::string, std::string>> reflow;
  for (int i = 0; i < 8; ++i)
    reflow.emplace_back("zone" + std::to_string(i + 1) + "_c", "/oven/zones/" + std::to_string(i));
  reflow.insert(reflow.end(), {{"conveyor_mm_s", "/oven/conveyor_mm_s"},
                               {"o2_ppm", "/oven/o2_ppm"},
                               {"boards_total", "/counters/boards"}});
  return {
      {"placer",
       {{"placements_total", "/counters/placements"},
        {"boards_total", "/counters/boards"},
        {"rejects_total", "/counters/rejects"},
        {"cycle_time_s", "/cycle_time_s"},
        {"feeder_errors", "/feeder_errors"},
        {"nozzle_vacuum_kpa", "/nozzle_vacuum_kpa"},
        {"head_temp_c", "/head_temp_c"}},
       {"placements_total", "cycle_time_s", "rejects_total", "nozzle_vacuum_kpa"}},
      {"printer",
       {{"prints_total", "/counters/prints"},
        {"boards_total", "/counters/boards"},
        {"squeegee_pressure_kg", "/squeegee_pressure_kg"},
        {"print_speed_mm_s", "/print_speed_mm_s"},
        {"paste_height_um", "/paste_height_um"},
        {"stencil_wipes", "/stencil_wipes"}},
       {"prints_total", "paste_height_um", "squeegee_pressure_kg", "print_speed_mm_s"}},
      {"reflow", reflow, {"zone8_c", "zone4_c", "o2_ppm", "conveyor_mm_s", "boards_total"}},
      {"aoi",
       {{"inspected_total", "/counters/inspected"},
        {"defects_total", "/counters/defects"},
        {"false_calls_total", "/counters/false_calls"},
        {"first_pass_yield", "/first_pass_yield"},
        {"cycle_time_s", "/cycle_time_s"},
        {"camera_temp_c", "/camera_temp_c"}},
       {"inspected_total", "first_pass_yield", "defects_total", "cycle_time_s"}}};
}

} // namespace

const std::vector<sim_type_info>& sim_catalogue() {
  static const std::vector<sim_type_info> catalogue = make_catalogue();
  return catalogue;
}

const sim_type_info* find_sim_type(const std::string& type) {
  for (const auto& info : sim_catalogue())
    if (info.name == type)
      return &info;
  return nullptr;
}

bool is_sim_type(const std::string& type) { return find_sim_type(type) != nullptr; }

const std::vector<std::string>& sim_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> names;
    for (const auto& info : sim_catalogue())
      names.push_back(info.name);
    return names;
  }();
  return types;
}

std::vector<std::pair<std::string, std::string>> sim_standard_metrics(const std::string& type) {
  const sim_type_info* info = find_sim_type(type);
  return info ? info->metrics : std::vector<std::pair<std::string, std::string>>{};
}

sim_machine::sim_machine(std::string ident, std::string type, uint64_t seed)
    : ident_(std::move(ident)), type_(std::move(type)), model_(std::make_shared<model>()) {
  // Same seed, different machines: each ident gets its own stream.
  uint64_t mixed = sim::fnv1a(ident_);
  if (seed != 0)
    mixed ^= sim::rng(seed).next();
  model_->impl = sim::make_model(type_, mixed);
  if (!model_->impl)
  {
    std::string known;
    for (const auto& t : sim_types())
      known += (known.empty() ? "" : ", ") + t;
    throw std::invalid_argument("unknown simulated machine type '" + type_ + "' (known: " +
                                known + ")");
  }
  for (const auto& f : model_->impl->fields())
    model_->pointers.emplace_back(f.pointer);
  sample_.numbers.resize(first_field_slot + model_->pointers.size());
}

const sim_machine::sample& sim_machine::take(int64_t now_ms) {
  sample_.numbers[seq_slot] = static_cast<double>(++seq_);
  sample_.numbers[ts_slot] = static_cast<double>(now_ms);
  model_->impl->step_to(now_ms, sample_.numbers.data() + first_field_slot);
  sample_.state = sim::state_name(model_->impl->current());
  return sample_;
}

nlohmann::json sim_machine::reply(int64_t now_ms) {
  const sample& s = take(now_ms);
  // seq and ts_ms from their integers, not their double slots: the document
  // writes them as JSON integers, as it always has.
  nlohmann::json doc = {{"machine", ident_}, {"type", type_}, {"seq", seq_}, {"ts_ms", now_ms}};
  doc["state"] = s.state;
  const auto& fields = model_->impl->fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    double v = s.numbers[first_field_slot + i];
    if (fields[i].kind == sim::field_kind::count)
      doc[model_->pointers[i]] = static_cast<uint64_t>(v);
    else
      doc[model_->pointers[i]] = v;
  }
  return doc;
}

nlohmann::json sim_machine::shape() const {
  nlohmann::json doc = {{"machine", "machine"},
                        {"type", "type"},
                        {"seq", seq_slot},
                        {"ts_ms", ts_slot},
                        {"state", "state"}};
  for (size_t i = 0; i < model_->pointers.size(); ++i)
    doc[model_->pointers[i]] = first_field_slot + i;
  return doc;
}

} // namespace edgemes::adapters
