// daemon/sources: see the header. The factory is a switch on the adapter name
// that config validation already restricted to the known adapters.
#include "daemon/sources.hpp"

#include "adapters/sim_model.hpp"

#include <exception>
#include <optional>
#include <string>

namespace edgemes::daemon {

namespace {

std::shared_ptr<adapters::source> make_source(const config::machine_config& m,
                                              const adapters::extractor& metrics,
                                              std::string& error) {
  if (m.source.adapter == "sim")
    return adapters::make_sim(m.id, m.type, m.source.seed, metrics);
  if (m.source.adapter == "http_json")
    return adapters::make_http_json(m.source.url, m.source.timeout_ms, m.source.max_reply_bytes,
                                    metrics, &error);
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
      // The pointers are compiled first (a source needs them), but judged
      // after the source's own settings: a machine with both wrong is
      // reported at .../source, as the user would fix it first.
      std::optional<adapters::extractor> metrics;
      std::string metrics_error;
      try {
        metrics.emplace(m.metrics, m.state);
      } catch (const std::exception& e) {
        metrics_error = e.what();
      }
      std::string error;
      std::string where = path + "/source";
      if (m.source.adapter == "mqtt") {
        if (!metrics) {
          problems.push_back({path, "machine '" + m.id + "': " + metrics_error});
        } else {
          try {
            plan.pushed = std::make_shared<adapters::json_message>(*metrics, m.source.timestamp);
          } catch (const std::exception& e) {
            problems.push_back({where + "/timestamp", "machine '" + m.id + "': " + e.what()});
          }
        }
        out.push_back(std::move(plan));
        continue;
      }
      try {
        plan.source = make_source(m, metrics ? *metrics : adapters::extractor({}, ""), error);
        if (plan.source && !metrics) {
          plan.source = nullptr;
          where = path;  // the metrics and the state pointer
          error = metrics_error;
        }
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
