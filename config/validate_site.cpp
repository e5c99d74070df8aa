// config/validate_site: the document's top level and the site-wide sections, shifts and run_states.
#include "config/validate.hpp"

#include <algorithm>
#include <cctype>

namespace edgemes::config::detail {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr size_t kMaxShifts = 12;
constexpr size_t kMaxNameLength = 64;  // shift names and run states

const std::vector<std::string> kSynchronous{"OFF", "NORMAL", "FULL", "EXTRA"};

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> database_keys() {
  return {"path", "synchronous", "cache_size_kib", "read_cache_size_kib", "memory_limit_kib", "busy_timeout_ms", "foreign_keys",
          "wal_autocheckpoint_pages", "journal_size_limit_bytes", "wal_max_bytes",
          "checkpoint_interval_ms", "retention_days", "chunk_window_ms", "compaction_grace_ms",
          "status_interval_ms", "head_memory_limit_kib"};
}

// Minutes after midnight of "HH:MM" (00:00 .. 23:59), or -1.
int time_of_day(const std::string& text) {
  if (text.size() != 5 || text[2] != ':' || !std::isdigit(static_cast<unsigned char>(text[0])) ||
      !std::isdigit(static_cast<unsigned char>(text[1])) ||
      !std::isdigit(static_cast<unsigned char>(text[3])) ||
      !std::isdigit(static_cast<unsigned char>(text[4])))
    return -1;
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  return hours < 24 && minutes < 60 ? hours * 60 + minutes : -1;
}

} // namespace

void validator::read(const json& doc, config& out) {
  if (!doc.is_object()) {
    problems_.push_back({"", "expected a JSON object at the top level, got " + describe(doc)});
    return;
  }
  object_reader r(doc, "", problems_,
                  {"site", "database", "writer", "api", "pollers", "mqtt", "shifts", "run_states",
                   "e10", "lines"});
  r.nonempty_text("site", out.site);
  if (const json* s = r.object("database"))
    read_database(object_reader(*s, r.at("database"), problems_, database_keys()), out.database);
  if (const json* s = r.object("writer"))
    read_writer(object_reader(*s, r.at("writer"), problems_, {"max_batch", "flush_interval_ms", "max_queue"}),
                out.writer);
  if (const json* s = r.object("api"))
    read_api(object_reader(*s, r.at("api"), problems_,
                           {"bind", "port", "query_actors", "request_timeout_ms", "max_pending",
                            "token", "tokens"}),
             out.api);
  if (const json* s = r.object("pollers"))
    read_pollers(object_reader(*s, r.at("pollers"), problems_,
                               {"http_workers", "max_backoff_ms", "offline_after_failures"}),
                 out.pollers);
  // Before the lines: their mqtt machines name these brokers.
  if (const json* s = r.object("mqtt"))
    read_mqtt(object_reader(*s, r.at("mqtt"), problems_, {"brokers"}), out.mqtt);
  if (const json* shifts = r.array("shifts"))
    read_shifts(*shifts, r.at("shifts"), out.shifts);
  if (const json* states = r.array("run_states"))
    read_run_states(*states, r.at("run_states"), out.run_states);
  if (const json* e10 = r.object("e10"))
    read_e10(object_reader(*e10, r.at("e10"), problems_, {"types"}), out.e10);
  if (const json* lines = r.array("lines", true))
    read_lines(*lines, r.at("lines"), out.lines);
}

void validator::read_database(object_reader r, database_config& db) {
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
  r.integer("head_memory_limit_kib", db.head_memory_limit_kib, 0, kInt32Max);
}

void validator::read_writer(object_reader r, writer_config& w) {
  r.integer("max_batch", w.max_batch, 1, 1000000);
  r.integer("flush_interval_ms", w.flush_interval_ms, 1, 3600 * 1000);
  // Judged against the max_batch in effect, so a bad max_batch is reported once.
  r.integer("max_queue", w.max_queue, 1, 100000000);
  if (w.max_queue < w.max_batch)
    r.fail(r.at("max_queue"), "must be at least max_batch (" + std::to_string(w.max_batch) +
                                  "), got " + std::to_string(w.max_queue));
}

void validator::read_api(object_reader r, api_config& a) {
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
  if (const json* tokens = r.array("tokens"))
    read_tokens(*tokens, r.at("tokens"), a);
}

void validator::read_pollers(object_reader r, pollers_config& p) {
  r.integer("http_workers", p.http_workers, 1, 1024);
  r.integer("max_backoff_ms", p.max_backoff_ms, 1, kDayMs);
  r.integer("offline_after_failures", p.offline_after_failures, 1, 1000000);
}

// Replaces the default shifts only when the whole list is valid.
void validator::read_shifts(const json& shifts, const std::string& path,
                            std::vector<shift_config>& out) {
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

void validator::read_run_states(const json& states, const std::string& path,
                                std::vector<std::string>& out) {
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

} // namespace edgemes::config::detail
