// config/validate_modbus: a modbus_tcp machine's register map — its metrics
// and state as register objects. Each register is judged by the rules of
// adapters/modbus_map (the adapter's own), then all of a machine's registers
// together for overlaps, so check-config refuses exactly what the adapter
// would.
#include "config/validate.hpp"

#include "adapters/modbus_map.hpp"

#include <algorithm>
#include <cmath>

namespace edgemes::config::detail {

namespace mb = adapters::modbus;

namespace {

const std::vector<std::string> kRegisterKeys{"table", "address", "type", "word_order",
                                             "byte_order", "scale", "offset"};

// A finite number (integer or not) at `key`; false when absent or broken.
bool real(object_reader& r, const std::string& key, double& out) {
  const json* v = r.find(key);
  if (!v)
    return false;
  if (!v->is_number()) {
    r.fail(r.at(key), "expected a number, got " + describe(*v));
    return false;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d)) {
    r.fail(r.at(key), "must be a finite number");
    return false;
  }
  out = d;
  return true;
}

// A name from `names` at `key`; false when absent or broken.
bool choice(object_reader& r, const std::string& key, const std::vector<std::string>& names,
            std::string& out, bool required) {
  std::string value;
  if (!r.text(key, value, required))
    return false;
  if (std::find(names.begin(), names.end(), value) == names.end()) {
    r.fail(r.at(key), "unknown " + key + " '" + value + "' (expected one of: " + join(names, ", ") + ")");
    return false;
  }
  out = value;
  return true;
}

mb::point to_point(const register_config& c) {
  mb::point p;
  p.tbl = *mb::parse_table(c.table);
  p.address = static_cast<uint16_t>(c.address);
  p.type = *mb::parse_type(c.type);
  p.word_order = *mb::parse_order(c.word_order);
  p.byte_order = *mb::parse_order(c.byte_order);
  p.scale = c.scale;
  p.offset = c.offset;
  return p;
}

std::string registers_of(const mb::point& p) {
  return mb::describe({p.tbl, p.address, static_cast<uint16_t>(mb::width(p.type)), 0});
}

} // namespace

// One register object at `path`; true when every field is valid (then `out` is complete).
bool validator::read_register(const json& j, const std::string& path, bool is_state,
                              register_config& out, std::map<int64_t, std::string>* state_map) {
  if (!j.is_object()) {
    problems_.push_back({path, std::string("expected an object {\"table\", \"address\", \"type\", ...}") +
                                   ", got " + describe(j)});
    return false;
  }
  std::vector<std::string> keys = kRegisterKeys;
  if (is_state)
    keys.push_back("map");
  object_reader r(j, path, problems_, keys);
  const size_t before = problems_.size();
  const bool has_table = choice(r, "table", mb::table_names(), out.table, true);
  const bool has_type = choice(r, "type", mb::type_names(), out.type, true);
  const bool has_address = r.find("address") != nullptr;
  if (!has_address)
    r.fail(r.at("address"), "missing required key 'address'");
  r.integer("address", out.address, 0, 65535);
  choice(r, "word_order", {"big", "little"}, out.word_order, false);
  choice(r, "byte_order", {"big", "little"}, out.byte_order, false);
  if (real(r, "scale", out.scale) && out.scale == 0)
    r.fail(r.at("scale"), "must not be 0 (every value would be the offset)");
  real(r, "offset", out.offset);
  if (has_table && has_type && problems_.size() == before) {
    const auto tbl = *mb::parse_table(out.table);
    const auto type = *mb::parse_type(out.type);
    if (std::string why = mb::placement_problem(tbl, out.address, type); !why.empty())
      r.fail(r.at(why.rfind("address", 0) == 0 || why.find(" needs ") != std::string::npos
                      ? "address"
                      : "type"),
             why);
    else if (is_state && !mb::is_integer(type))
      r.fail(r.at("type"), "a state code is an integer: use an integer type or bool, not " + out.type);
  }
  if (is_state && state_map) {
    if (const json* map = r.object("map", true)) {
      if (map->empty())
        r.fail(r.at("map"), "needs at least one code, e.g. {\"1\": \"RUN\"}");
      for (auto it = map->begin(); it != map->end(); ++it) {
        const std::string at = r.at("map") + "/" + pointer_token(it.key());
        const std::string& key = it.key();
        size_t used = 0;
        int64_t code = 0;
        bool numeric = !key.empty() && key.size() <= 20;
        try {
          code = numeric ? std::stoll(key, &used) : 0;
        } catch (const std::exception&) {
          numeric = false;
        }
        if (!numeric || used != key.size() || key[0] == '+' || key[0] == ' ') {
          r.fail(at, "a state code must be a whole number written in decimal, got '" + key + "'");
          continue;
        }
        if (!it->is_string() || it->get<std::string>().empty()) {
          r.fail(at, "expected the state's text (a non-empty string), got " + describe(*it));
          continue;
        }
        (*state_map)[code] = it->get<std::string>();
      }
    }
  }
  return problems_.size() == before;
}

// The modbus_tcp keys of `source`; any of them with another adapter is a mistake.
void validator::read_modbus_source(object_reader& r, source_config& s, bool has_url) {
  const bool modbus = s.adapter == "modbus_tcp";
  if (!modbus) {
    for (const char* key : {"host", "port", "unit_id", "max_registers_per_read", "max_gap"})
      if (r.find(key))
        r.fail(r.at(key), std::string(key) + " applies only to the modbus_tcp adapter");
    return;
  }
  if (r.find("host"))
    r.nonempty_text("host", s.host);
  else
    r.fail(r.at("host"), "missing required key 'host' (the modbus_tcp adapter connects to it)");
  // One ':' is host:port (an IPv6 address has two or more).
  if (s.host.find_first_of(" \t/") != std::string::npos ||
      std::count(s.host.begin(), s.host.end(), ':') == 1) {
    r.fail(r.at("host"), "a host name or address, not '" + s.host + "' (the port goes in 'port')");
    s.host.clear();
  }
  r.integer("port", s.port, 1, 65535);
  r.integer("unit_id", s.unit_id, 0, 255);
  r.integer("max_registers_per_read", s.max_registers_per_read, 1, mb::kMaxRegistersPerRead);
  r.integer("max_gap", s.max_gap, 0, mb::kMaxRegistersPerRead - 1);
  if (has_url)
    r.fail(r.at("url"), "the modbus_tcp adapter takes host and port, not a url");
  if (r.find("max_reply_bytes"))
    r.fail(r.at("max_reply_bytes"), "max_reply_bytes applies only to the http_json adapter");
}

void validator::read_registers(const json* metrics, const json* state, const std::string& path,
                               machine_config& m) {
  std::vector<mb::point> points;
  std::vector<std::string> where;  // each point's JSON path
  if (metrics) {
    for (auto it = metrics->begin(); it != metrics->end(); ++it) {
      const std::string at = path + "/metrics/" + pointer_token(it.key());
      if (!valid_ident(it.key())) {
        problems_.push_back({at, "invalid metric name '" + it.key() + "': " + kIdRule});
        continue;
      }
      register_config reg;
      if (!read_register(*it, at, false, reg, nullptr))
        continue;
      m.metrics.emplace_back(it.key(), "");
      m.registers.metrics.push_back(reg);
      points.push_back(to_point(reg));
      where.push_back(at);
    }
  }
  if (state) {
    register_config reg;
    std::map<int64_t, std::string> texts;
    if (read_register(*state, path + "/state", true, reg, &texts)) {
      m.registers.has_state = true;
      m.registers.state = reg;
      m.registers.state_map = std::move(texts);
      points.push_back(to_point(reg));
      where.push_back(path + "/state");
    }
  }
  for (const auto& clash : mb::overlaps(points))
    problems_.push_back({where[clash.later],
                         "registers " + registers_of(points[clash.later]) + " overlap " +
                             registers_of(points[clash.earlier]) + " of " + where[clash.earlier] +
                             " (two values may share registers only when they read them alike: "
                             "same address, type and orders)"});
}

} // namespace edgemes::config::detail
