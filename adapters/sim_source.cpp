// adapters/sim_source: a simulated machine in-process. poll() is a few
// microseconds of arithmetic, so blocking() is false and pollers call it on
// their own thread.
//
// The metrics' pointers are resolved once, when the source is made, by the
// extractor itself applied to the model's shape() (the reply's layout with
// each number replaced by its slot): so a pointer finds exactly what it would
// find in the document edgemes-sim serves, with the same problem text when it
// finds no number. A poll then copies numbers from the model's flat sample;
// no JSON is built or walked (that was a third of an in-process poll's cost).
#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
#include "clock/clock.hpp"

#include <limits>

namespace edgemes::adapters {

namespace {

class sim_source final : public source {
public:
  sim_source(const std::string& ident, const std::string& type, uint64_t seed,
             const extractor& metrics)
      : machine_(ident, type, seed) {
    // The shape's numbers are slots and its texts name their field; what the
    // extractor could not read is a problem on every poll, in its order.
    extractor::result r = metrics.apply(machine_.shape());
    slots_.reserve(r.values.size());
    for (double v : r.values)
      slots_.push_back(std::isnan(v) ? -1 : static_cast<int>(v));
    problems_ = std::move(r.problems);
    if (r.state == std::optional<std::string>("state"))
      state_ = text::state;
    else if (r.state == std::optional<std::string>("machine"))
      state_ = text::machine;
    else if (r.state == std::optional<std::string>("type"))
      state_ = text::type;
  }

  reading poll() override {
    const auto& s = machine_.take(clock::wall_ms());
    reading r;
    r.ok = true;
    r.values.resize(slots_.size(), std::numeric_limits<double>::quiet_NaN());
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i] >= 0)
        r.values[i] = s.numbers[static_cast<size_t>(slots_[i])];
    switch (state_) {
    case text::none: break;
    case text::state: r.state = s.state; break;
    case text::machine: r.state = machine_.ident(); break;
    case text::type: r.state = machine_.type(); break;
    }
    r.problems = problems_;
    return r;
  }

  bool blocking() const override { return false; }

private:
  enum class text { none, state, machine, type };  // the reply's texts a state pointer may name

  sim_machine machine_;
  std::vector<int> slots_;              // per metric: its slot in the sample's numbers, or -1
  std::vector<std::string> problems_;   // the same every poll
  text state_ = text::none;
};

} // namespace

std::unique_ptr<source> make_sim(const std::string& ident, const std::string& type, uint64_t seed,
                                 const extractor& metrics) {
  return std::make_unique<sim_source>(ident, type, seed, metrics);
}

} // namespace edgemes::adapters
