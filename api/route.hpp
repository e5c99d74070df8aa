// api/route: the API's route table and what its handlers share.
//
// One row per endpoint — method, path, accepted query parameters, one line
// about it, and its handler — drives both the HTTP router (install_routes)
// and the /api/v1 index, so neither can name an endpoint the other lacks.
//
// Each row also says which token role it needs (api/auth.hpp): unless the
// row names one, GET (and HEAD) routes need `read` and every other method
// `operate`, so a new write route is never open by omission.
//
// A handler is a plain function of (context, request, response). It checks
// what the request carries in the order docs/API.md ("Errors") promises, then
// answers directly (4xx, /health, the backup) or runs one query through the
// context (admission, then a query worker), or one write job (admission, then
// the writer actor). It never touches SQLite itself.
#pragma once

#include "actors/ingest.hpp"
#include "actors/query.hpp"
#include "actors/writer.hpp"
#include "api/admission.hpp"
#include "api/auth.hpp"
#include "api/params.hpp"
#include "config/config.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace edgemes::api {

struct server_settings;
struct route;

// What every handler may use. Built once by the server and constant after,
// except the request counter (atomic) and the backup mutex.
struct api_context {
  const server_settings& settings;
  std::shared_ptr<const config::config> plant;  // captured by queries that outlive a request
  actors::query_pool& queries;
  admission& admit;
  const actors::ingest_gauge& gauge;
  int64_t started_ms;                      // wall ms when the server was built
  const std::atomic<int64_t>& requests;    // requests routed since start
  std::mutex& backup_mutex;                // one admin backup at a time
  const token_set& tokens;                 // who may use which route (api/auth.hpp)
  const std::vector<route>& routes;        // the table served (the /api/v1 index lists it)
  actors::writer_actor writer;             // the one writer (null: writes answer 503)

  // Runs `fn` on a query worker as the admission rule allows and sends its
  // reply, or the refusal (api/admission.hpp).
  void query(httplib::Response& res, std::function<query_reply(storage::reader&)> fn) const;

  // Runs `fn` as a write job on the writer — one transaction, rolled back when
  // its reply is a refusal (>= 400) or it throws (actors/messages.hpp,
  // write_job) — and sends its reply, or the refusal: 507 disk_full, 500
  // storage with SQLite's message, 503 (api/admission.hpp). The only way a
  // handler writes.
  void write(httplib::Response& res, std::function<query_reply(storage::writer&)> fn) const;
};

// A request as its handler sees it: the query parameters are already parsed
// against the route's list; params.error() is for the handler to report in
// its own order.
struct request {
  const httplib::Request& http;
  const query_params& params;
};

using handler = void (*)(const api_context&, const request&, httplib::Response&);

struct route {
  const char* method;            // "GET" (which answers HEAD too) or "POST"
  const char* path;              // "{id}" stands for one path segment
  std::set<std::string> params;  // the query parameters it accepts
  const char* about;             // one line for the /api/v1 index
  handler fn;
  // Last, with a default, so rows that do not name a role keep compiling:
  // unset = read for GET, operate for any other method (required()).
  std::optional<config::api_role> role = std::nullopt;

  // The role a token needs for this route.
  config::api_role required() const;
};

// Every API route, in the order the /api/v1 index lists them.
const std::vector<route>& route_table();

// Registers every row of ctx.routes on `http`, each behind its role check
// (api/auth.hpp). REQUIRES: `ctx` outlives `http`'s serving.
void install_routes(httplib::Server& http, const api_context& ctx);

// Answers a refused request: the verdict's status and error, and on 401 the
// `WWW-Authenticate: Bearer` challenge.
void refuse(httplib::Response& res, const verdict& v);

// The reply helpers every handler uses.
void send(httplib::Response& res, const query_reply& r);
void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message);
void bad_param(httplib::Response& res, const param_error& e);

} // namespace edgemes::api
