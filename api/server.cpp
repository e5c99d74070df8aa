#include "api/server.hpp"

#include "actors/query.hpp"
#include "api/listen_socket.hpp"
#include "api/endpoints.hpp"
#include "api/params.hpp"
#include "api/shifts.hpp"
#include "api/static_site.hpp"

#include "clock/clock.hpp"
#include "log/log.hpp"
#include "storage/backup.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace edgemes::api {

namespace {

using json = nlohmann::ordered_json;
using actors::query_reply;

using clock::wall_ms;

void send(httplib::Response& res, const query_reply& r) {
  res.status = r.status;
  res.set_content(r.body, "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message) {
  send(res, actors::error_reply(status, code, message));
}

void bad_param(httplib::Response& res, const param_error& e) {
  send_error(res, 400, "bad_parameter", e.message);
}

int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// "20261125T163000123Z": sortable, no characters a file system dislikes.
std::string utc_stamp(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// cpp-httplib compresses with brotli whenever the client accepts "br" (every
// browser does), at brotli's default quality 11: ~90 ms of CPU for the 110 KB
// /api/v1/floor of 200 machines, against ~0.3 ms for gzip. Dropping "br" from
// Accept-Encoding before routing makes browsers get gzip. httplib hands the
// pre-routing handler its own non-const Request as const, so the cast is sound.
void without_brotli(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Headers&>(req.headers);
  auto it = headers.find("Accept-Encoding");
  if (it == headers.end() || it->second.find("br") == std::string::npos)
    return;
  std::string kept;
  std::stringstream tokens(it->second);
  for (std::string token; std::getline(tokens, token, ',');) {
    auto first = token.find_first_not_of(' ');
    if (first == std::string::npos || token.find("br", first) != std::string::npos)
      continue;  // httplib picks brotli on "br" anywhere in the value
    kept += (kept.empty() ? "" : ", ") + token.substr(first);
  }
  it->second = kept;
}

// Buckets a /series-style reply can hold for [from, to): they are aligned to
// multiples of step since the epoch (from >= 0), so an unaligned range can
// touch one more than (to - from) / step.
int64_t aligned_buckets(int64_t from_ms, int64_t to_ms, int64_t step_ms) {
  return (to_ms - 1) / step_ms - from_ms / step_ms + 1;
}

} // namespace

bool is_loopback(const std::string& bind) {
  return bind == "localhost" || bind == "::1" || bind == "[::1]" || bind.rfind("127.", 0) == 0;
}

bool tokens_equal(const std::string& presented, const std::string& expected) {
  // Every byte of the expected token is compared whatever the input, so the
  // time taken tells nothing about how much of a guess was right.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

namespace {

// VmRSS of this process in KiB (/proc/self/status), -1 when unreadable.
int64_t rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtoll(line.c_str() + 6, nullptr, 10);
  return -1;
}

json memory_json() {
  auto heap = storage::sqlite_heap();
  return {{"rss_kib", rss_kib()},
          {"sqlite_bytes", heap.used_bytes},
          {"sqlite_highwater_bytes", heap.highwater_bytes},
          {"sqlite_limit_bytes", heap.soft_limit_bytes}};
}

} // namespace

server::server(std::shared_ptr<actors::query_pool> queries,
               std::shared_ptr<actors::ingest_gauge> gauge, server_settings settings)
    : queries_(std::move(queries)), gauge_(std::move(gauge)),
      settings_(std::move(settings)), http_(std::make_unique<httplib::Server>()),
      started_ms_(wall_ms()) {
  if (!settings_.plant)
    settings_.plant = std::make_shared<const config::config>();
  auto threads = static_cast<size_t>(std::max(1, settings_.http_threads));
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(64 * 1024);
  http_->set_keep_alive_max_count(1000);
  // cpp-httplib writes a reply in more than one send(): with Nagle on, the
  // second part waits for the client's delayed ACK (~40 ms per keep-alive reply).
  http_->set_tcp_nodelay(true);
  routes();
}

server::~server() {
  stop();
}

bool server::bind(std::string* error) {
  if (!is_loopback(settings_.bind) && settings_.token.empty())
    log::warn("api", "serving on " + settings_.bind +
                         " without api.token: anyone who can reach this address can read "
                         "every machine's data; set api.token or bind to 127.0.0.1");
  listen_ = std::make_unique<listen_socket>();
  listen_->install(*http_);
  if (settings_.port == 0) {
    port_ = http_->bind_to_any_port(settings_.bind.c_str());
    if (port_ > 0) {
      listen_->raise_backlog();
      return true;
    }
  } else if (http_->bind_to_port(settings_.bind.c_str(), settings_.port)) {
    port_ = settings_.port;
    listen_->raise_backlog();
    return true;
  }
  if (error)
    *error = "cannot listen on " + settings_.bind + ":" + std::to_string(settings_.port) +
             " (address in use, not local, or not permitted)";
  return false;
}

void server::start() {
  thread_ = std::thread([this] { http_->listen_after_bind(); });
}

void server::stop() {
  if (http_)
    http_->stop();
  if (thread_.joinable())
    thread_.join();
}

void server::routes() {
  auto& http = *http_;
  auto timeout = std::chrono::milliseconds(settings_.request_timeout_ms);

  // Runs `fn` on a query worker; 503 when no reply comes in time, and at once
  // when every non-reserved HTTP thread already waits for a query.
  int max_waiting = std::max(1, settings_.http_threads - reserved_threads);
  auto run = [this, timeout, max_waiting](httplib::Response& res,
                                          std::function<query_reply(storage::reader&)> fn) {
    struct waiting_slot {
      std::atomic<int>& n;
      ~waiting_slot() { --n; }
    } slot{waiting_};
    if (++waiting_ > max_waiting)
      return send_error(res, 503, "overloaded",
                        "too many API requests waiting for queries (" +
                            std::to_string(max_waiting) + "); retry shortly");
    actors::read_job job{std::move(fn), std::chrono::steady_clock::now() + timeout, nullptr};
    send(res, queries_->run(std::move(job), timeout + std::chrono::milliseconds(250)));
  };

  // Machine id from the path: anything that is not a valid id cannot exist.
  auto machine_id = [](const httplib::Request& req, httplib::Response& res,
                       std::string& out) {
    out = req.matches[1];
    if (valid_ident(out))
      return true;
    std::string shown = out.size() > 64 ? out.substr(0, 64) + "..." : out;
    send_error(res, 404, "unknown_machine", "no machine '" + shown + "'");
    return false;
  };

  // The dashboard (GET / and /assets/...), registered first so it owns "/".
  static_site::add_routes(http);

  http.Get("/api/v1", [](const httplib::Request& req, httplib::Response& res) {
    query_params q(req.params, {});
    if (q.error())
      return bad_param(res, *q.error());
    json body = {{"name", "edgemes"},
                 {"api", "/api/v1"},
                 {"endpoints",
                  {"/api/v1/health", "/api/v1/lines", "/api/v1/lines/{id}/summary",
                   "/api/v1/machines", "/api/v1/machines/{id}", "/api/v1/machines/{id}/samples",
                   "/api/v1/machines/{id}/series", "/api/v1/machines/{id}/states",
                   "/api/v1/floor", "/api/v1/floor/sparklines"}}};
    res.set_content(body.dump(), "application/json");
  });

  http.Get("/api/v1/health", [this](const httplib::Request& req, httplib::Response& res) {
    query_params q(req.params, {});
    if (q.error())
      return bad_param(res, *q.error());
    auto now = wall_ms();
    bool failing = gauge_->writer_failing();
    json body = {
        {"status", failing ? "degraded" : "ok"},
        {"site", settings_.site},
        {"version", settings_.version},
        {"now", now},
        {"started", started_ms_},
        {"uptime_s", (now - started_ms_) / 1000},
        {"writer",
         {{"queue_depth", gauge_->held_samples()},
          {"queue_reports", gauge_->held_reports()},
          {"max_queue", gauge_->max_queue()},
          {"samples_committed", gauge_->committed_samples()},
          {"rows_committed", gauge_->committed_rows()},
          {"commits", gauge_->commits()},
          {"last_commit", gauge_->last_commit_ms() > 0 ? json(gauge_->last_commit_ms())
                                                       : json(nullptr)},
          {"dropped_samples", gauge_->dropped_samples()},
          {"dropped_reports", gauge_->dropped_reports()},
          {"duplicates", gauge_->duplicates()},
          {"compactions", gauge_->compactions()},
          {"compacted_polls", gauge_->compacted_polls()},
          {"late_polls", gauge_->late_polls()},
          {"error", failing ? json(gauge_->writer_error()) : json(nullptr)}}},
        {"pollers", {{"missed_polls", gauge_->missed_polls()}}},
        {"api", {{"requests", requests_.load()}}},
        {"database",
         {{"path", settings_.db_path},
          {"size_bytes", file_size(settings_.db_path)},
          {"wal_bytes", file_size(settings_.db_path + "-wal")}}},
        {"memory", memory_json()},
    };
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  });

  http.Get("/api/v1/lines", [run](const httplib::Request& req, httplib::Response& res) {
    query_params q(req.params, {});
    if (q.error())
      return bad_param(res, *q.error());
    run(res, [](storage::reader& db) { return endpoints::lines(db); });
  });

  http.Get("/api/v1/machines", [run](const httplib::Request& req, httplib::Response& res) {
    query_params q(req.params, {"line"});
    if (q.error())
      return bad_param(res, *q.error());
    auto line = q.get("line");
    if (line && !valid_ident(*line))
      return send_error(res, 404, "unknown_line", "no line with that id");
    run(res, [line](storage::reader& db) { return endpoints::machines(db, line); });
  });

  http.Get(R"(/api/v1/machines/([^/]+))",
           [run, machine_id](const httplib::Request& req, httplib::Response& res) {
             std::string id;
             if (!machine_id(req, res, id))
               return;
             query_params q(req.params, {});
             if (q.error())
               return bad_param(res, *q.error());
             run(res, [id](storage::reader& db) { return endpoints::machine(db, id); });
           });

  // Shared by /samples and /series: the metric and the range.
  struct metric_query {
    std::string metric;
    time_range range;
  };
  auto parse_metric_query = [](const query_params& q,
                               metric_query& out) -> std::optional<param_error> {
    if (q.error())
      return q.error();
    auto metric = q.get("metric");
    if (!metric || metric->empty())
      return param_error{"metric", "parameter 'metric' is required"};
    out.metric = *metric;
    return parse_range(q, wall_ms(), out.range);
  };

  http.Get(R"(/api/v1/machines/([^/]+)/samples)",
           [run, machine_id, parse_metric_query](const httplib::Request& req,
                                                 httplib::Response& res) {
             std::string id;
             if (!machine_id(req, res, id))
               return;
             query_params q(req.params, {"metric", "from", "to", "limit"});
             metric_query mq;
             if (auto e = parse_metric_query(q, mq))
               return bad_param(res, *e);
             int64_t limit = 1000;
             if (auto l = q.get("limit")) {
               auto v = parse_int(*l, 1, 100000);
               if (!v)
                 return bad_param(res, {"limit", "bad 'limit': expected an integer 1..100000"});
               limit = *v;
             }
             run(res, [id, mq, limit](storage::reader& db) {
               return endpoints::samples(db, id, mq.metric, mq.range, limit);
             });
           });

  http.Get(R"(/api/v1/machines/([^/]+)/series)",
           [run, machine_id, parse_metric_query](const httplib::Request& req,
                                                 httplib::Response& res) {
             std::string id;
             if (!machine_id(req, res, id))
               return;
             query_params q(req.params, {"metric", "from", "to", "step_ms", "agg"});
             metric_query mq;
             if (auto e = parse_metric_query(q, mq))
               return bad_param(res, *e);
             constexpr int64_t max_buckets = 10000;
             int64_t step = endpoints::default_step_ms(mq.range.to_ms - mq.range.from_ms);
             if (auto s = q.get("step_ms")) {
               auto v = parse_int(*s, 1, max_epoch_ms);
               if (!v)
                 return bad_param(res, {"step_ms", "bad 'step_ms': expected a positive integer"});
               step = *v;
             }
             if (aligned_buckets(mq.range.from_ms, mq.range.to_ms, step) > max_buckets)
               return bad_param(res, {"step_ms", "'step_ms' too small for the range: more than " +
                                                     std::to_string(max_buckets) + " buckets"});
             auto agg = storage::aggregate::avg;
             if (auto a = q.get("agg")) {
               auto v = parse_aggregate(*a);
               if (!v)
                 return bad_param(res,
                                  {"agg", "bad 'agg': expected avg, min, max, sum, count or last"});
               agg = *v;
             }
             run(res, [id, mq, step, agg](storage::reader& db) {
               return endpoints::series(db, id, mq.metric, mq.range, step, agg);
             });
           });

  http.Get(R"(/api/v1/machines/([^/]+)/states)",
           [run, machine_id](const httplib::Request& req, httplib::Response& res) {
             std::string id;
             if (!machine_id(req, res, id))
               return;
             query_params q(req.params, {"from", "to"});
             if (q.error())
               return bad_param(res, *q.error());
             auto now = wall_ms();
             time_range range;
             if (auto e = parse_range(q, now, range))
               return bad_param(res, *e);
             run(res, [id, range, now](storage::reader& db) {
               return endpoints::states(db, id, range, now);
             });
           });

  // Floor dashboard (docs/API.md). The config names the lines and machines, so
  // an unknown line is answered here without a query.
  const std::shared_ptr<const config::config> plant = settings_.plant;
  auto known_line = [plant](const std::optional<std::string>& line, httplib::Response& res) {
    if (!line || endpoints::find_line(*plant, *line))
      return true;
    send_error(res, 404, "unknown_line",
               valid_ident(*line) ? "no line '" + *line + "'" : "no line with that id");
    return false;
  };

  http.Get("/api/v1/floor", [run, plant, known_line](const httplib::Request& req,
                                                     httplib::Response& res) {
    query_params q(req.params, {"line"});
    if (q.error())
      return bad_param(res, *q.error());
    auto line = q.get("line");
    if (!known_line(line, res))
      return;
    auto now = wall_ms();
    auto shift = shift_at(plant->shifts, now);
    run(res, [plant, line, shift, now](storage::reader& db) {
      return endpoints::floor(db, *plant, line, shift, now);
    });
  });

  http.Get("/api/v1/floor/sparklines", [run, plant, known_line](const httplib::Request& req,
                                                                httplib::Response& res) {
    query_params q(req.params, {"from", "to", "step_ms", "line"});
    if (q.error())
      return bad_param(res, *q.error());
    time_range range;
    if (auto e = parse_range(q, wall_ms(), range))
      return bad_param(res, *e);
    const int64_t span = range.to_ms - range.from_ms;
    int64_t step = endpoints::default_step_ms(span);
    if (auto s = q.get("step_ms")) {
      auto v = parse_int(*s, 1, max_epoch_ms);
      if (!v)
        return bad_param(res, {"step_ms", "bad 'step_ms': expected a positive integer"});
      step = *v;
    }
    auto line = q.get("line");
    if (!known_line(line, res))
      return;
    // One series per machine: bound the buckets per machine (as /series) and in total.
    constexpr int64_t max_buckets = 10000, max_total = 100000;
    const int64_t buckets = aligned_buckets(range.from_ms, range.to_ms, step);
    const auto machines = static_cast<int64_t>(endpoints::machine_count(*plant, line));
    if (buckets > max_buckets)
      return bad_param(res, {"step_ms", "'step_ms' too small for the range: more than " +
                                            std::to_string(max_buckets) +
                                            " buckets per machine"});
    if (buckets * machines > max_total)
      return bad_param(res, {"step_ms", "'step_ms' too small for the range: " +
                                            std::to_string(machines) + " machines x " +
                                            std::to_string(buckets) + " buckets is more than " +
                                            std::to_string(max_total) +
                                            " in total; use a larger step_ms, a shorter "
                                            "range or line="});
    run(res, [plant, line, range, step](storage::reader& db) {
      return endpoints::floor_sparklines(db, *plant, line, range, step);
    });
  });

  http.Get(R"(/api/v1/lines/([^/]+)/summary)", [run, plant, known_line](
                                                    const httplib::Request& req,
                                                    httplib::Response& res) {
    std::optional<std::string> line = std::string(req.matches[1]);
    if (!known_line(line, res))
      return;
    query_params q(req.params, {"from", "to"});
    if (q.error())
      return bad_param(res, *q.error());
    auto now = wall_ms();
    time_range range;
    if (auto e = parse_range(q, now, range))
      return bad_param(res, *e);
    if (!q.get("from"))  // default: since the start of the shift in force at `to`
      range.from_ms = shift_at(plant->shifts, range.to_ms - 1).from_ms;
    run(res, [plant, line, range, now](storage::reader& db) {
      return endpoints::line_summary(db, *plant, *line, range, now);
    });
  });

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.headers.size() > max_header_fields) {
      send_error(res, 431, "headers_too_large",
                 "too many header fields (at most " + std::to_string(max_header_fields) + ")");
      return httplib::Server::HandlerResponse::Handled;
    }
    ++requests_;
    without_brotli(req);
    // The dashboard's files hold no plant data; the page's API calls need the token.
    if (settings_.token.empty() || static_site::is_site_path(req.path))
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string prefix = "Bearer ";
    auto auth = req.get_header_value("Authorization");
    bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
              tokens_equal(auth.substr(prefix.size()), settings_.token);
    if (ok)
      return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer realm=\"edgemes\"");
    send_error(res, 401, "unauthorized",
               auth.empty() ? "this API needs 'Authorization: Bearer <api.token>'"
                            : "wrong token in the Authorization header");
    return httplib::Server::HandlerResponse::Handled;
  });

  // Admin: a consistent copy of the database, into backup_dir only.
  http.Post("/api/v1/admin/backup", [this](const httplib::Request& req, httplib::Response& res) {
    if (settings_.token.empty())
      return send_error(res, 403, "forbidden",
                        "admin endpoints are disabled: set api.token to enable them");
    query_params q(req.params, {});
    if (q.error())
      return bad_param(res, *q.error());
    std::unique_lock<std::mutex> lock(backup_mutex_, std::try_to_lock);
    if (!lock.owns_lock())
      return send_error(res, 409, "backup_running", "a backup is already running; retry later");
    namespace fs = std::filesystem;
    fs::path dir = settings_.backup_dir.empty()
                       ? fs::path(settings_.db_path).parent_path() / "backups"
                       : fs::path(settings_.backup_dir);
    auto out = dir / (fs::path(settings_.db_path).stem().string() + "-" +
                      utc_stamp(wall_ms()) + ".db");
    try {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec)
        return send_error(res, 500, "storage",
                          "cannot create backup directory " + dir.string() + ": " + ec.message());
      auto r = storage::backup(settings_.db_path, out.string(), settings_.db_options);
      log::info("api", "backup written to " + out.string() + " (" + std::to_string(r.bytes) +
                           " bytes in " + std::to_string(r.ms) + " ms)");
      json body = {{"path", out.string()}, {"bytes", r.bytes}, {"pages", r.pages}, {"ms", r.ms}};
      res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
    } catch (const storage::db_error& e) {
      send_error(res, 500, "storage", e.what());
    }
  });

  auto not_allowed = [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "GET, HEAD");
    send_error(res, 405, "method_not_allowed",
               "method " + req.method + " not allowed; the API is read-only (GET, HEAD)");
  };
  http.Post(".*", not_allowed);
  http.Put(".*", not_allowed);
  http.Patch(".*", not_allowed);
  http.Delete(".*", not_allowed);
  http.Options(".*", not_allowed);

  httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&,
                                                     httplib::Response& res) {
    if (!res.body.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    switch (res.status) {
      case 404: send_error(res, 404, "not_found", "no such endpoint"); break;
      case 414: send_error(res, 414, "uri_too_long", "request URI too long"); break;
      case 413: send_error(res, 413, "payload_too_large", "request body too large"); break;
      case 400: send_error(res, 400, "bad_request", "malformed HTTP request"); break;
      default:
        send_error(res, res.status, "http_" + std::to_string(res.status),
                   "request refused with HTTP status " + std::to_string(res.status));
    }
    return httplib::Server::HandlerResponse::Handled;
  };
  http.set_error_handler(on_error);
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unexpected error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        send_error(res, 500, "internal", what);
      });
}

} // namespace edgemes::api
