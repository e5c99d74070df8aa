// tests/security: one HTTP request to a daemon on 127.0.0.1, keeping what the
// security tests look at (status, WWW-Authenticate, the body as JSON).
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

namespace edgemes::test {

struct reply {
  int status = 0;
  std::string www_authenticate;
  nlohmann::json doc;
};

inline reply request(int port, const std::string& method, const std::string& target,
                     const httplib::Headers& headers) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(30, 0);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET")
    res = cli.Get(target.c_str(), headers);
  else if (method == "HEAD")
    res = cli.Head(target.c_str(), headers);
  else
    res = cli.Post(target.c_str(), headers, "", "application/json");
  reply out;
  if (!res)
    return out;
  out.status = res->status;
  out.www_authenticate = res->get_header_value("WWW-Authenticate");
  out.doc = nlohmann::json::parse(res->body, nullptr, false);
  return out;
}

} // namespace edgemes::test
