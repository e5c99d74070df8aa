// config: parse the text once into an nlohmann::ordered_json tree (ordered so
// metrics keep file order), then walk it section by section. Each reader
// reports unknown keys and wrong types for its own object and keeps the
// default for anything absent or broken, so one walk finds every problem.
// Cross-field rules (max_queue >= max_batch, adapter-specific keys, duplicate
// ids) run after the fields they compare have been read.
#include "config/config.hpp"

#include "adapters/http_url.hpp"
#include "adapters/sim_model.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>

namespace edgemes::config {
namespace {

using json = nlohmann::ordered_json;

constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

const std::vector<std::string> kSynchronous{"OFF", "NORMAL", "FULL", "EXTRA"};

constexpr size_t kMaxKeyMetrics = 8;
constexpr size_t kMaxShifts = 12;
constexpr size_t kMaxNameLength = 64;  // shift names and run states
const char* const kIdRule = "use 1-64 characters from A-Z a-z 0-9 _ . -";

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty())
      out += sep;
    out += item;
  }
  return out;
}

// One reference token of a JSON pointer: '~' -> "~0", '/' -> "~1".
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

bool valid_ident(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "string", "array", ... and for a fraction the number itself ("number 1.5").
std::string describe(const json& v) {
  if (v.is_number_float())
    return "number " + v.dump();
  return v.type_name();
}

std::string range_message(int64_t lo, int64_t hi, const std::string& got) {
  if (hi == kNoMax)
    return "must be at least " + std::to_string(lo) + ", got " + got;
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + got;
}

// Why `pointer` is not an RFC 6901 JSON pointer, or "" when it is.
std::string pointer_problem(const std::string& pointer) {
  if (!pointer.empty() && pointer[0] != '/')
    return "invalid JSON pointer '" + pointer + "': must start with '/' (e.g. \"/counters/boards\")";
  if (!valid_json_pointer(pointer))
    return "invalid JSON pointer '" + pointer + "': '~' must be followed by 0 or 1 (~0 is '~', ~1 is '/')";
  return "";
}

// "line L, column C: <what>" for a syntax error, computed from the byte offset:
// nlohmann's own position counts a just-read newline as column 0 of the next line.
std::string syntax_message(const std::string& text, const json::parse_error& e,
                           const std::string& origin) {
  const size_t at = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  std::string what = e.what();
  const size_t column_word = what.find(", column ");
  const size_t colon = column_word == std::string::npos ? what.find("] ") : what.find(": ", column_word);
  if (colon != std::string::npos)
    what = what.substr(colon + 2);
  return origin + ": line " + std::to_string(line) + ", column " +
         std::to_string(at - line_start + 1) + ": " + what;
}

// Reads the members of one JSON object at `path`. Reports unknown keys on
// construction; each accessor reports a wrong type or range and leaves `out`
// untouched, so the default survives any problem.
class object_reader {
public:
  object_reader(const json& obj, std::string path, std::vector<problem>& problems,
                const std::vector<std::string>& keys)
      : obj_(obj), path_(std::move(path)), problems_(problems) {
    for (auto it = obj_.begin(); it != obj_.end(); ++it)
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
        fail(at(it.key()), "unknown key '" + it.key() + "' (expected one of: " + join(keys, ", ") + ")");
  }

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
                     bool required = false) {
    const json* v = find(key);
    if (!v) {
      if (required)
        fail(at(key), "missing required key '" + key + "'");
      return nullptr;
    }
    if (v->type() != type) {
      fail(at(key), std::string("expected ") + type_name + ", got " + describe(*v));
      return nullptr;
    }
    return v;
  }
  const json* object(const std::string& key, bool required = false) {
    return member(key, json::value_t::object, "an object", required);
  }
  const json* array(const std::string& key, bool required = false) {
    return member(key, json::value_t::array, "an array", required);
  }

  // True when present and a string (then `out` is set).
  bool text(const std::string& key, std::string& out, bool required = false) {
    const json* v = member(key, json::value_t::string, "a string", required);
    if (v)
      out = v->get<std::string>();
    return v != nullptr;
  }
  void nonempty_text(const std::string& key, std::string& out) {
    std::string value;
    if (!text(key, value))
      return;
    if (value.empty())
      fail(at(key), "must not be empty");
    else
      out = value;
  }

  void boolean(const std::string& key, bool& out) {
    if (const json* v = member(key, json::value_t::boolean, "a boolean (true or false)"))
      out = v->get<bool>();
  }

  void integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi) {
    const json* v = find(key);
    if (!v)
      return;
    if (!v->is_number_integer()) {
      fail(at(key), "expected an integer, got " + describe(*v));
      return;
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(kNoMax)) {
      fail(at(key), range_message(lo, hi, v->dump()));
      return;
    }
    const int64_t n = v->get<int64_t>();
    if (n < lo || n > hi) {
      fail(at(key), range_message(lo, hi, std::to_string(n)));
      return;
    }
    out = n;
  }

  void unsigned_integer(const std::string& key, uint64_t& out) {
    const json* v = find(key);
    if (!v)
      return;
    if (!v->is_number_integer())
      fail(at(key), "expected an integer, got " + describe(*v));
    else if (!v->is_number_unsigned())
      fail(at(key), range_message(0, kNoMax, v->dump()));
    else
      out = v->get<uint64_t>();
  }

  // A required id matching kIdRule.
  void ident(std::string& out) {
    std::string value;
    if (!text("id", value, true))
      return;
    if (!valid_ident(value))
      fail(at("id"), "invalid id '" + value + "': " + kIdRule);
    else
      out = value;
  }

private:
  const json& obj_;
  std::string path_;
  std::vector<problem>& problems_;
};

// Walks a whole document; problems accumulate in `problems_`.
class validator {
public:
  explicit validator(std::vector<problem>& problems) : problems_(problems) {}

  void read(const json& doc, config& out) {
    if (!doc.is_object()) {
      problems_.push_back({"", "expected a JSON object at the top level, got " + describe(doc)});
      return;
    }
    object_reader r(doc, "", problems_,
                    {"site", "database", "writer", "api", "pollers", "shifts", "run_states",
                     "lines"});
    r.nonempty_text("site", out.site);
    if (const json* s = r.object("database"))
      read_database(object_reader(*s, r.at("database"), problems_, database_keys()), out.database);
    if (const json* s = r.object("writer"))
      read_writer(object_reader(*s, r.at("writer"), problems_, {"max_batch", "flush_interval_ms", "max_queue"}),
                  out.writer);
    if (const json* s = r.object("api"))
      read_api(object_reader(*s, r.at("api"), problems_,
                             {"bind", "port", "query_actors", "request_timeout_ms", "max_pending",
                              "token"}),
               out.api);
    if (const json* s = r.object("pollers"))
      read_pollers(object_reader(*s, r.at("pollers"), problems_,
                                 {"http_workers", "max_backoff_ms", "offline_after_failures"}),
                   out.pollers);
    if (const json* shifts = r.array("shifts"))
      read_shifts(*shifts, r.at("shifts"), out.shifts);
    if (const json* states = r.array("run_states"))
      read_run_states(*states, r.at("run_states"), out.run_states);
    if (const json* lines = r.array("lines", true))
      read_lines(*lines, r.at("lines"), out.lines);
  }

private:
  static std::vector<std::string> database_keys() {
    return {"path", "synchronous", "cache_size_kib", "read_cache_size_kib", "memory_limit_kib", "busy_timeout_ms", "foreign_keys",
            "wal_autocheckpoint_pages", "journal_size_limit_bytes", "wal_max_bytes",
            "checkpoint_interval_ms", "retention_days", "chunk_window_ms", "compaction_grace_ms",
            "status_interval_ms"};
  }

  void read_database(object_reader r, database_config& db) {
    r.nonempty_text("path", db.path);
    std::string sync;
    if (r.text("synchronous", sync)) {
      if (std::find(kSynchronous.begin(), kSynchronous.end(), upper(sync)) == kSynchronous.end())
        r.fail(r.at("synchronous"),
               "unknown synchronous mode '" + sync + "' (expected one of: " + join(kSynchronous, ", ") + ")");
      else
        db.synchronous = upper(sync);
    }
    r.integer("cache_size_kib", db.cache_size_kib, 1, kInt32Max);
    r.integer("read_cache_size_kib", db.read_cache_size_kib, 1, kInt32Max);
    r.integer("memory_limit_kib", db.memory_limit_kib, 0, kInt32Max);
    r.integer("busy_timeout_ms", db.busy_timeout_ms, 0, kInt32Max);
    r.boolean("foreign_keys", db.foreign_keys);
    r.integer("wal_autocheckpoint_pages", db.wal_autocheckpoint_pages, 1, kInt32Max);
    r.integer("journal_size_limit_bytes", db.journal_size_limit_bytes, -1, kNoMax);
    r.integer("wal_max_bytes", db.wal_max_bytes, 1 << 20, kNoMax);
    r.integer("checkpoint_interval_ms", db.checkpoint_interval_ms, 10, kDayMs);
    r.integer("retention_days", db.retention_days, 0, 36500);
    r.integer("chunk_window_ms", db.chunk_window_ms, 1000, kDayMs);
    r.integer("compaction_grace_ms", db.compaction_grace_ms, 0, kDayMs);
    r.integer("status_interval_ms", db.status_interval_ms, 0, kDayMs);
  }

  void read_writer(object_reader r, writer_config& w) {
    r.integer("max_batch", w.max_batch, 1, 1000000);
    r.integer("flush_interval_ms", w.flush_interval_ms, 1, 3600 * 1000);
    // Judged against the max_batch in effect, so a bad max_batch is reported once.
    r.integer("max_queue", w.max_queue, 1, 100000000);
    if (w.max_queue < w.max_batch)
      r.fail(r.at("max_queue"), "must be at least max_batch (" + std::to_string(w.max_batch) +
                                    "), got " + std::to_string(w.max_queue));
  }

  void read_api(object_reader r, api_config& a) {
    std::string bind;
    if (r.text("bind", bind)) {
      if (bind.empty() || bind.find_first_of(" \t\r\n") != std::string::npos)
        r.fail(r.at("bind"), "expected an IP address or host name, got '" + bind + "'");
      else
        a.bind = bind;
    }
    r.integer("port", a.port, 1, 65535);
    r.integer("query_actors", a.query_actors, 0, 256);
    r.integer("request_timeout_ms", a.request_timeout_ms, 1, 10 * 60 * 1000);
    r.integer("max_pending", a.max_pending, 1, 1000000);
    std::string token;
    if (r.text("token", token)) {
      if (!token.empty() && (token.size() < 16 || token.find_first_of(" \t\r\n") != std::string::npos))
        r.fail(r.at("token"), "a token must be at least 16 characters without spaces (or \"\" for none)");
      else
        a.token = token;
    }
  }

  void read_pollers(object_reader r, pollers_config& p) {
    r.integer("http_workers", p.http_workers, 1, 1024);
    r.integer("max_backoff_ms", p.max_backoff_ms, 1, kDayMs);
    r.integer("offline_after_failures", p.offline_after_failures, 1, 1000000);
  }

  // Minutes after midnight of "HH:MM" (00:00 .. 23:59), or -1.
  static int time_of_day(const std::string& text) {
    if (text.size() != 5 || text[2] != ':' || !std::isdigit(static_cast<unsigned char>(text[0])) ||
        !std::isdigit(static_cast<unsigned char>(text[1])) ||
        !std::isdigit(static_cast<unsigned char>(text[3])) ||
        !std::isdigit(static_cast<unsigned char>(text[4])))
      return -1;
    const int hours = (text[0] - '0') * 10 + (text[1] - '0');
    const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
    return hours < 24 && minutes < 60 ? hours * 60 + minutes : -1;
  }

  // Replaces the default shifts only when the whole list is valid.
  void read_shifts(const json& shifts, const std::string& path, std::vector<shift_config>& out) {
    if (shifts.empty() || shifts.size() > kMaxShifts) {
      problems_.push_back({path, "expected 1 to " + std::to_string(kMaxShifts) + " shifts, got " +
                                     std::to_string(shifts.size())});
      return;
    }
    const size_t before = problems_.size();
    std::vector<shift_config> parsed;
    std::map<std::string, std::string> names, starts;  // value -> path of its first shift
    for (size_t i = 0; i < shifts.size(); ++i) {
      const std::string at = path + "/" + std::to_string(i);
      if (!shifts[i].is_object()) {
        problems_.push_back({at, "expected an object {\"name\": ..., \"start\": \"HH:MM\"}, got " +
                                     describe(shifts[i])});
        continue;
      }
      object_reader r(shifts[i], at, problems_, {"name", "start"});
      shift_config shift;
      if (r.text("name", shift.name, true)) {
        if (shift.name.empty() || shift.name.size() > kMaxNameLength)
          r.fail(r.at("name"), "must be 1 to " + std::to_string(kMaxNameLength) + " characters");
        else if (auto [it, fresh] = names.emplace(shift.name, at); !fresh)
          r.fail(r.at("name"), "duplicate shift name '" + shift.name + "' (first at " + it->second + ")");
      }
      std::string start;
      if (r.text("start", start, true)) {
        shift.start_minute = time_of_day(start);
        if (shift.start_minute < 0)
          r.fail(r.at("start"), "expected a local time of day \"HH:MM\" (00:00 to 23:59), got '" +
                                    start + "'");
        else if (auto [it, fresh] = starts.emplace(start, at); !fresh)
          r.fail(r.at("start"), "another shift already starts at " + start + " (" + it->second + ")");
      }
      parsed.push_back(std::move(shift));
    }
    if (problems_.size() == before)
      out = std::move(parsed);
  }

  void read_run_states(const json& states, const std::string& path, std::vector<std::string>& out) {
    if (states.empty()) {
      problems_.push_back({path, "expected at least one state (e.g. [\"RUN\"])"});
      return;
    }
    const size_t before = problems_.size();
    std::vector<std::string> parsed;
    for (size_t i = 0; i < states.size(); ++i) {
      const std::string at = path + "/" + std::to_string(i);
      if (!states[i].is_string()) {
        problems_.push_back({at, "expected a string (a state such as \"RUN\"), got " + describe(states[i])});
        continue;
      }
      std::string state = states[i].get<std::string>();
      if (state.empty() || state.size() > kMaxNameLength)
        problems_.push_back({at, "must be 1 to " + std::to_string(kMaxNameLength) + " characters"});
      else if (std::find(parsed.begin(), parsed.end(), state) != parsed.end())
        problems_.push_back({at, "state '" + state + "' is listed twice"});
      else
        parsed.push_back(std::move(state));
    }
    if (problems_.size() == before)
      out = std::move(parsed);
  }

  void read_lines(const json& lines, const std::string& path, std::vector<line_config>& out) {
    size_t machine_count = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string line_path = path + "/" + std::to_string(i);
      if (!lines[i].is_object()) {
        problems_.push_back({line_path, "expected an object, got " + describe(lines[i])});
        continue;
      }
      object_reader r(lines[i], line_path, problems_, {"id", "name", "machines"});
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
      out.push_back(std::move(line));
    }
    if (machine_count == 0)
      problems_.push_back({path, "no machines configured: add a line with at least one machine"});
  }

  void read_machine(const json& j, const std::string& path, std::vector<machine_config>& out) {
    if (!j.is_object()) {
      problems_.push_back({path, "expected an object, got " + describe(j)});
      return;
    }
    object_reader r(j, path, problems_,
                    {"id", "name", "type", "poll_interval_ms", "source", "metrics", "state",
                     "dashboard"});
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
                                          {"adapter", "url", "timeout_ms", "max_reply_bytes", "seed"}),
                            m.source);
    const json* metrics = r.object("metrics");
    if (metrics)
      read_metrics(*metrics, r.at("metrics"), m.metrics);
    const bool has_state = r.text("state", m.state);
    if (has_state) {
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
    } else if (m.source.adapter == "http_json") {
      if (!has_url)
        r.fail(source_path + "/url", "missing required key 'url' (the http_json adapter polls it)");
      // Judged on the keys present, so broken metrics are not reported twice.
      if ((!metrics || metrics->empty()) && !has_state)
        r.fail(path, "an http_json machine needs at least one metric or a state");
    }
    // A sim machine without `metrics` reports its type's standard metrics.
    std::vector<std::string> names;
    if (!metrics && m.source.adapter == "sim")
      names = sim_metric_names(m.type);
    for (const auto& metric : m.metrics)
      names.push_back(metric.first);
    read_dashboard(r.object("dashboard"), r.at("dashboard"), m.type, names, m.dashboard);
    out.push_back(std::move(m));
  }

  // A list of distinct metric names of the machine; returns false when absent.
  bool metric_list(object_reader& r, const std::string& key, const std::vector<std::string>& names,
                   std::vector<std::string>& out) {
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

  bool known_metric(object_reader& r, const std::string& at, const std::string& name,
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
  void read_dashboard(const json* obj, const std::string& path, const std::string& type,
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
  bool read_source(object_reader r, source_config& s) {
    std::string adapter;
    if (r.text("adapter", adapter, true)) {
      if (adapter != "http_json" && adapter != "sim")
        r.fail(r.at("adapter"), "unknown adapter '" + adapter + "' (expected http_json or sim)");
      else
        s.adapter = adapter;
    }
    std::string url;
    const bool has_url = r.find("url") != nullptr;
    if (r.text("url", url) && s.adapter != "sim") {
      if (std::string why; !adapters::parse_http_url(url, &why))
        r.fail(r.at("url"), why);
      else
        s.url = url;
    }
    r.integer("timeout_ms", s.timeout_ms, 1, 10 * 60 * 1000);
    r.integer("max_reply_bytes", s.max_reply_bytes, 1, 1LL << 30);
    r.unsigned_integer("seed", s.seed);
    if (r.find("seed") && s.adapter == "http_json")
      r.fail(r.at("seed"), "seed applies only to the sim adapter");
    return has_url;
  }

  void read_metrics(const json& metrics, const std::string& path,
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
  void remember(const char* what, const std::string& id, const std::string& owner,
                const std::string& id_path, std::map<std::string, std::string>& seen) {
    if (id.empty())
      return;
    auto [it, fresh] = seen.emplace(id, owner);
    if (!fresh)
      problems_.push_back({id_path, std::string("duplicate ") + what + " id '" + id +
                                        "' (first at " + it->second + ")"});
  }

  std::vector<problem>& problems_;
  std::map<std::string, std::string> line_ids_;     // id -> path of its first line
  std::map<std::string, std::string> machine_ids_;  // id -> path of its first machine
};

} // namespace

std::vector<std::string> sim_metric_names(const std::string& type) {
  std::vector<std::string> names;
  for (const auto& metric : adapters::sim_standard_metrics(type))
    names.push_back(metric.first);
  return names;
}

bool valid_json_pointer(const std::string& pointer) {
  if (pointer.empty())
    return true;
  if (pointer[0] != '/')
    return false;
  for (size_t i = 0; i < pointer.size(); ++i)
    if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
      return false;
  return true;
}

parse_result parse(const std::string& text, const std::string& origin) {
  parse_result result;
  json doc;
  try {
    doc = json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    result.problems.push_back({"", syntax_message(text, e, origin)});
    return result;
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number like 1e400
    result.problems.push_back({"", origin + ": unreadable JSON: " + e.what()});
    return result;
  }
  validator(result.problems).read(doc, result.value);
  return result;
}

parse_result load_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::string text;
  int error = f ? 0 : errno;
  if (f) {
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      text.append(buf, n);
    if (std::ferror(f))
      error = errno ? errno : EIO;
    std::fclose(f);
  }
  if (error != 0) {
    parse_result result;
    result.problems.push_back({"", "cannot read " + path + ": " + std::strerror(error)});
    return result;
  }
  return parse(text, path);
}

std::string format_problems(const std::vector<problem>& problems) {
  std::string out;
  for (const auto& p : problems)
    out += (p.path.empty() ? "" : p.path + ": ") + p.message + "\n";
  return out;
}

} // namespace edgemes::config
