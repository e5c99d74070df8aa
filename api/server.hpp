// api/server: the HTTP JSON API, v1 (docs/API.md).
//
// cpp-httplib serves requests on its own thread pool. The routes are one table
// (api/route.hpp) that drives both the router and the /api/v1 index; each
// route has a small handler (api/handlers.hpp). A read handler never touches
// SQLite: it validates the parameters, then runs one read_job on a query
// worker (actors::query_pool) through the admission (api/admission.hpp),
// which decides whether it may wait and answers every 503. /api/v1/health
// reads the writer's gauge directly, so it answers even while every query
// worker is busy.
//
// Security (api/auth.hpp): with tokens configured (api.tokens, api.token),
// every request (health included) must carry `Authorization: Bearer <token>`
// of a configured token (compared in constant time) or gets 401 with
// `WWW-Authenticate: Bearer`, before routing; then each route checks the
// token's role against its own (read < operate < admin; api/route.hpp) and
// answers 403 when it is too low. Without tokens reads are open and every
// operate or admin route answers 403. Only the dashboard's files (`/`,
// `/assets/...`, api/static_site) are served without a token.
// POST /api/v1/admin/backup (admin) writes a consistent copy of the database
// into backup_dir (never a client-chosen path). Binding to a non-loopback
// address without a token logs a warning.
//
// Every error is JSON {"error": {"code": ..., "message": ...}} (api/errors.hpp)
// with 400 (bad parameter, named), 401 (token), 403 (role too low, or no token configured), 404
// (unknown machine, metric or path), 405 (a method other than GET/HEAD), 409 (a
// backup already running), 413/414/431 (request too large), 500 (storage or a
// bug) or 503 (timeout, overload, stopping).
// Header lines over 8 KiB are refused by cpp-httplib with 400 (a compile-time
// limit of Debian's precompiled library, as is the 8 KiB request line).
#pragma once

#include "actors/ingest.hpp"
#include "actors/query.hpp"
#include "actors/writer.hpp"
#include "api/admission.hpp"
#include "api/auth.hpp"
#include "api/route.hpp"
#include "config/config.hpp"
#include "storage/database.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace edgemes::net {
class listen_socket;
}

namespace edgemes::api {

struct api_context;

// One MQTT broker connection as /health shows it (the daemon fills it in).
struct broker_status {
  std::string id;
  std::string host;
  int port = 0;
  bool connected = false;
  int64_t since_ms = 0;       // last change, wall ms; 0 = none yet
  int64_t connects = 0;
  int64_t messages = 0;       // handed to the machines' actors (drops: their polls.missed)
  int64_t unrouted = 0;       // on no configured topic (an older config's subscription)
  int64_t retained_ignored = 0;
  std::string last_error;     // "" = never down
};

struct server_settings {
  std::string site;
  // Defaults from config/config.hpp, their one home (docs/CONFIG.md).
  std::string bind = config::api_config{}.bind;
  int port = static_cast<int>(config::api_config{}.port);  // 0 = any free port (server::port())
  int64_t request_timeout_ms = config::api_config{}.request_timeout_ms;
  std::string db_path;
  std::string version;
  int http_threads = 8;            // the HTTP pool (api/admission.hpp: http_threads_for)
  // Who may use the API, each token with its role (api.tokens, and api.token
  // as admin); none = no authentication: reads open, operate/admin refused.
  std::vector<config::api_token_config> tokens;
  std::string backup_dir;          // "" = <directory of db_path>/backups
  storage::options db_options;     // for the backup's read-only connection (daemon::reader_options)
  // The resolved config: lines, machines and dashboard settings for /floor and
  // /lines/{id}/summary (null = no lines).
  std::shared_ptr<const config::config> plant;
  // The MQTT brokers' links, read per /health request (empty = no brokers).
  // Must stay callable while the server runs.
  std::function<std::vector<broker_status>()> brokers;
};

// More header fields than this answer 431 (httplib 0.11 has no count limit).
constexpr size_t max_header_fields = 100;

// Request bodies: a BOM import's CSV (POST /api/v1/products/{id}/bom) up to
// max_bom_bytes — the CLI's local check and the CSV parser use the same
// limit — every other body up to max_body_bytes; more answers 413 before the
// body is read. So each HTTP thread holds at most one body of 4 MiB.
constexpr size_t max_bom_bytes = size_t{4} << 20;
constexpr size_t max_body_bytes = size_t{64} << 10;

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& bind);

class server {
public:
  // Serves `routes` (the API's own table unless a test brings one);
  // REQUIRES: `routes` outlives the server. `writer`: where write jobs go (the
  // MES routes); null = those answer 503.
  server(std::shared_ptr<actors::query_pool> queries,
         std::shared_ptr<actors::ingest_gauge> gauge, server_settings settings,
         actors::writer_actor writer = {}, const std::vector<route>& routes = route_table());
  ~server();  // stop()
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds the socket. Returns false and sets *error when it cannot.
  bool bind(std::string* error);
  int port() const { return port_; }
  // Serves on a background thread until stop().
  void start();
  // Stops accepting, waits for the serving thread. Idempotent.
  void stop();

private:
  void guard_requests();   // header count, token, brotli, body size: before any route
  void answer_the_rest();  // 405s, httplib's own errors and exceptions as JSON

  std::shared_ptr<actors::query_pool> queries_;
  std::shared_ptr<actors::ingest_gauge> gauge_;
  server_settings settings_;
  token_set tokens_;                  // settings_.tokens as digests
  const std::vector<route>& routes_;
  admission admission_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<net::listen_socket> listen_;  // net/listen_socket.hpp
  std::thread thread_;
  int port_ = 0;
  std::atomic<int64_t> requests_{0};  // requests routed since start (health: api.requests)
  std::mutex backup_mutex_;           // one admin backup at a time
  std::unique_ptr<api_context> context_;  // what the handlers see; refers to the members above
};

} // namespace edgemes::api
