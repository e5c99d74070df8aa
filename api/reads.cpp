// The read routes' handlers (api/handlers.hpp): each checks the request in
// the order docs/API.md ("Errors") gives, then runs one query on a worker
// (api/endpoints.hpp) through the admission rule.
#include "api/handlers.hpp"

#include "api/endpoints.hpp"
#include "api/oee.hpp"
#include "api/server.hpp"
#include "api/shifts.hpp"
#include "clock/clock.hpp"

#include <httplib.h>

namespace edgemes::api::handlers {

namespace {

using clock::wall_ms;

// Most buckets one series may hold, and all series of one reply together.
constexpr int64_t max_buckets = 10000;
constexpr int64_t max_total_buckets = 100000;

// Buckets a /series-style reply can hold for [from, to): they are aligned to
// multiples of step since the epoch (from >= 0), so an unaligned range can
// touch one more than (to - from) / step.
int64_t aligned_buckets(int64_t from_ms, int64_t to_ms, int64_t step_ms) {
  return (to_ms - 1) / step_ms - from_ms / step_ms + 1;
}

// The machine id in the path: anything that is not a valid id cannot exist.
bool machine_id(const request& req, httplib::Response& res, std::string& out) {
  out = req.http.matches[1];
  if (valid_ident(out))
    return true;
  std::string shown = out.size() > 64 ? out.substr(0, 64) + "..." : out;
  send_error(res, 404, "unknown_machine", "no machine '" + shown + "'");
  return false;
}

// A line asked for by id must be configured; the config answers without a query.
bool known_line(const api_context& ctx, const std::optional<std::string>& line,
                httplib::Response& res) {
  if (!line || endpoints::find_line(*ctx.plant, *line))
    return true;
  send_error(res, 404, "unknown_line",
             valid_ident(*line) ? "no line '" + *line + "'" : "no line with that id");
  return false;
}

// /samples and /series: the metric and the range.
struct metric_query {
  std::string metric;
  time_range range;
};
std::optional<param_error> parse_metric_query(const query_params& q, metric_query& out) {
  if (q.error())
    return q.error();
  auto metric = q.get("metric");
  if (!metric || metric->empty())
    return param_error{"metric", "parameter 'metric' is required"};
  out.metric = *metric;
  return parse_range(q, wall_ms(), out.range);
}

// The machine id, then the metric and range; false after answering the first problem.
bool metric_request(const request& req, httplib::Response& res, std::string& id,
                    metric_query& mq) {
  if (!machine_id(req, res, id))
    return false;
  if (auto e = parse_metric_query(req.params, mq)) {
    bad_param(res, *e);
    return false;
  }
  return true;
}

// The query string's range (from/to, defaults against `now`); false after
// answering the first problem.
bool range_request(const request& req, httplib::Response& res, int64_t now, time_range& range) {
  std::optional<param_error> e = req.params.error();
  if (!e)
    e = parse_range(req.params, now, range);
  if (e)
    bad_param(res, *e);
  return !e;
}

// step_ms when given, else the default for the range's span.
std::optional<param_error> parse_step(const query_params& q, time_range range, int64_t& step) {
  step = endpoints::default_step_ms(range.to_ms - range.from_ms);
  if (auto s = q.get("step_ms")) {
    auto v = parse_int(*s, 1, max_epoch_ms);
    if (!v)
      return param_error{"step_ms", "bad 'step_ms': expected a positive integer"};
    step = *v;
  }
  return std::nullopt;
}

// The range of an OEE read: `to` defaults to the end of the shift in force
// now, `from` to the start of the shift in force `back_ms` before `to` (0:
// the shift `to` ends). At most 366 days.
bool oee_range(const api_context& ctx, const request& req, httplib::Response& res, int64_t back_ms,
               time_range& range) {
  const int64_t now = wall_ms();
  std::optional<param_error> e = req.params.error();
  if (!e)
    e = parse_range(req.params, shift_at(ctx.plant->shifts, now).to_ms, range);
  if (!e && !req.params.get("from"))
    range.from_ms = std::max<int64_t>(
        0, shift_at(ctx.plant->shifts, std::max<int64_t>(0, range.to_ms - 1 - back_ms)).from_ms);
  if (!e && range.to_ms - range.from_ms > 366LL * 24 * 3600 * 1000)
    e = param_error{"to", "an OEE range may span at most 366 days"};
  if (e)
    bad_param(res, *e);
  return !e;
}

// A configured machine's id in the path; 404 otherwise.
bool oee_machine(const api_context& ctx, const request& req, httplib::Response& res,
                 std::string& id) {
  if (!machine_id(req, res, id))
    return false;
  if (endpoints::find_machine(*ctx.plant, id))
    return true;
  send_error(res, 404, "unknown_machine", "no configured machine '" + id + "'");
  return false;
}

// `step`: hour (default) or shift; at most max_buckets points.
bool oee_step(const api_context& ctx, const request& req, httplib::Response& res,
              time_range range, oee::step& s) {
  s = oee::step::hour;
  std::optional<param_error> e;
  if (auto v = req.params.get("step")) {
    if (*v == "shift")
      s = oee::step::shift;
    else if (*v != "hour")
      e = param_error{"step", "bad 'step': expected shift or hour"};
  }
  if (!e && oee::buckets(*ctx.plant, range, s).size() > 2000)
    e = param_error{"step", "more than 2000 points: narrow the range or take a longer step"};
  if (e)
    bad_param(res, *e);
  return !e;
}

constexpr int64_t series_back_ms = 24LL * 3600 * 1000;

} // namespace

void machine_oee(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  time_range range;
  if (!oee_machine(ctx, req, res, id) || !oee_range(ctx, req, res, 0, range))
    return;
  ctx.query(res, [plant = ctx.plant, id, range, now = wall_ms()](storage::reader& db) {
    return oee::machine(db, *plant, id, range, now);
  });
}

void line_oee(const api_context& ctx, const request& req, httplib::Response& res) {
  std::optional<std::string> line = std::string(req.http.matches[1]);
  time_range range;
  if (!known_line(ctx, line, res) || !oee_range(ctx, req, res, 0, range))
    return;
  ctx.query(res, [plant = ctx.plant, line, range, now = wall_ms()](storage::reader& db) {
    return oee::line(db, *plant, *line, range, now);
  });
}

void floor_oee(const api_context& ctx, const request& req, httplib::Response& res) {
  time_range range;
  if (!oee_range(ctx, req, res, 0, range))
    return;
  auto line = req.params.get("line");
  if (!known_line(ctx, line, res))
    return;
  ctx.query(res, [plant = ctx.plant, line, range, now = wall_ms()](storage::reader& db) {
    return oee::floor(db, *plant, line, range, now);
  });
}

void machine_oee_series(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  time_range range;
  oee::step s;
  if (!oee_machine(ctx, req, res, id) || !oee_range(ctx, req, res, series_back_ms, range) ||
      !oee_step(ctx, req, res, range, s))
    return;
  ctx.query(res, [plant = ctx.plant, id, range, s, now = wall_ms()](storage::reader& db) {
    return oee::machine_series(db, *plant, id, range, s, now);
  });
}

void line_oee_series(const api_context& ctx, const request& req, httplib::Response& res) {
  std::optional<std::string> line = std::string(req.http.matches[1]);
  time_range range;
  oee::step s;
  if (!known_line(ctx, line, res) || !oee_range(ctx, req, res, series_back_ms, range) ||
      !oee_step(ctx, req, res, range, s))
    return;
  ctx.query(res, [plant = ctx.plant, line, range, s, now = wall_ms()](storage::reader& db) {
    return oee::line_series(db, *plant, *line, range, s, now);
  });
}

void lines(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  ctx.query(res, [](storage::reader& db) { return endpoints::lines(db); });
}

void machines(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  auto line = req.params.get("line");
  if (line && !valid_ident(*line))
    return send_error(res, 404, "unknown_line", "no line with that id");
  ctx.query(res, [line](storage::reader& db) { return endpoints::machines(db, line); });
}

void machine(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  if (!machine_id(req, res, id))
    return;
  if (req.params.error())
    return bad_param(res, *req.params.error());
  ctx.query(res, [id](storage::reader& db) { return endpoints::machine(db, id); });
}

void samples(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  metric_query mq;
  if (!metric_request(req, res, id, mq))
    return;
  int64_t limit = 1000;
  if (auto e = int_param(req.params, "limit", 1, 100000, limit))
    return bad_param(res, *e);
  ctx.query(res, [id, mq, limit](storage::reader& db) {
    return endpoints::samples(db, id, mq.metric, mq.range, limit);
  });
}

void series(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  metric_query mq;
  if (!metric_request(req, res, id, mq))
    return;
  int64_t step = 0;
  if (auto e = parse_step(req.params, mq.range, step))
    return bad_param(res, *e);
  if (aligned_buckets(mq.range.from_ms, mq.range.to_ms, step) > max_buckets)
    return bad_param(res, {"step_ms", "'step_ms' too small for the range: more than " +
                                          std::to_string(max_buckets) + " buckets"});
  auto agg = storage::aggregate::avg;
  if (auto a = req.params.get("agg")) {
    auto v = parse_aggregate(*a);
    if (!v)
      return bad_param(res, {"agg", "bad 'agg': expected avg, min, max, sum, count or last"});
    agg = *v;
  }
  ctx.query(res, [id, mq, step, agg](storage::reader& db) {
    return endpoints::series(db, id, mq.metric, mq.range, step, agg);
  });
}

void states(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  auto now = wall_ms();
  time_range range;
  if (!machine_id(req, res, id) || !range_request(req, res, now, range))
    return;
  ctx.query(res, [plant = ctx.plant, id, range, now](storage::reader& db) {
    return endpoints::states(db, *plant, id, range, now);
  });
}

void floor(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  auto line = req.params.get("line");
  if (!known_line(ctx, line, res))
    return;
  auto now = wall_ms();
  auto shift = shift_at(ctx.plant->shifts, now);
  ctx.query(res, [plant = ctx.plant, line, shift, now](storage::reader& db) {
    return endpoints::floor(db, *plant, line, shift, now);
  });
}

void floor_sparklines(const api_context& ctx, const request& req, httplib::Response& res) {
  const auto& q = req.params;
  time_range range;
  if (!range_request(req, res, wall_ms(), range))
    return;
  int64_t step = 0;
  if (auto e = parse_step(q, range, step))
    return bad_param(res, *e);
  auto line = q.get("line");
  if (!known_line(ctx, line, res))
    return;
  // One series per machine: bound the buckets per machine (as /series) and in total.
  const int64_t buckets = aligned_buckets(range.from_ms, range.to_ms, step);
  const auto machines = static_cast<int64_t>(endpoints::machine_count(*ctx.plant, line));
  if (buckets > max_buckets)
    return bad_param(res, {"step_ms", "'step_ms' too small for the range: more than " +
                                          std::to_string(max_buckets) + " buckets per machine"});
  if (buckets * machines > max_total_buckets)
    return bad_param(res, {"step_ms", "'step_ms' too small for the range: " +
                                          std::to_string(machines) + " machines x " +
                                          std::to_string(buckets) + " buckets is more than " +
                                          std::to_string(max_total_buckets) +
                                          " in total; use a larger step_ms, a shorter "
                                          "range or line="});
  ctx.query(res, [plant = ctx.plant, line, range, step](storage::reader& db) {
    return endpoints::floor_sparklines(db, *plant, line, range, step);
  });
}

void line_summary(const api_context& ctx, const request& req, httplib::Response& res) {
  std::optional<std::string> line = std::string(req.http.matches[1]);
  if (!known_line(ctx, line, res))
    return;
  auto now = wall_ms();
  time_range range;
  if (!range_request(req, res, now, range))
    return;
  if (!req.params.get("from"))  // default: since the start of the shift in force at `to`
    range.from_ms = shift_at(ctx.plant->shifts, range.to_ms - 1).from_ms;
  ctx.query(res, [plant = ctx.plant, line, range, now](storage::reader& db) {
    return endpoints::line_summary(db, *plant, *line, range, now);
  });
}

} // namespace edgemes::api::handlers
