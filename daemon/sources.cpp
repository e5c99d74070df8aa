// daemon/sources: see the header. The factory is a switch on the adapter name
// that config validation already restricted to the known adapters.
#include "daemon/sources.hpp"

#include "adapters/modbus_tcp.hpp"
#include "adapters/sim_model.hpp"

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace edgemes::daemon {

namespace {

// Config has judged the names already; an unknown one here is a bug.
adapters::modbus::point register_point(const config::register_config& r) {
  namespace mb = adapters::modbus;
  auto tbl = mb::parse_table(r.table);
  auto type = mb::parse_type(r.type);
  auto word = mb::parse_order(r.word_order);
  auto byte = mb::parse_order(r.byte_order);
  if (!tbl || !type || !word || !byte || r.address < 0 || r.address > 65535)
    throw std::invalid_argument("register " + r.table + " " + std::to_string(r.address) + " " +
                                r.type + " is not valid");
  return {*tbl, static_cast<uint16_t>(r.address), *type, *word, *byte, r.scale, r.offset};
}

std::shared_ptr<adapters::source> make_modbus(const config::machine_config& m, std::string& error) {
  const auto& s = m.source;
  adapters::modbus_tcp_settings settings{s.host,
                                         static_cast<int>(s.port),
                                         static_cast<int>(s.unit_id),
                                         s.timeout_ms,
                                         static_cast<int>(s.max_registers_per_read),
                                         static_cast<int>(s.max_gap)};
  std::vector<std::pair<std::string, adapters::modbus::point>> metrics;
  for (size_t i = 0; i < m.metrics.size() && i < m.registers.metrics.size(); ++i)
    metrics.emplace_back(m.metrics[i].first, register_point(m.registers.metrics[i]));
  std::optional<adapters::modbus_state> state;
  if (m.registers.has_state)
    state = adapters::modbus_state{register_point(m.registers.state), m.registers.state_map};
  return adapters::make_modbus_tcp(settings, std::move(metrics), std::move(state), &error);
}

std::shared_ptr<adapters::source> make_source(const config::machine_config& m,
                                              const adapters::extractor& metrics,
                                              std::string& error) {
  if (m.source.adapter == "sim")
    return adapters::make_sim(m.id, m.type, m.source.seed, metrics);
  if (m.source.adapter == "http_json")
    return adapters::make_http_json(m.source.url, m.source.timeout_ms, m.source.max_reply_bytes,
                                    metrics, &error);
  if (m.source.adapter == "modbus_tcp")
    return make_modbus(m, error);
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
