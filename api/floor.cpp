// The floor dashboard's endpoints (api/endpoints.hpp, docs/API.md "Floor
// dashboard"): the configured lines and machines, with what the file knows
// about each, in one read snapshot per reply.
#include "api/endpoints.hpp"

#include "api/errors.hpp"
#include "api/json_out.hpp"
#include "api/machine_json.hpp"
#include "storage/dashboard.hpp"

#include <algorithm>
#include <unordered_map>

namespace edgemes::api::endpoints {

namespace {

// One read snapshot of the file, the dashboard's prepared reads on it, and
// each machine's metrics by row id: what every floor reply starts from.
struct dashboard_snapshot {
  explicit dashboard_snapshot(storage::reader& db)
      : snapshot(db), reads(db), metrics(reads.metrics()) {}
  storage::read_snapshot snapshot;
  storage::dashboard_reads reads;
  std::unordered_map<int64_t, std::vector<storage::metric_info>> metrics;
};

json_out& value_or_null(json_out& w, const storage::slot_value& v) {
  return v.has_value ? w.value(v.value) : w.null();
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
void counter_json(json_out& w, const std::string& metric, const storage::range_ends& e) {
  w.begin_object();
  w.key("metric").value(metric);
  value_or_null(w.key("first"), e.first);
  value_or_null(w.key("last"), e.last);
  w.key("first_ts");
  e.first.has_value ? w.value(e.first.ts_ms) : w.null();
  w.key("last_ts");
  e.last.has_value ? w.value(e.last.ts_ms) : w.null();
  if (!e.first.has_value || !e.last.has_value) {
    w.key("increase").null().key("per_hour").null().key("reset").value(false);
    w.end_object();
    return;
  }
  const bool reset = e.last.value < e.first.value;
  const double increase = reset ? e.last.value : e.last.value - e.first.value;
  const int64_t covered_ms = e.last.ts_ms - e.first.ts_ms;
  w.key("increase").value(increase);
  w.key("per_hour");
  covered_ms > 0 ? w.value(increase * 3600000.0 / static_cast<double>(covered_ms)) : w.null();
  w.key("reset").value(reset);
  w.end_object();
}

// The tile of one machine: who it is and its polling status (as /machines), then
// the dashboard's. This runs for every machine of the floor every 1-2 s per open page.
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

// One machine of a line summary: availability over the range and its counters.
void summary_machine_json(json_out& w, const config::config& plant,
                          const storage::machine_info& m, const storage::state_report& report,
                          const std::vector<std::string>& counters,
                          const std::vector<storage::range_ends>& ends) {
  int64_t total_ms = 0, run_ms = 0;
  for (const auto& s : report.shares) {
    total_ms += s.ms;
    if (std::find(plant.run_states.begin(), plant.run_states.end(), s.state) !=
        plant.run_states.end())
      run_ms += s.ms;
  }
  w.begin_object();
  w.key("id").value(m.ident);
  w.key("name").value(m.name);
  w.key("type").value(m.type);
  w.key("status").value(m.status);
  w.key("state").text_or_null(m.state);
  w.key("state_since").ms_or_null(m.state_since_ms);
  w.key("availability");
  total_ms > 0 ? w.value(static_cast<double>(run_ms) / static_cast<double>(total_ms)) : w.null();
  w.key("covered_ms").value(total_ms);
  w.key("time_in_state");
  state_shares(w, report.shares);
  w.key("counters").begin_array();
  for (size_t i = 0; i < counters.size(); ++i)
    counter_json(w, counters[i], ends[i]);
  w.end_array();
  w.end_object();
}

} // namespace

query_reply floor(storage::reader& db, const config::config& plant,
                  const std::optional<std::string>& line, const shift_window& shift,
                  int64_t now_ms) {
  dashboard_snapshot snap(db);
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
            slots_of(dash.key_metrics, snap.metrics[fm.info.id]),
            [&](const std::vector<int>& slots) { return snap.reads.latest(fm.info.id, slots); });
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
  dashboard_snapshot snap(db);
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
      int slot = fm.info.id >= 0 && !metric.empty()
                     ? slots_of({metric}, snap.metrics[fm.info.id])[0]
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
    return error_reply(404, "unknown_line", "no line '" + line + "'");
  dashboard_snapshot snap(db);
  json_out w;
  w.begin_object();
  w.key("line").value(l->id);
  w.key("name").value(l->name);
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
  w.key("run_states").begin_array();
  for (const auto& s : plant.run_states)
    w.value(s);
  w.end_array();
  w.key("machines").begin_array();
  const auto lines = configured(db, plant, line);  // the one line asked for
  for (const auto& fm : lines.at(0).machines) {
    const auto& counters = fm.cfg->dashboard.counters;
    storage::state_report report;
    std::vector<storage::range_ends> ends(counters.size());
    if (fm.info.id >= 0) {
      report = db.states(fm.info.id, range.from_ms, range.to_ms, now_ms);
      ends = for_known_slots<storage::range_ends>(
          slots_of(counters, snap.metrics[fm.info.id]), [&](const std::vector<int>& slots) {
            return snap.reads.ends(fm.info.id, slots, range.from_ms, range.to_ms);
          });
    }
    summary_machine_json(w, plant, fm.info, report, counters, ends);
  }
  w.end_array().end_object();
  return {200, w.take()};
}

} // namespace edgemes::api::endpoints
