#include "api/endpoints.hpp"

#include "actors/query.hpp"

#include <nlohmann/json.hpp>

namespace edgemes::api::endpoints {

namespace {

using json = nlohmann::ordered_json;

json ms_or_null(int64_t ms) {
  return ms > 0 ? json(ms) : json(nullptr);
}

json machine_json(const storage::machine_info& m) {
  return json{
      {"id", m.ident},
      {"name", m.name},
      {"line", m.line_ident},
      {"type", m.type},
      {"adapter", m.adapter},
      {"configured", m.configured},
      {"status", m.status},
      {"state", m.state.empty() ? json(nullptr) : json(m.state)},
      {"state_since", ms_or_null(m.state_since_ms)},
      {"last_poll", ms_or_null(m.last_poll_ms)},
      {"last_ok", ms_or_null(m.last_ok_ms)},
      {"last_error", m.last_error.empty() ? json(nullptr) : json(m.last_error)},
      {"polls", {{"ok", m.polls_ok}, {"failed", m.polls_failed}, {"problems", m.poll_problems}}},
  };
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
  json arr = json::array();
  for (const auto& m : db.machines(line))
    arr.push_back(machine_json(m));
  return ok({{"machines", arr}});
}

query_reply machine(storage::reader& db, const std::string& ident) {
  auto m = db.machine(ident);
  if (!m)
    return no_machine(ident);
  json body = machine_json(*m);
  json metrics = json::object();
  for (const auto& v : db.latest(m->id)) {
    metrics[v.metric] = v.has_value ? json{{"value", v.value}, {"ts", v.ts_ms}}
                                    : json{{"value", nullptr}, {"ts", nullptr}};
  }
  body["metrics"] = metrics;
  return ok(body);
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
  json points = json::array();
  for (const auto& b : buckets)
    points.push_back(json::array({b.ts_ms, b.value}));
  return ok({{"machine", ident},
             {"metric", metric},
             {"from", range.from_ms},
             {"to", range.to_ms},
             {"step_ms", step_ms},
             {"agg", aggregate_name(agg)},
             {"points", std::move(points)}});
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

} // namespace edgemes::api::endpoints
