#include "api/static_site.hpp"

#include "api/errors.hpp"
#include "web/assets.hpp"

#include <httplib.h>

namespace edgemes::api::static_site {

namespace {

// 'self' only; uPlot styles its elements through the CSSOM (element.style),
// which style-src does not restrict, so no 'unsafe-inline' is needed.
constexpr const char* content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// If-None-Match holds "*" or a comma-separated list of tags, each possibly
// weak (W/"..."); GET compares weakly (RFC 9110 13.1.2).
bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  size_t pos = 0;
  while (pos < if_none_match.size()) {
    size_t end = if_none_match.find(',', pos);
    if (end == std::string::npos)
      end = if_none_match.size();
    std::string tag = if_none_match.substr(pos, end - pos);
    auto first = tag.find_first_not_of(" \t");
    auto last = tag.find_last_not_of(" \t");
    tag = first == std::string::npos ? "" : tag.substr(first, last - first + 1);
    if (tag.rfind("W/", 0) == 0)
      tag = tag.substr(2);
    if (tag == "*" || tag == etag)
      return true;
    pos = end + 1;
  }
  return false;
}

void serve(const httplib::Request& req, httplib::Response& res, const std::string& name) {
  const web::asset* a = web::find(name);
  if (!a) {
    auto r = error_reply(404, "not_found", "no such file in the dashboard's assets");
    res.status = r.status;
    res.set_content(r.body, "application/json");
    return;
  }
  res.set_header("ETag", a->etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("Content-Security-Policy", content_security_policy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  if (req.has_header("If-None-Match") &&
      etag_matches(req.get_header_value("If-None-Match"), a->etag)) {
    res.status = 304;
    return;
  }
  res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->content_type);
}

} // namespace

bool is_site_path(const std::string& path) {
  return path == "/" || path.rfind("/assets/", 0) == 0;
}

void add_routes(httplib::Server& http) {
  http.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    serve(req, res, "index.html");
  });
  http.Get(R"(/assets/(.+))", [](const httplib::Request& req, httplib::Response& res) {
    serve(req, res, req.matches[1]);
  });
}

} // namespace edgemes::api::static_site
