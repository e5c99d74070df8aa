#include "api/route.hpp"

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/json_out.hpp"
#include "api/server.hpp"

#include <httplib.h>

#include <chrono>
#include <cstring>

namespace edgemes::api {

const std::vector<route>& route_table() {
  namespace h = handlers;
  static const std::vector<route> table = {
      {"GET", "/api/v1", {}, "this index: every route, its parameters and what it answers",
       h::index},
      {"GET", "/api/v1/health", {},
       "daemon status: writer queue and commits, pollers, database size, memory; needs no query",
       h::health},
      {"GET", "/api/v1/lines", {}, "the lines and how many machines each has", h::lines},
      {"GET", "/api/v1/lines/{id}/summary", {"from", "to"},
       "per machine of a line: time in state, availability and counter increases (default: "
       "since the current shift began)",
       h::line_summary},
      {"GET", "/api/v1/machines", {"line"}, "every machine (or one line's) with its polling status",
       h::machines},
      {"GET", "/api/v1/machines/{id}", {}, "one machine: status and each metric's latest value",
       h::machine},
      {"GET", "/api/v1/machines/{id}/samples", {"metric", "from", "to", "limit"},
       "one metric's raw samples in [from, to), oldest first, at most limit", h::samples},
      {"GET", "/api/v1/machines/{id}/series", {"metric", "from", "to", "step_ms", "agg"},
       "one metric aggregated into step_ms buckets (avg, min, max, sum, count or last)",
       h::series},
      {"GET", "/api/v1/machines/{id}/states", {"from", "to"},
       "one machine's state intervals and time in each state", h::states},
      {"GET", "/api/v1/floor", {"line"},
       "the floor dashboard: every configured machine's tile and the current shift", h::floor},
      {"GET", "/api/v1/floor/sparklines", {"from", "to", "step_ms", "line"},
       "each configured machine's sparkline metric, averaged into step_ms buckets",
       h::floor_sparklines},
      {"GET", "/api/v1/machines/{id}/oee", {"from", "to"},
       "one machine's availability, performance, quality and OEE with every input (default: "
       "the current shift)",
       h::machine_oee},
      {"GET", "/api/v1/machines/{id}/oee/series", {"from", "to", "step"},
       "one machine's OEE per hour or shift (step=hour|shift; default: the last 24 h of shifts)",
       h::machine_oee_series},
      {"GET", "/api/v1/lines/{id}/oee", {"from", "to"},
       "a line's OEE (end-of-line output counter, bottleneck's ideal cycle) and each machine's",
       h::line_oee},
      {"GET", "/api/v1/lines/{id}/oee/series", {"from", "to", "step"},
       "a line's OEE per hour or shift (step=hour|shift)", h::line_oee_series},
      {"GET", "/api/v1/oee", {"from", "to", "line"},
       "every configured machine's OEE (or one line's) in one reply", h::floor_oee},
      {"GET", "/api/v1/products", {}, "every product with its number of BOM revisions",
       h::products},
      {"GET", "/api/v1/products/{id}", {}, "one product and its BOM revisions", h::product},
      {"GET", "/api/v1/products/{id}/bom", {"revision"},
       "one BOM revision's items (default: the latest)", h::product_bom},
      {"POST", "/api/v1/products/{id}/bom",
       {"name", "source", "separator", "designators_header", "part_number_header",
        "quantity_header", "description_header", "side_header"},
       "imports a BOM (the CSV is the body) as the product's next revision; all or nothing",
       h::import_bom},
      {"GET", "/api/v1/work-orders", {"line", "status", "limit"},
       "work orders, newest first, with boards counted, progress, rate and ETA", h::work_orders},
      {"GET", "/api/v1/work-orders/{id}", {},
       "one work order: runs, boards, progress, rate, ETA and its components", h::work_order},
      {"POST", "/api/v1/work-orders", {},
       "creates a work order from JSON {id, product, quantity, line, revision?}",
       h::create_work_order},
      {"POST", "/api/v1/work-orders/{id}/start", {},
       "starts (or resumes) a work order; one running order per line", h::start_work_order},
      {"POST", "/api/v1/work-orders/{id}/pause", {}, "pauses a running work order",
       h::pause_work_order},
      {"POST", "/api/v1/work-orders/{id}/complete", {}, "completes a running or paused work order",
       h::complete_work_order},
      {"POST", "/api/v1/admin/backup", {},
       "writes a consistent copy of the database into backup_dir (needs an admin token)",
       h::backup, config::api_role::admin},
  };
  return table;
}

namespace {

// "/api/v1/machines/{id}/series" -> the router's "/api/v1/machines/([^/]+)/series".
std::string path_regex(const char* path) {
  std::string out = path;
  const std::string id = "{id}";
  for (auto at = out.find(id); at != std::string::npos; at = out.find(id, at))
    out.replace(at, id.size(), "([^/]+)");
  return out;
}

} // namespace

config::api_role route::required() const {
  if (role)
    return *role;
  return std::strcmp(method, "GET") == 0 ? config::api_role::read : config::api_role::operate;
}

void install_routes(httplib::Server& http, const api_context& ctx) {
  for (const route& r : ctx.routes) {
    const bool post = std::strcmp(r.method, "POST") == 0;
    auto serve = [&ctx, &r, post](const httplib::Request& req, httplib::Response& res) {
      verdict v = authorize(ctx.tokens, req.get_header_value("Authorization"), r.required(),
                            std::string(r.method) + " " + r.path);
      if (!v.allowed())
        return refuse(res, v);
      // A POST's parameters are its URL's only, never its (form-encoded) body.
      query_params params(post ? target_query(req.target) : req.params, r.params);
      r.fn(ctx, request{req, params}, res);
    };
    if (post)
      http.Post(path_regex(r.path), serve);
    else
      http.Get(path_regex(r.path), serve);
  }
}

void api_context::query(httplib::Response& res,
                        std::function<query_reply(storage::reader&)> fn) const {
  auto timeout = std::chrono::milliseconds(settings.request_timeout_ms);
  send(res, admit.run(queries, std::move(fn), timeout));
}

void api_context::write(httplib::Response& res,
                        std::function<query_reply(storage::writer&)> fn) const {
  auto timeout = std::chrono::milliseconds(settings.request_timeout_ms);
  send(res, admit.write(writer, std::move(fn), timeout));
}

void send(httplib::Response& res, const query_reply& r) {
  res.status = r.status;
  res.set_content(r.body, "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message) {
  send(res, error_reply(status, code, message));
}

void bad_param(httplib::Response& res, const param_error& e) {
  send(res, bad_parameter(e));
}

void refuse(httplib::Response& res, const verdict& v) {
  if (v.status == 401)
    res.set_header("WWW-Authenticate", "Bearer realm=\"edgemes\"");
  send_error(res, v.status, v.code, v.message);
}

namespace handlers {

// "endpoints" (the GET paths, as ever) and "routes" (each with its method,
// parameters, the role it needs and one line about it), both from the table.
void index(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  json_out w;
  w.begin_object();
  w.key("name").value("edgemes");
  w.key("api").value("/api/v1");
  w.key("endpoints").begin_array();
  for (const auto& r : ctx.routes)
    if (std::strcmp(r.method, "GET") == 0 && std::strcmp(r.path, "/api/v1") != 0)
      w.value(r.path);
  w.end_array();
  w.key("routes").begin_array();
  for (const auto& r : ctx.routes) {
    w.begin_object();
    w.key("method").value(r.method);
    w.key("path").value(r.path);
    w.key("params").begin_array();
    for (const auto& p : r.params)
      w.value(p);
    w.end_array();
    w.key("role").value(config::role_name(r.required()));
    w.key("about").value(r.about);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  res.set_content(w.take(), "application/json");
}

} // namespace handlers

} // namespace edgemes::api
