// config/e10: SEMI E10 classes of the machines' own state texts — the
// built-in map, the lookup, and the validation of `e10` sections.
#include "config/config.hpp"
#include "config/validate.hpp"

#include <algorithm>
#include <cctype>

namespace edgemes::config {

const std::vector<std::string>& e10_classes() {
  static const std::vector<std::string> classes{"PRD", "SBY", "ENG", "SDT", "UDT", "NST"};
  return classes;
}

const e10_map& e10_default_map() {
  // Common texts of SMT equipment and of edgemes-sim (RUN, IDLE, DOWN, ALARM).
  // Setup and changeover are scheduled downtime in E10; waiting for boards
  // (starved) or for the next machine (blocked) is standby.
  static const e10_map defaults = [] {
    e10_map m;
    auto put = [&m](const char* cls, std::initializer_list<const char*> texts) {
      for (const char* t : texts)
        m[t] = cls;
    };
    put("PRD", {"RUN", "RUNNING", "PRODUCING", "PRODUCTION", "PRODUCTIVE", "AUTO", "BUSY"});
    put("SBY", {"IDLE", "STANDBY", "READY", "WAIT", "WAITING", "STARVED", "BLOCKED"});
    put("ENG", {"ENGINEERING", "TEST", "TESTING", "QUALIFICATION"});
    put("SDT", {"SETUP", "CHANGEOVER", "MAINTENANCE", "PM", "CLEANING", "CALIBRATION"});
    put("UDT", {"DOWN", "ALARM", "ERROR", "FAULT", "FAILURE", "REPAIR"});
    put("NST", {"OFF", "SHUTDOWN", "NONSCHEDULED", "NON_SCHEDULED", "NST"});
    return m;
  }();
  return defaults;
}

std::string e10_class(const config& c, const machine_config& m, const std::string& state) {
  if (state == e10_offline)
    return e10_offline;
  if (auto it = m.e10.find(state); it != m.e10.end())
    return it->second;
  for (const char* type : {m.type.c_str(), "*"}) {
    auto t = c.e10.types.find(type);
    if (t == c.e10.types.end())
      continue;
    if (auto it = t->second.find(state); it != t->second.end())
      return it->second;
  }
  std::string up = state;
  std::transform(up.begin(), up.end(), up.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  const auto& d = e10_default_map();
  if (auto it = d.find(up); it != d.end())
    return it->second;
  return e10_unmapped;
}

namespace detail {

void validator::read_e10(object_reader r, e10_config& out) {
  if (const json* types = r.object("types")) {
    for (auto it = types->begin(); it != types->end(); ++it) {
      const std::string at = r.at("types") + "/" + pointer_token(it.key());
      if (it.key().empty() || it.key().size() > 64)
        problems_.push_back({at, "a machine type must be 1 to 64 characters"});
      else
        read_e10_map(*it, at, out.types[it.key()]);
    }
  }
}

void validator::read_e10_map(const json& j, const std::string& path, e10_map& out) {
  if (!j.is_object()) {
    problems_.push_back({path, "expected an object of state text -> E10 class, got " + describe(j)});
    return;
  }
  const auto& classes = e10_classes();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string at = path + "/" + pointer_token(it.key());
    if (it.key().empty() || it.key().size() > 64) {
      problems_.push_back({at, "a state text must be 1 to 64 characters"});
      continue;
    }
    if (it.key() == e10_offline) {
      problems_.push_back({at, "OFFLINE is edgemes's own class for time a machine could not be "
                               "reached; it cannot be mapped"});
      continue;
    }
    if (!it->is_string()) {
      problems_.push_back({at, "expected an E10 class (" + join(classes, ", ") + "), got " +
                                   describe(*it)});
      continue;
    }
    const std::string cls = it->get<std::string>();
    if (std::find(classes.begin(), classes.end(), cls) == classes.end()) {
      problems_.push_back({at, "unknown E10 class '" + cls + "' (expected one of: " +
                                   join(classes, ", ") + ")"});
      continue;
    }
    out[it.key()] = cls;
  }
}

} // namespace detail

} // namespace edgemes::config
