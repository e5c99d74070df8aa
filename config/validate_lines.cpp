// config/validate_lines: the lines and their machines: ids, sources, metrics, state and dashboard
// (OEE and a line's output: validate_oee.cpp).
#include "config/validate.hpp"

#include "adapters/http_url.hpp"
#include "adapters/sim_model.hpp"

#include <algorithm>

namespace edgemes::config::detail {

namespace {

constexpr size_t kMaxKeyMetrics = 8;

// Why `pointer` is not an RFC 6901 JSON pointer, or "" when it is.
std::string pointer_problem(const std::string& pointer) {
  if (!pointer.empty() && pointer[0] != '/')
    return "invalid JSON pointer '" + pointer + "': must start with '/' (e.g. \"/counters/boards\")";
  if (!valid_json_pointer(pointer))
    return "invalid JSON pointer '" + pointer + "': '~' must be followed by 0 or 1 (~0 is '~', ~1 is '/')";
  return "";
}

} // namespace

void validator::read_lines(const json& lines, const std::string& path,
                           std::vector<line_config>& out) {
  size_t machine_count = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line_path = path + "/" + std::to_string(i);
    if (!lines[i].is_object()) {
      problems_.push_back({line_path, "expected an object, got " + describe(lines[i])});
      continue;
    }
    object_reader r(lines[i], line_path, problems_, {"id", "name", "machines", "output"});
    line_config line;
    r.ident(line.id);
    remember("line", line.id, line_path, r.at("id"), line_ids_);
    line.name = line.id;
    r.nonempty_text("name", line.name);
    if (const json* machines = r.array("machines", true)) {
      machine_count += machines->size();
      for (size_t k = 0; k < machines->size(); ++k)
        read_machine((*machines)[k], r.at("machines") + "/" + std::to_string(k), line.machines);
    }
    read_line_output(r.object("output"), r.at("output"), line);
    out.push_back(std::move(line));
  }
  if (machine_count == 0)
    problems_.push_back({path, "no machines configured: add a line with at least one machine"});
}

void validator::read_machine(const json& j, const std::string& path,
                             std::vector<machine_config>& out) {
  if (!j.is_object()) {
    problems_.push_back({path, "expected an object, got " + describe(j)});
    return;
  }
  object_reader r(j, path, problems_,
                  {"id", "name", "type", "poll_interval_ms", "source", "metrics", "state",
                   "dashboard", "e10", "oee", "placements"});
  machine_config m;
  r.ident(m.id);
  remember("machine", m.id, path, r.at("id"), machine_ids_);
  m.name = m.id;
  r.nonempty_text("name", m.name);
  const bool has_type = r.text("type", m.type);
  r.integer("poll_interval_ms", m.poll_interval_ms, 10, kDayMs);
  bool has_url = false;
  if (const json* s = r.object("source", true))
    has_url = read_source(object_reader(*s, r.at("source"), problems_,
                                        {"adapter", "url", "timeout_ms", "max_reply_bytes", "seed",
                                         "host", "port", "unit_id", "max_registers_per_read",
                                         "max_gap", "broker", "topic", "stale_after_ms", "timestamp",
                                         "max_payload_bytes"}),
                          m.source);
  const bool modbus = m.source.adapter == "modbus_tcp";
  const json* metrics = r.object("metrics");
  if (metrics && !modbus)
    read_metrics(*metrics, r.at("metrics"), m.metrics);
  const bool has_state = modbus ? r.find("state") != nullptr : r.text("state", m.state);
  if (modbus)
    read_registers(metrics, r.find("state"), path, m);
  else if (has_state) {
    if (std::string why = pointer_problem(m.state); !why.empty()) {
      r.fail(r.at("state"), why);
      m.state.clear();
    }
  }

  const std::string source_path = r.at("source");
  if (m.source.adapter == "sim") {
    if (!has_type)
      r.fail(r.at("type"), "the sim adapter needs a type (one of: " +
                               join(adapters::sim_types(), ", ") + ")");
    else if (!adapters::is_sim_type(m.type))
      r.fail(r.at("type"), "the sim adapter has no machine type '" + m.type +
                               "' (expected one of: " + join(adapters::sim_types(), ", ") + ")");
    if (has_url)
      r.fail(source_path + "/url", "the sim adapter takes no url (remove it, or use adapter http_json)");
  } else if (modbus) {
    if ((!metrics || metrics->empty()) && !has_state)
      r.fail(path, "a modbus_tcp machine needs at least one metric or a state");
  } else if (m.source.adapter == "http_json") {
    if (!has_url)
      r.fail(source_path + "/url", "missing required key 'url' (the http_json adapter polls it)");
    // Judged on the keys present, so broken metrics are not reported twice.
    if ((!metrics || metrics->empty()) && !has_state)
      r.fail(path, "an http_json machine needs at least one metric or a state");
  } else if (m.source.adapter == "mqtt") {
    check_mqtt_machine(r, has_url, (metrics && !metrics->empty()) || has_state, m.source);
  }
  // A sim machine without `metrics` reports its type's standard metrics.
  std::vector<std::string> names;
  if (!metrics && m.source.adapter == "sim")
    names = sim_metric_names(m.type);
  for (const auto& metric : m.metrics)
    names.push_back(metric.first);
  read_dashboard(r.object("dashboard"), r.at("dashboard"), m.type, names, m.dashboard);
  if (const json* e10 = r.member("e10", json::value_t::object, "an object"))
    read_e10_map(*e10, r.at("e10"), m.e10);
  read_oee(r.object("oee"), r.at("oee"), names, m.oee);
  read_placements(r, names, m.placements);
  out.push_back(std::move(m));
}

// A list of distinct metric names of the machine; returns false when absent.
bool validator::metric_list(object_reader& r, const std::string& key,
                            const std::vector<std::string>& names, std::vector<std::string>& out) {
  const json* list = r.array(key);
  if (!list)
    return r.find(key) != nullptr;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = r.at(key) + "/" + std::to_string(i);
    const json& v = (*list)[i];
    if (!v.is_string()) {
      r.fail(at, "expected a string (a metric name), got " + describe(v));
      continue;
    }
    const std::string name = v.get<std::string>();
    if (!known_metric(r, at, name, names))
      continue;
    if (std::find(out.begin(), out.end(), name) != out.end())
      r.fail(at, "metric '" + name + "' is listed twice");
    else
      out.push_back(name);
  }
  return true;
}

bool validator::known_metric(object_reader& r, const std::string& at, const std::string& name,
                             const std::vector<std::string>& names) {
  if (std::find(names.begin(), names.end(), name) != names.end())
    return true;
  r.fail(at, "'" + name + "' is not a metric of this machine (" +
                 (names.empty() ? std::string("it has none") : "known: " + join(names, ", ")) + ")");
  return false;
}

// Reads `dashboard` (may be null) and fills every default from the machine's
// metric names (docs/CONFIG.md): counters = the *_total metrics; key metrics =
// the sim type's tile, else the first four; sparkline = the first key metric
// that is not a counter, else the first.
void validator::read_dashboard(const json* obj, const std::string& path, const std::string& type,
                               const std::vector<std::string>& names, dashboard_config& d) {
  bool has_keys = false, has_sparkline = false, has_counters = false;
  if (obj) {
    object_reader r(*obj, path, problems_, {"key_metrics", "sparkline", "counters"});
    has_keys = metric_list(r, "key_metrics", names, d.key_metrics);
    if (d.key_metrics.size() > kMaxKeyMetrics)
      r.fail(r.at("key_metrics"), "at most " + std::to_string(kMaxKeyMetrics) +
                                      " key metrics fit on a tile, got " +
                                      std::to_string(d.key_metrics.size()));
    has_sparkline = r.find("sparkline") != nullptr;
    std::string sparkline;
    if (r.text("sparkline", sparkline) && known_metric(r, r.at("sparkline"), sparkline, names))
      d.sparkline = sparkline;
    has_counters = metric_list(r, "counters", names, d.counters);
  }
  if (!has_counters)
    for (const auto& name : names)
      if (name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)
        d.counters.push_back(name);
  if (!has_keys) {
    // A machine of a simulated type's name starts with that type's tile.
    if (const auto* sim_type = adapters::find_sim_type(type))
      for (const auto& name : sim_type->key_metrics)
        if (std::find(names.begin(), names.end(), name) != names.end())
          d.key_metrics.push_back(name);
    if (d.key_metrics.empty())
      d.key_metrics.assign(names.begin(), names.begin() + std::min<size_t>(4, names.size()));
  }
  if (!has_sparkline) {
    for (const auto& name : d.key_metrics)
      if (std::find(d.counters.begin(), d.counters.end(), name) == d.counters.end()) {
        d.sparkline = name;
        break;
      }
    if (d.sparkline.empty() && !d.key_metrics.empty())
      d.sparkline = d.key_metrics.front();
  }
}

// Returns whether a `url` key is present (valid or not).
bool validator::read_source(object_reader r, source_config& s) {
  std::string adapter;
  if (r.text("adapter", adapter, true)) {
    if (adapter != "http_json" && adapter != "sim" && adapter != "modbus_tcp" && adapter != "mqtt")
      r.fail(r.at("adapter"),
             "unknown adapter '" + adapter + "' (expected http_json, modbus_tcp, sim or mqtt)");
    else
      s.adapter = adapter;
  }
  std::string url;
  const bool has_url = r.find("url") != nullptr;
  if (r.text("url", url) && s.adapter != "sim" && s.adapter != "modbus_tcp") {
    if (std::string why; !adapters::parse_http_url(url, &why))
      r.fail(r.at("url"), why);
    else
      s.url = url;
  }
  r.integer("timeout_ms", s.timeout_ms, 1, 10 * 60 * 1000);
  r.integer("max_reply_bytes", s.max_reply_bytes, 1, 1LL << 30);
  r.unsigned_integer("seed", s.seed);
  if (r.find("seed") && (s.adapter == "http_json" || s.adapter == "modbus_tcp" || s.adapter == "mqtt"))
    r.fail(r.at("seed"), "seed applies only to the sim adapter");
  read_modbus_source(r, s, has_url);
  read_mqtt_source(r, s);
  return has_url;
}

void validator::read_metrics(const json& metrics, const std::string& path,
                             std::vector<std::pair<std::string, std::string>>& out) {
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    const std::string at = path + "/" + pointer_token(it.key());
    if (!valid_ident(it.key())) {
      problems_.push_back({at, "invalid metric name '" + it.key() + "': " + kIdRule});
      continue;
    }
    if (!it->is_string()) {
      problems_.push_back({at, "expected a string (a JSON pointer), got " + describe(*it)});
      continue;
    }
    const std::string pointer = it->get<std::string>();
    if (std::string why = pointer_problem(pointer); !why.empty()) {
      problems_.push_back({at, why});
      continue;
    }
    out.emplace_back(it.key(), pointer);
  }
}

// Records where an id was first seen; a repeat is a problem naming both.
void validator::remember(const char* what, const std::string& id, const std::string& owner,
                         const std::string& id_path, std::map<std::string, std::string>& seen) {
  if (id.empty())
    return;
  auto [it, fresh] = seen.emplace(id, owner);
  if (!fresh)
    problems_.push_back({id_path, std::string("duplicate ") + what + " id '" + id +
                                      "' (first at " + it->second + ")"});
}

} // namespace edgemes::config::detail
