// adapters/sim_model: simulated SMT machines, shared by the `sim` adapter
// and the edgemes-sim HTTP server so both serve the same numbers.
//
// Types: placer, printer, reflow, aoi. Each model advances with wall-clock
// time: realistic values with noise, a state machine (RUN most of the time,
// IDLE, occasional DOWN/ALARM spells), and counters that only go up. A model
// is deterministic for a given (ident, seed) and sequence of `now` values.
// Every reply carries "seq": 1, 2, 3 ... (one per reply) and "ts_ms".
// Not thread-safe: one model per machine, guarded by its owner.
//
// A reply exists in two forms with the same numbers: reply() builds the JSON
// document edgemes-sim serves, sample() only the flat numbers and the state,
// for the in-process sim source, which maps its metrics to them through
// shape() once instead of walking a document per poll.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace edgemes::adapters {

// The catalogue of simulated machine types: the one table the sim adapter,
// the config (metric names, dashboard defaults) and edgemes-sim all read.
struct sim_type_info {
  std::string name;                                          // "placer"
  std::vector<std::pair<std::string, std::string>> metrics;  // (metric name, JSON pointer into the reply)
  std::vector<std::string> key_metrics;                      // the dashboard tile's default, of `metrics`
};
const std::vector<sim_type_info>& sim_catalogue();  // placer, printer, reflow, aoi
const sim_type_info* find_sim_type(const std::string& type);  // nullptr when unknown

bool is_sim_type(const std::string& type);
const std::vector<std::string>& sim_types();  // the catalogue's names, in order

// The standard metric map of a type (its catalogue entry's metrics).
// Each type has 6..12 metrics; the state is always at "/state".
std::vector<std::pair<std::string, std::string>> sim_standard_metrics(const std::string& type);

// Every state text a simulated machine reports at "/state", of every type.
const std::vector<std::string>& sim_states();

class sim_machine {
public:
  // seed 0 = derived from ident. Throws std::invalid_argument for an unknown type.
  sim_machine(std::string ident, std::string type, uint64_t seed = 0);

  // One reply, flat: every number of the document by slot, and the state.
  struct sample {
    std::vector<double> numbers;  // slot 0 "seq", 1 "ts_ms", then the type's own fields
    const char* state = "";       // "RUN", "IDLE", "DOWN" or "ALARM"
  };

  // The machine's status document at wall-clock `now_ms`; advances the model.
  nlohmann::json reply(int64_t now_ms);

  // The same reply as reply(now_ms) would give, without its document;
  // advances the model. Valid until the next call.
  const sample& take(int64_t now_ms);

  // The reply's layout, the same for every reply of the type: the document
  // reply() builds, with each number replaced by its slot in sample::numbers
  // and each text by its name ("machine", "type" or "state").
  nlohmann::json shape() const;

  const std::string& ident() const { return ident_; }
  const std::string& type() const { return type_; }
  uint64_t seq() const { return seq_; }   // replies produced so far

private:
  struct model;
  std::string ident_;
  std::string type_;
  uint64_t seq_ = 0;
  std::shared_ptr<model> model_;
  sample sample_;
};

} // namespace edgemes::adapters
