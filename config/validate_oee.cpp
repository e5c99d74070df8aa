// config/validate_oee: what the MES layer needs of a machine and a line
// (docs/CONFIG.md, `oee`, `placements`, `output`): a machine's ideal cycle
// and its unit counters, its placement counter, and the counter of a line's
// finished boards. Every name must be one of the machine's metrics.
#include "config/validate.hpp"

#include "adapters/sim_model.hpp"

#include <algorithm>
#include <cmath>

namespace edgemes::config::detail {

namespace {

constexpr double kMaxCycleS = 86400;  // one unit a day is the slowest ideal we accept

// A machine's metric names as parse() leaves them: a sim machine without
// `metrics` gets its type's standard metrics (as read_machine assumes).
std::vector<std::string> metric_names(const machine_config& m) {
  std::vector<std::string> names;
  if (m.metrics.empty() && m.source.adapter == "sim")
    return sim_metric_names(m.type);
  for (const auto& metric : m.metrics)
    names.push_back(metric.first);
  return names;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

void validator::read_oee(const json* obj, const std::string& path,
                         const std::vector<std::string>& names, oee_config& out) {
  if (!obj)
    return;
  object_reader r(*obj, path, problems_,
                  {"ideal_cycle_s", "ideal_rate_per_hour", "total", "good", "reject"});
  // A positive finite number (an integer too), else 0 after a problem.
  auto number = [&](const char* key) -> double {
    const json* v = r.find(key);
    if (!v)
      return 0;
    if (!v->is_number()) {
      r.fail(r.at(key), std::string("expected a number, got ") + describe(*v));
      return 0;
    }
    const double x = v->get<double>();
    if (!(x > 0) || !std::isfinite(x)) {
      r.fail(r.at(key), std::string("must be a positive number, got ") + describe(*v));
      return 0;
    }
    return x;
  };
  const double c = number("ideal_cycle_s");
  const double per_hour = number("ideal_rate_per_hour");
  if (r.find("ideal_cycle_s") && r.find("ideal_rate_per_hour"))
    r.fail(path, "give ideal_cycle_s or ideal_rate_per_hour, not both (one is 3600 / the other)");
  else if (c > 0)
    out.ideal_cycle_s = c;
  else if (per_hour > 0)
    out.ideal_cycle_s = 3600.0 / per_hour;
  if (out.ideal_cycle_s > kMaxCycleS) {
    r.fail(r.at(c > 0 ? "ideal_cycle_s" : "ideal_rate_per_hour"),
           "an ideal cycle longer than a day (" + std::to_string(out.ideal_cycle_s) +
               " s) is not a production rate");
    out.ideal_cycle_s = 0;
  }
  for (auto [key, field] : {std::pair<const char*, std::string*>{"total", &out.total},
                            {"good", &out.good},
                            {"reject", &out.reject}}) {
    std::string name;
    if (r.text(key, name) && known_metric(r, r.at(key), name, names))
      *field = name;
  }
  if (r.find("good") && r.find("reject"))
    r.fail(path, "give good or reject, not both (good = total - reject)");
  if ((r.find("good") || r.find("reject")) && !r.find("total"))
    r.fail(path, "quality needs 'total' as well as 'good' or 'reject'");
  if (!out.total.empty() && (out.total == out.good || out.total == out.reject))
    r.fail(path, "'total' and '" + std::string(out.total == out.good ? "good" : "reject") +
                     "' name the same metric '" + out.total + "'");
}

void validator::read_placements(object_reader& r, const std::vector<std::string>& names,
                                std::string& out) {
  if (!r.find("placements")) {
    if (has(names, "placements_total"))
      out = "placements_total";
    return;
  }
  std::string name;
  if (r.text("placements", name) && known_metric(r, r.at("placements"), name, names))
    out = name;
}

void validator::read_line_output(const json* obj, const std::string& path, line_config& line) {
  if (!obj) {
    for (auto m = line.machines.rbegin(); m != line.machines.rend(); ++m)
      if (!m->oee.total.empty()) {
        line.output = {m->id, m->oee.total};
        break;
      }
    return;
  }
  object_reader r(*obj, path, problems_, {"machine", "metric"});
  std::string machine, metric;
  const bool has_machine = r.text("machine", machine, true);
  const bool has_metric = r.text("metric", metric, true);
  if (!has_machine || !has_metric)
    return;
  auto m = std::find_if(line.machines.begin(), line.machines.end(),
                        [&](const machine_config& x) { return x.id == machine; });
  if (m == line.machines.end()) {
    std::vector<std::string> ids;
    for (const auto& x : line.machines)
      ids.push_back(x.id);
    r.fail(r.at("machine"), "'" + machine + "' is not a machine of line '" + line.id + "' (" +
                                (ids.empty() ? std::string("it has none") : "its machines: " + join(ids, ", ")) +
                                ")");
    return;
  }
  if (known_metric(r, r.at("metric"), metric, metric_names(*m)))
    line.output = {machine, metric};
}

} // namespace edgemes::config::detail
