// adapters/sim_source: a simulated machine in-process. poll() is a few
// microseconds of arithmetic, so blocking() is false and pollers call it on
// their own thread.
#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
#include "clock/clock.hpp"

namespace edgemes::adapters {

namespace {

class sim_source final : public source {
public:
  sim_source(const std::string& ident, const std::string& type, uint64_t seed)
      : machine_(ident, type, seed) {}

  poll_reply poll() override {
    poll_reply r;
    r.ok = true;
    r.document = machine_.reply(clock::wall_ms());
    return r;
  }

  bool blocking() const override { return false; }

private:
  sim_machine machine_;
};

} // namespace

std::unique_ptr<source> make_sim(const std::string& ident, const std::string& type, uint64_t seed) {
  return std::make_unique<sim_source>(ident, type, seed);
}

} // namespace edgemes::adapters
