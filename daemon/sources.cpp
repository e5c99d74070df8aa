// daemon/sources: see the header. The factory is a switch on the adapter name
// that config validation already restricted to the known adapters.
#include "daemon/sources.hpp"

#include "adapters/sim_model.hpp"

#include <exception>
#include <string>

namespace edgemes::daemon {

namespace {

std::shared_ptr<adapters::source> make_source(const config::machine_config& m, std::string& error) {
  if (m.source.adapter == "sim")
    return adapters::make_sim(m.id, m.type, m.source.seed);
  if (m.source.adapter == "http_json")
    return adapters::make_http_json(m.source.url, m.source.timeout_ms, m.source.max_reply_bytes,
                                    &error);
  error = "unknown adapter '" + m.source.adapter + "'";
  return nullptr;
}

} // namespace

void resolve_defaults(config::config& cfg) {
  for (auto& line : cfg.lines)
    for (auto& m : line.machines) {
      if (m.source.adapter != "sim")
        continue;
      if (m.metrics.empty())
        m.metrics = adapters::sim_standard_metrics(m.type);
      if (m.state.empty())
        m.state = "/state";
    }
}

std::vector<config::problem> build_sources(const config::config& cfg, std::vector<machine_plan>& out) {
  std::vector<config::problem> problems;
  for (size_t l = 0; l < cfg.lines.size(); ++l) {
    const auto& machines = cfg.lines[l].machines;
    for (size_t i = 0; i < machines.size(); ++i) {
      const auto& m = machines[i];
      const std::string path = "/lines/" + std::to_string(l) + "/machines/" + std::to_string(i);
      machine_plan plan{&m, nullptr, nullptr};
      std::string error;
      std::string where = path + "/source";
      try {
        plan.source = make_source(m, error);
        where = path;  // the metrics and the state pointer
        if (plan.source)
          plan.extractor = std::make_shared<const adapters::extractor>(m.metrics, m.state);
      } catch (const std::exception& e) {
        plan.source = nullptr;
        error = e.what();
      }
      if (!plan.source)
        problems.push_back({where, "machine '" + m.id + "': " + error});
      out.push_back(std::move(plan));
    }
  }
  return problems;
}

} // namespace edgemes::daemon
