#include "api/endpoints.hpp"

#include "api/errors.hpp"
#include "api/json_out.hpp"
#include "api/machine_json.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace edgemes::api::endpoints {

namespace {

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

query_reply no_machine(const std::string& ident) {
  return error_reply(404, "unknown_machine", "no machine '" + ident + "'");
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
  ref.error = error_reply(404, "unknown_metric",
                          "machine '" + ident + "' has no metric '" + shown +
                              "' (known: " + known + ")");
  return ref;
}

// The members /samples and /series open with.
void metric_head(json_out& w, const std::string& ident, const std::string& metric,
                 time_range range) {
  w.key("machine").value(ident);
  w.key("metric").value(metric);
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
}

} // namespace

query_reply lines(storage::reader& db) {
  json_out w;
  w.begin_object().key("lines").begin_array();
  for (const auto& l : db.lines()) {
    w.begin_object();
    w.key("id").value(l.ident);
    w.key("name").value(l.name);
    w.key("machines").value(l.machines);
    w.end_object();
  }
  w.end_array().end_object();
  return ok(w);
}

query_reply machines(storage::reader& db, const std::optional<std::string>& line) {
  if (line) {
    bool known = false;
    for (const auto& l : db.lines())
      known = known || l.ident == *line;
    if (!known)
      return error_reply(404, "unknown_line", "no line '" + *line + "'");
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
  json_out w;
  w.begin_object();
  metric_head(w, ident, metric, range);
  w.key("limit").value(limit);
  w.key("truncated").value(truncated);
  if (truncated && !pts.empty())
    w.key("next_from").value(pts.back().ts_ms + 1);
  w.key("points").begin_array();
  for (const auto& p : pts)
    w.begin_array().value(p.ts_ms).value(p.value).end_array();
  w.end_array().end_object();
  return ok(w);
}

query_reply series(storage::reader& db, const std::string& ident, const std::string& metric,
                   time_range range, int64_t step_ms, storage::aggregate agg) {
  auto ref = resolve(db, ident, metric);
  if (ref.error)
    return *ref.error;
  auto buckets = db.series(ref.machine.id, ref.slot, range.from_ms, range.to_ms, step_ms, agg);
  json_out w;
  w.begin_object();
  metric_head(w, ident, metric, range);
  w.key("step_ms").value(step_ms);
  w.key("agg").value(aggregate_name(agg));
  w.key("points").begin_array();
  for (const auto& b : buckets)
    w.begin_array().value(b.ts_ms).value(b.value).end_array();
  w.end_array().end_object();
  return ok(w);
}

namespace {

// Time per E10 class, largest first (ties by class name), each with the
// machine's texts that fell in it — so an `unmapped` share names its texts.
void e10_shares(json_out& w, const std::vector<storage::state_share>& shares,
                const std::function<std::string(const std::string&)>& classify) {
  struct bucket {
    int64_t ms = 0;
    double share = 0;
    std::vector<std::string> states;
  };
  std::map<std::string, bucket> by_class;
  for (const auto& s : shares) {
    bucket& b = by_class[classify(s.state)];
    b.ms += s.ms;
    b.share += s.share;
    b.states.push_back(s.state);
  }
  std::vector<std::pair<std::string, bucket>> order(by_class.begin(), by_class.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& x, const auto& y) { return x.second.ms > y.second.ms; });
  w.begin_array();
  for (auto& [cls, b] : order) {
    std::sort(b.states.begin(), b.states.end());
    w.begin_object();
    w.key("class").value(cls);
    w.key("ms").value(b.ms);
    w.key("share").value(b.share);
    w.key("states").begin_array();
    for (const auto& t : b.states)
      w.value(t);
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

} // namespace

query_reply states(storage::reader& db, const config::config& plant, const std::string& ident,
                   time_range range, int64_t now_ms) {
  auto m = db.machine(ident);
  if (!m)
    return no_machine(ident);
  auto report = db.states(m->id, range.from_ms, range.to_ms, now_ms);
  const config::machine_config* conf = find_machine(plant, ident);
  const config::machine_config unknown;
  auto classify = [&](const std::string& state) {
    return config::e10_class(plant, conf ? *conf : unknown, state);
  };
  json_out w;
  w.begin_object();
  w.key("machine").value(ident);
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
  w.key("intervals").begin_array();
  for (const auto& i : report.intervals) {
    w.begin_object();
    w.key("state").value(i.state);
    w.key("e10").value(classify(i.state));
    w.key("from").value(i.from_ms);
    w.key("to").value(i.to_ms);
    w.end_object();
  }
  w.end_array();
  w.key("time_in_state");
  state_shares(w, report.shares);
  w.key("time_in_e10");
  e10_shares(w, report.shares, classify);
  w.end_object();
  return ok(w);
}

const config::machine_config* find_machine(const config::config& plant, const std::string& ident) {
  for (const auto& l : plant.lines)
    for (const auto& m : l.machines)
      if (m.id == ident)
        return &m;
  return nullptr;
}

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

} // namespace edgemes::api::endpoints
