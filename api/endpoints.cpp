#include "api/endpoints.hpp"

#include "actors/query.hpp"
#include "api/json_out.hpp"
#include "storage/dashboard.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_map>

namespace edgemes::api::endpoints {

namespace {

using json = nlohmann::ordered_json;

json ms_or_null(int64_t ms) {
  return ms > 0 ? json(ms) : json(nullptr);
}

// Who a machine is: the first members of every machine object.
void identity_fields(json_out& w, const storage::machine_info& m) {
  w.key("id").value(m.ident);
  w.key("name").value(m.name);
  w.key("line").value(m.line_ident);
  w.key("type").value(m.type);
}

// How its polling goes: /machines and the floor's tiles show the same members.
void status_fields(json_out& w, const storage::machine_info& m) {
  w.key("status").value(m.status);
  w.key("state").text_or_null(m.state);
  w.key("state_since").ms_or_null(m.state_since_ms);
  w.key("last_poll").ms_or_null(m.last_poll_ms);
  w.key("last_ok").ms_or_null(m.last_ok_ms);
  w.key("last_error").text_or_null(m.last_error);
  w.key("polls").begin_object();
  w.key("ok").value(m.polls_ok);
  w.key("failed").value(m.polls_failed);
  w.key("problems").value(m.poll_problems);
  w.key("missed").value(m.polls_missed);
  w.end_object();
}

// The members of one machine object (the caller opens and closes it).
void machine_fields(json_out& w, const storage::machine_info& m) {
  identity_fields(w, m);
  w.key("adapter").value(m.adapter);
  w.key("configured").value(m.configured);
  status_fields(w, m);
}

// Replies written straight to a string (api/json_out.hpp): for /machines/{id}
// the nlohmann tree was ~45 % of a request's CPU (docs/BENCHMARKS.md, item 5).
query_reply ok(json_out& w) {
  return {200, w.take()};
}

// Texts from machines (states, error excerpts) may be invalid UTF-8: replace, never throw.
query_reply ok(const json& body) {
  return {200, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

query_reply no_machine(const std::string& ident) {
  return actors::error_reply(404, "unknown_machine", "no machine '" + ident + "'");
}

// Resolves a machine and one of its metrics, or the 404 reply.
struct metric_ref {
  storage::machine_info machine;
  int slot = -1;
  std::optional<query_reply> error;
};

metric_ref resolve(storage::reader& db, const std::string& ident, const std::string& metric) {
  metric_ref ref;
  auto m = db.machine(ident);
  if (!m) {
    ref.error = no_machine(ident);
    return ref;
  }
  ref.machine = *m;
  std::string known;
  for (const auto& mi : db.metrics(m->id)) {
    if (mi.name == metric) {
      ref.slot = mi.slot;
      return ref;
    }
    known += (known.empty() ? "" : ", ") + mi.name;
  }
  std::string shown = metric.size() > 64 ? metric.substr(0, 64) + "..." : metric;
  ref.error = actors::error_reply(404, "unknown_metric",
                                  "machine '" + ident + "' has no metric '" + shown +
                                      "' (known: " + known + ")");
  return ref;
}

} // namespace

query_reply lines(storage::reader& db) {
  json arr = json::array();
  for (const auto& l : db.lines())
    arr.push_back({{"id", l.ident}, {"name", l.name}, {"machines", l.machines}});
  return ok({{"lines", arr}});
}

query_reply machines(storage::reader& db, const std::optional<std::string>& line) {
  if (line) {
    bool known = false;
    for (const auto& l : db.lines())
      known = known || l.ident == *line;
    if (!known)
      return actors::error_reply(404, "unknown_line", "no line '" + *line + "'");
  }
  json_out w;
  w.begin_object().key("machines").begin_array();
  for (const auto& m : db.machines(line)) {
    w.begin_object();
    machine_fields(w, m);
    w.end_object();
  }
  w.end_array().end_object();
  return ok(w);
}

query_reply machine(storage::reader& db, const std::string& ident) {
  auto m = db.machine(ident);
  if (!m)
    return no_machine(ident);
  json_out w;
  w.begin_object();
  machine_fields(w, *m);
  w.key("metrics").begin_object();
  for (const auto& v : db.latest(m->id)) {
    w.key(v.metric).begin_object();
    if (v.has_value)
      w.key("value").value(v.value).key("ts").value(v.ts_ms);
    else
      w.key("value").null().key("ts").null();
    w.end_object();
  }
  w.end_object().end_object();
  return ok(w);
}

query_reply samples(storage::reader& db, const std::string& ident, const std::string& metric,
                    time_range range, int64_t limit) {
  auto ref = resolve(db, ident, metric);
  if (ref.error)
    return *ref.error;
  bool truncated = false;
  auto pts = db.samples(ref.machine.id, ref.slot, range.from_ms, range.to_ms, limit, &truncated);
  json points = json::array();
  for (const auto& p : pts)
    points.push_back(json::array({p.ts_ms, p.value}));
  json body = {{"machine", ident}, {"metric", metric}, {"from", range.from_ms},
               {"to", range.to_ms},  {"limit", limit},   {"truncated", truncated}};
  if (truncated && !pts.empty())
    body["next_from"] = pts.back().ts_ms + 1;
  body["points"] = std::move(points);
  return ok(body);
}

query_reply series(storage::reader& db, const std::string& ident, const std::string& metric,
                   time_range range, int64_t step_ms, storage::aggregate agg) {
  auto ref = resolve(db, ident, metric);
  if (ref.error)
    return *ref.error;
  auto buckets = db.series(ref.machine.id, ref.slot, range.from_ms, range.to_ms, step_ms, agg);
  json_out w;
  w.begin_object();
  w.key("machine").value(ident);
  w.key("metric").value(metric);
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
  w.key("step_ms").value(step_ms);
  w.key("agg").value(aggregate_name(agg));
  w.key("points").begin_array();
  for (const auto& b : buckets)
    w.begin_array().value(b.ts_ms).value(b.value).end_array();
  w.end_array().end_object();
  return ok(w);
}

query_reply states(storage::reader& db, const std::string& ident, time_range range,
                   int64_t now_ms) {
  auto m = db.machine(ident);
  if (!m)
    return no_machine(ident);
  auto report = db.states(m->id, range.from_ms, range.to_ms, now_ms);
  json intervals = json::array();
  for (const auto& i : report.intervals)
    intervals.push_back({{"state", i.state}, {"from", i.from_ms}, {"to", i.to_ms}});
  json shares = json::array();
  for (const auto& s : report.shares)
    shares.push_back({{"state", s.state}, {"ms", s.ms}, {"share", s.share}});
  return ok({{"machine", ident},
             {"from", range.from_ms},
             {"to", range.to_ms},
             {"intervals", std::move(intervals)},
             {"time_in_state", std::move(shares)}});
}

// ---- floor dashboard -------------------------------------------------------

namespace {

json value_or_null(const storage::slot_value& v) {
  return v.has_value ? json(v.value) : json(nullptr);
}

// The slot of each name among a machine's metrics (-1 when the file lacks it).
std::vector<int> slots_of(const std::vector<std::string>& names,
                          const std::vector<storage::metric_info>& metrics) {
  std::vector<int> out;
  for (const auto& name : names) {
    auto it = std::find_if(metrics.begin(), metrics.end(),
                           [&](const storage::metric_info& m) { return m.name == name; });
    out.push_back(it == metrics.end() ? -1 : it->slot);
  }
  return out;
}

// A configured machine with no row in the file (cannot happen once the daemon
// has synced its catalog; kept honest rather than assumed).
storage::machine_info unknown_machine(const config::machine_config& m,
                                      const std::string& line) {
  storage::machine_info info;
  info.id = -1;
  info.ident = m.id;
  info.name = m.name;
  info.line_ident = line;
  info.type = m.type;
  info.adapter = m.source.adapter;
  info.status = "unknown";
  return info;
}

// Configured lines (or the one chosen) and their machines in config order,
// each machine with its row in the file.
struct floor_machine {
  const config::machine_config* cfg;
  storage::machine_info info;
};
struct floor_line {
  const config::line_config* cfg;
  std::vector<floor_machine> machines;
};
std::vector<floor_line> configured(storage::reader& db, const config::config& plant,
                                   const std::optional<std::string>& line) {
  std::unordered_map<std::string, storage::machine_info> stored;
  for (auto& m : db.machines(line))
    stored.emplace(m.ident, std::move(m));
  std::vector<floor_line> out;
  for (const auto& l : plant.lines) {
    if (line && l.id != *line)
      continue;
    out.push_back({&l, {}});
    for (const auto& m : l.machines) {
      auto it = stored.find(m.id);
      out.back().machines.push_back(
          {&m, it != stored.end() ? std::move(it->second) : unknown_machine(m, l.id)});
    }
  }
  return out;
}

// Runs `read` on the slots that exist (>= 0) and spreads its answers back over
// `slots`, leaving a default value where a slot is missing.
template <typename T, typename Read>
std::vector<T> for_known_slots(const std::vector<int>& slots, Read read) {
  std::vector<int> known;
  for (int s : slots)
    if (s >= 0)
      known.push_back(s);
  std::vector<T> found = known.empty() ? std::vector<T>(0) : read(known);
  std::vector<T> out(slots.size());
  for (size_t i = 0, k = 0; i < slots.size(); ++i)
    if (slots[i] >= 0)
      out[i] = found[k++];
  return out;
}

// Counter increase over a range from its first and last value. A last value
// below the first means the counter was reset (machine restart, counter
// rollover) in between: the increase is counted from the reset, i.e. from 0,
// so it is the last value. (A reset after which the counter climbed past its
// first value again is not seen by two lookups; it is counted short.)
json counter_json(const std::string& metric, const storage::range_ends& e) {
  json c = {{"metric", metric},
            {"first", value_or_null(e.first)},
            {"last", value_or_null(e.last)},
            {"first_ts", e.first.has_value ? json(e.first.ts_ms) : json(nullptr)},
            {"last_ts", e.last.has_value ? json(e.last.ts_ms) : json(nullptr)}};
  if (!e.first.has_value || !e.last.has_value) {
    c["increase"] = nullptr;
    c["per_hour"] = nullptr;
    c["reset"] = false;
    return c;
  }
  const bool reset = e.last.value < e.first.value;
  const double increase = reset ? e.last.value : e.last.value - e.first.value;
  const int64_t covered_ms = e.last.ts_ms - e.first.ts_ms;
  c["increase"] = increase;
  c["per_hour"] = covered_ms > 0 ? json(increase * 3600000.0 / static_cast<double>(covered_ms))
                                 : json(nullptr);
  c["reset"] = reset;
  return c;
}

} // namespace

const config::line_config* find_line(const config::config& plant, const std::string& id) {
  for (const auto& l : plant.lines)
    if (l.id == id)
      return &l;
  return nullptr;
}

size_t machine_count(const config::config& plant, const std::optional<std::string>& line) {
  size_t n = 0;
  for (const auto& l : plant.lines)
    if (!line || l.id == *line)
      n += l.machines.size();
  return n;
}

int64_t default_step_ms(int64_t span_ms) {
  // The smallest "nice" step giving at most 300 buckets, and at least 1 s.
  // From 10 s on every step is a multiple of 10 s, so /series reads the 10 s
  // rollups (storage/reader.hpp): 1 h -> 20 s, 8 h -> 2 min, 24 h -> 5 min.
  constexpr int64_t s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  constexpr int64_t nice[] = {1 * s,  2 * s,  5 * s,  10 * s, 20 * s, 30 * s,
                              1 * m,  2 * m,  5 * m,  10 * m, 20 * m, 30 * m,
                              1 * h,  2 * h,  3 * h,  6 * h,  12 * h, 1 * d};
  const int64_t want = std::max<int64_t>(1000, (span_ms + 299) / 300);
  for (int64_t n : nice)
    if (n >= want)
      return n;
  return (want + d - 1) / d * d;  // whole days beyond one
}

namespace {

// The tile of one machine: who it is and its polling status (as /machines), then
// the dashboard's. Written with json_out: this runs for every machine of the
// floor every 1-2 s per open page.
void tile_json(json_out& out, const storage::machine_info& m, const config::dashboard_config& dash,
               const std::vector<storage::slot_value>& values) {
  out.begin_object();
  identity_fields(out, m);
  status_fields(out, m);
  out.key("sparkline").text_or_null(dash.sparkline);
  out.key("key_metrics").begin_array();
  for (size_t i = 0; i < dash.key_metrics.size(); ++i) {
    out.begin_object();
    out.key("name").value(dash.key_metrics[i]);
    if (values[i].has_value) {
      out.key("value").value(values[i].value);
      out.key("ts").value(values[i].ts_ms);
    } else {
      out.key("value").null();
      out.key("ts").null();
    }
    out.end_object();
  }
  out.end_array();
  out.end_object();
}

} // namespace

query_reply floor(storage::reader& db, const config::config& plant,
                  const std::optional<std::string>& line, const shift_window& shift,
                  int64_t now_ms) {
  storage::read_snapshot snapshot(db);
  storage::dashboard_reads reads(db);
  auto metrics = reads.metrics();
  json_out out;
  out.begin_object();
  out.key("site").value(plant.site);
  out.key("now").value(now_ms);
  out.key("shift").begin_object();
  out.key("name").value(shift.name);
  out.key("from").value(shift.from_ms);
  out.key("to").value(shift.to_ms);
  out.end_object();
  out.key("lines").begin_array();
  for (const auto& fl : configured(db, plant, line)) {
    out.begin_object();
    out.key("id").value(fl.cfg->id);
    out.key("name").value(fl.cfg->name);
    out.key("machines").begin_array();
    for (const auto& fm : fl.machines) {
      const auto& dash = fm.cfg->dashboard;
      std::vector<storage::slot_value> values(dash.key_metrics.size());
      if (fm.info.id >= 0)
        values = for_known_slots<storage::slot_value>(
            slots_of(dash.key_metrics, metrics[fm.info.id]),
            [&](const std::vector<int>& slots) { return reads.latest(fm.info.id, slots); });
      tile_json(out, fm.info, dash, values);
    }
    out.end_array();
    out.end_object();
  }
  out.end_array();
  out.end_object();
  return {200, out.take()};
}

query_reply floor_sparklines(storage::reader& db, const config::config& plant,
                             const std::optional<std::string>& line, time_range range,
                             int64_t step_ms) {
  storage::read_snapshot snapshot(db);
  storage::dashboard_reads reads(db);
  auto metrics = reads.metrics();
  json_out out;
  out.begin_object();
  out.key("from").value(range.from_ms);
  out.key("to").value(range.to_ms);
  out.key("step_ms").value(step_ms);
  out.key("agg").value("avg");
  out.key("machines").begin_object();
  for (const auto& fl : configured(db, plant, line))
    for (const auto& fm : fl.machines) {
      const std::string& metric = fm.cfg->dashboard.sparkline;
      out.key(fm.cfg->id.c_str()).begin_object();  // ids are plain ASCII (config::valid_ident)
      out.key("metric").text_or_null(metric);
      out.key("points").begin_array();
      int slot = fm.info.id >= 0 && !metric.empty() ? slots_of({metric}, metrics[fm.info.id])[0]
                                                    : -1;
      if (slot >= 0)
        for (const auto& b : db.series(fm.info.id, slot, range.from_ms, range.to_ms, step_ms,
                                       storage::aggregate::avg))
          out.begin_array().value(b.ts_ms).value(b.value).end_array();
      out.end_array();
      out.end_object();
    }
  out.end_object();
  out.end_object();
  return {200, out.take()};
}

query_reply line_summary(storage::reader& db, const config::config& plant,
                         const std::string& line, time_range range, int64_t now_ms) {
  const auto* l = find_line(plant, line);
  if (!l)
    return actors::error_reply(404, "unknown_line", "no line '" + line + "'");
  storage::read_snapshot snapshot(db);
  storage::dashboard_reads reads(db);
  auto metrics = reads.metrics();
  json machines = json::array();
  const auto lines = configured(db, plant, line);  // the one line asked for
  for (const auto& fm : lines.at(0).machines) {
    const auto& counters = fm.cfg->dashboard.counters;
    storage::state_report report;
    std::vector<storage::range_ends> ends(counters.size());
    if (fm.info.id >= 0) {
      report = db.states(fm.info.id, range.from_ms, range.to_ms, now_ms);
      ends = for_known_slots<storage::range_ends>(
          slots_of(counters, metrics[fm.info.id]), [&](const std::vector<int>& slots) {
            return reads.ends(fm.info.id, slots, range.from_ms, range.to_ms);
          });
    }
    int64_t total_ms = 0, run_ms = 0;
    json shares = json::array();
    for (const auto& s : report.shares) {
      total_ms += s.ms;
      if (std::find(plant.run_states.begin(), plant.run_states.end(), s.state) !=
          plant.run_states.end())
        run_ms += s.ms;
      shares.push_back({{"state", s.state}, {"ms", s.ms}, {"share", s.share}});
    }
    json counter_list = json::array();
    for (size_t i = 0; i < counters.size(); ++i)
      counter_list.push_back(counter_json(counters[i], ends[i]));
    const auto& m = fm.info;
    machines.push_back(
        {{"id", m.ident},
         {"name", m.name},
         {"type", m.type},
         {"status", m.status},
         {"state", m.state.empty() ? json(nullptr) : json(m.state)},
         {"state_since", ms_or_null(m.state_since_ms)},
         {"availability", total_ms > 0 ? json(static_cast<double>(run_ms) /
                                              static_cast<double>(total_ms))
                                       : json(nullptr)},
         {"covered_ms", total_ms},
         {"time_in_state", std::move(shares)},
         {"counters", std::move(counter_list)}});
  }
  return ok({{"line", l->id},
             {"name", l->name},
             {"from", range.from_ms},
             {"to", range.to_ms},
             {"run_states", plant.run_states},
             {"machines", std::move(machines)}});
}

} // namespace edgemes::api::endpoints
