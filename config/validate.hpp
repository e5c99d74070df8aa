// config/validate: the validator's private pieces, shared by the files that
// walk a config document (object_reader.cpp, validate_site.cpp,
// validate_lines.cpp) and by parse() in config.cpp. Not part of config's
// interface: nothing outside config/ includes it.
//
// The walk: parse() reads the text once into an nlohmann::ordered_json tree
// (ordered so metrics keep file order), then validator::read walks it section
// by section. Each reader reports unknown keys and wrong types for its own
// object and keeps the default for anything absent or broken, so one walk
// finds every problem. Cross-field rules (max_queue >= max_batch,
// adapter-specific keys, duplicate ids) run after the fields they compare
// have been read.
#pragma once

#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace edgemes::config::detail {

using json = nlohmann::ordered_json;

constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr const char* kIdRule = "use 1-64 characters from A-Z a-z 0-9 _ . -";

std::string join(const std::vector<std::string>& items, const char* sep);

// One reference token of a JSON pointer: '~' -> "~0", '/' -> "~1".
std::string pointer_token(const std::string& key);

// True for an id or metric name matching kIdRule.
bool valid_ident(const std::string& s);

// "string", "array", ... and for a fraction the number itself ("number 1.5").
std::string describe(const json& v);

// Reads the members of one JSON object at `path`. Reports unknown keys on
// construction; each accessor reports a wrong type or range and leaves `out`
// untouched, so the default survives any problem.
class object_reader {
public:
  object_reader(const json& obj, std::string path, std::vector<problem>& problems,
                const std::vector<std::string>& keys);

  const std::string& path() const { return path_; }
  std::string at(const std::string& key) const { return path_ + "/" + pointer_token(key); }
  void fail(const std::string& path, std::string message) {
    problems_.push_back({path, std::move(message)});
  }

  const json* find(const std::string& key) const {
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  // The member if present with the wanted type; absent -> nullptr (and a
  // problem when `required`); wrong type -> nullptr and a problem.
  const json* member(const std::string& key, json::value_t type, const char* type_name,
                     bool required = false);
  const json* object(const std::string& key, bool required = false) {
    return member(key, json::value_t::object, "an object", required);
  }
  const json* array(const std::string& key, bool required = false) {
    return member(key, json::value_t::array, "an array", required);
  }

  // True when present and a string (then `out` is set).
  bool text(const std::string& key, std::string& out, bool required = false);
  void nonempty_text(const std::string& key, std::string& out);
  void boolean(const std::string& key, bool& out);
  void integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi);
  void unsigned_integer(const std::string& key, uint64_t& out);
  // A required id matching kIdRule.
  void ident(std::string& out);

private:
  const json& obj_;
  std::string path_;
  std::vector<problem>& problems_;
};

// Walks a whole document; problems accumulate in `problems_`. The site-wide
// sections are read in validate_site.cpp, the lines and their machines in
// validate_lines.cpp.
class validator {
public:
  validator(std::vector<problem>& problems, std::vector<problem>& warnings)
      : problems_(problems), warnings_(warnings) {}

  void read(const json& doc, config& out);

private:
  void read_database(object_reader r, database_config& db);
  void read_writer(object_reader r, writer_config& w);
  void read_api(object_reader r, api_config& a);
  // validate_tokens.cpp: `api.tokens`, each token read from its file, and no
  // token twice (the inline `api.token` included).
  void read_tokens(const json& tokens, const std::string& path, api_config& a);
  bool read_token(const json& j, const std::string& path, api_token_config& out);
  void read_pollers(object_reader r, pollers_config& p);
  // validate_mqtt.cpp: the brokers, and an mqtt machine's source keys and rules.
  void read_mqtt(object_reader r, mqtt_config& m);
  void read_broker(const json& j, const std::string& path, std::vector<mqtt_broker_config>& out);
  void read_mqtt_source(object_reader& r, source_config& s);
  void check_mqtt_machine(object_reader& r, bool has_url, bool has_metrics_or_state,
                          const source_config& s);
  void read_shifts(const json& shifts, const std::string& path, std::vector<shift_config>& out);
  void read_run_states(const json& states, const std::string& path, std::vector<std::string>& out);
  void read_e10(object_reader r, e10_config& out);
  void read_e10_map(const json& j, const std::string& path, e10_map& out);

  void read_lines(const json& lines, const std::string& path, std::vector<line_config>& out);
  void read_machine(const json& j, const std::string& path, std::vector<machine_config>& out);
  bool metric_list(object_reader& r, const std::string& key, const std::vector<std::string>& names,
                   std::vector<std::string>& out);
  bool known_metric(object_reader& r, const std::string& at, const std::string& name,
                    const std::vector<std::string>& names);
  void read_dashboard(const json* obj, const std::string& path, const std::string& type,
                      const std::vector<std::string>& names, dashboard_config& d);
  // validate_oee.cpp: a machine's `oee` and `placements`, a line's `output`.
  void read_oee(const json* obj, const std::string& path, const std::vector<std::string>& names,
                oee_config& out);
  void read_placements(object_reader& r, const std::vector<std::string>& names, std::string& out);
  void read_line_output(const json* obj, const std::string& path, line_config& line);
  bool read_source(object_reader r, source_config& s);
  void read_modbus_source(object_reader& r, source_config& s, bool has_url);
  void read_metrics(const json& metrics, const std::string& path,
                    std::vector<std::pair<std::string, std::string>>& out);
  // modbus_tcp (validate_modbus.cpp): `metrics` and `state` as registers.
  void read_registers(const json* metrics, const json* state, const std::string& path,
                      machine_config& m);
  bool read_register(const json& j, const std::string& path, bool is_state, register_config& out,
                     std::map<int64_t, std::string>* state_map);
  void remember(const char* what, const std::string& id, const std::string& owner,
                const std::string& id_path, std::map<std::string, std::string>& seen);

  std::vector<problem>& problems_;
  std::vector<problem>& warnings_;
  std::map<std::string, std::string> line_ids_;     // id -> path of its first line
  std::map<std::string, std::string> machine_ids_;  // id -> path of its first machine
  std::map<std::string, std::string> broker_ids_;   // id -> path of its first broker
  std::map<std::string, std::string> client_ids_;   // explicit client_id -> path of its broker
  std::map<std::pair<std::string, std::string>, std::string> topics_;  // (broker, topic) -> topic's path
};

} // namespace edgemes::config::detail
