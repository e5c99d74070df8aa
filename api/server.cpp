#include "api/server.hpp"

#include "api/errors.hpp"
#include "net/listen_socket.hpp"
#include "api/route.hpp"
#include "api/static_site.hpp"

#include "clock/clock.hpp"
#include "log/log.hpp"

#include <httplib.h>

#include <cstdlib>
#include <regex>
#include <sstream>

namespace edgemes::api {

namespace {

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

std::string body_limit_message() {
  return "request body too large: at most " + std::to_string(max_bom_bytes) +
         " bytes for a BOM import (POST /api/v1/products/{id}/bom), " +
         std::to_string(max_body_bytes) + " bytes for any other request";
}

// The body limit of a request: a BOM import's CSV may be larger than anything else.
size_t body_limit(const httplib::Request& req) {
  static const std::regex bom_import("/api/v1/products/[^/]+/bom");
  return req.method == "POST" && std::regex_match(req.path, bom_import) ? max_bom_bytes
                                                                        : max_body_bytes;
}

// 413 when the declared body is over the route's limit; else Unhandled.
httplib::Server::HandlerResponse within_body_limit(const httplib::Request& req,
                                                   httplib::Response& res) {
  // Runs before httplib reads the body: a declared length over the route's
  // limit is refused without reading a byte of it.
  const auto length = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
  if (length <= body_limit(req))
    return httplib::Server::HandlerResponse::Unhandled;
  res.set_header("Connection", "close");  // the unread body must not be taken for a request
  send_error(res, 413, "payload_too_large", body_limit_message());
  return httplib::Server::HandlerResponse::Handled;
}

// The JSON body for a status httplib set itself (no route, request too large).
void httplib_error(httplib::Response& res) {
  switch (res.status) {
    case 404: return send_error(res, 404, "not_found", "no such endpoint");
    case 414: return send_error(res, 414, "uri_too_long", "request URI too long");
    case 413: return send_error(res, 413, "payload_too_large", body_limit_message());
    case 400: return send_error(res, 400, "bad_request", "malformed HTTP request");
    default:
      send_error(res, res.status, "http_" + std::to_string(res.status),
                 "request refused with HTTP status " + std::to_string(res.status));
  }
}

} // namespace

bool is_loopback(const std::string& bind) {
  return bind == "localhost" || bind == "::1" || bind == "[::1]" || bind.rfind("127.", 0) == 0;
}

server::server(std::shared_ptr<actors::query_pool> queries,
               std::shared_ptr<actors::ingest_gauge> gauge, server_settings settings,
               actors::writer_actor writer, const std::vector<route>& routes)
    : queries_(std::move(queries)), gauge_(std::move(gauge)),
      settings_(std::move(settings)), tokens_(settings_.tokens), routes_(routes),
      admission_(settings_.http_threads),
      http_(std::make_unique<httplib::Server>()) {
  if (!settings_.plant)
    settings_.plant = std::make_shared<const config::config>();
  context_.reset(new api_context{settings_, settings_.plant, *queries_, admission_, *gauge_,
                                 clock::wall_ms(), requests_, backup_mutex_, tokens_,
                                 routes_, std::move(writer)});
  auto threads = static_cast<size_t>(std::max(1, settings_.http_threads));
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // The largest body any route takes; each request's own limit is checked
  // before its body is read (guard_requests), this bounds chunked bodies.
  http_->set_payload_max_length(max_bom_bytes);
  http_->set_keep_alive_max_count(1000);
  // cpp-httplib writes a reply in more than one send(): with Nagle on, the
  // second part waits for the client's delayed ACK (~40 ms per keep-alive reply).
  http_->set_tcp_nodelay(true);
  // The dashboard (GET / and /assets/...) first, so it owns "/"; then the API's
  // table; then the catch-alls, which answer only what no route took.
  static_site::add_routes(*http_);
  install_routes(*http_, *context_);
  // A client that asks first (curl does for bodies over 1 MiB) gets the 413
  // instead of "100 Continue", and never sends the body.
  http_->set_expect_100_continue_handler([](const httplib::Request& req, httplib::Response& res) {
    return within_body_limit(req, res) == httplib::Server::HandlerResponse::Handled ? 413 : 100;
  });
  guard_requests();
  answer_the_rest();
}

server::~server() {
  stop();
}

bool server::bind(std::string* error) {
  if (!is_loopback(settings_.bind) && tokens_.empty())
    log::warn("api", "serving on " + settings_.bind +
                         " without api.token or api.tokens: anyone who can reach this address "
                         "can read every machine's data; configure a token or bind to 127.0.0.1");
  listen_ = std::make_unique<net::listen_socket>();
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

void server::guard_requests() {
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.headers.size() > max_header_fields) {
      send_error(res, 431, "headers_too_large",
                 "too many header fields (at most " + std::to_string(max_header_fields) + ")");
      return httplib::Server::HandlerResponse::Handled;
    }
    ++requests_;
    without_brotli(req);
    // The dashboard's files hold no plant data; the page's API calls need a
    // token. Each route checks its own role after this (install_routes).
    if (tokens_.empty() || static_site::is_site_path(req.path))
      return within_body_limit(req, res);
    verdict v = authorize(tokens_, req.get_header_value("Authorization"),
                          config::api_role::read, "this API");
    if (v.allowed())
      return within_body_limit(req, res);
    refuse(res, v);
    return httplib::Server::HandlerResponse::Handled;
  });
}

void server::answer_the_rest() {
  auto not_allowed = [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "GET, HEAD");
    send_error(res, 405, "method_not_allowed",
               "method " + req.method + " not allowed on this path; it answers GET and HEAD "
               "(the writes are the POST routes listed by GET /api/v1)");
  };
  http_->Post(".*", not_allowed);
  http_->Put(".*", not_allowed);
  http_->Patch(".*", not_allowed);
  http_->Delete(".*", not_allowed);
  http_->Options(".*", not_allowed);

  httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&,
                                                     httplib::Response& res) {
    if (!res.body.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    httplib_error(res);
    return httplib::Server::HandlerResponse::Handled;
  };
  http_->set_error_handler(on_error);
  http_->set_exception_handler(
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
