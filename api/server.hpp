// api/server: the HTTP JSON API, v1 (docs/API.md).
//
// cpp-httplib serves requests on its own thread pool. A handler never touches
// SQLite: it validates the parameters, then sends a read_job to the query
// dispatcher and waits for the reply at most request_timeout_ms (no reply in
// time -> 503). /api/v1/health reads the writer's gauge directly, so it
// answers even while every query worker is busy.
//
// Every error is JSON {"error": {"code": ..., "message": ...}} with 400 (bad
// parameter, named), 404 (unknown machine, metric or path), 405 (a method
// other than GET/HEAD), 413/414 (request too large), or 503 (timeout, overload).
// Header lines over 8 KiB are refused by cpp-httplib with 400.
#pragma once

#include "actors/ingest.hpp"
#include "actors/messages.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace edgemes::api {

struct server_settings {
  std::string site;
  std::string bind = "127.0.0.1";
  int port = 8080;                 // 0 = any free port (see server::port())
  int64_t request_timeout_ms = 5000;
  std::string db_path;
  std::string version;
  int http_threads = 8;
};

class server {
public:
  server(caf::actor_system& sys, actors::query_actor queries,
         std::shared_ptr<actors::ingest_gauge> gauge, server_settings settings);
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
  void routes();
  caf::actor_system& sys_;
  actors::query_actor queries_;
  std::shared_ptr<actors::ingest_gauge> gauge_;
  server_settings settings_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
  int64_t started_ms_ = 0;
};

} // namespace edgemes::api
