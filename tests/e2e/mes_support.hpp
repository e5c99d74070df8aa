// tests/e2e/mes_support: what the MES layer's end-to-end and reliability
// tests share — requests with the daemon's bearer token (POST routes will need
// an `operate` role; the inline api.token is `admin`), a daemon started with
// that token, and generated BOM files.
#pragma once

#include "tests/e2e/e2e_support.hpp"

#include <httplib.h>

#include <string>

namespace edgemes::test::mes {

using nlohmann::json;

inline const std::string token = "mes-test-token-0123456789abcdef";

struct reply {
  int status = 0;  // 0 = no answer
  std::string body;
  json doc;        // discarded when the body is not JSON
};

// One request to the daemon with `Authorization: Bearer <token>`.
inline reply call(int port, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::string& type = "application/json",
                  const std::string& bearer = token) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(30, 0);
  cli.set_write_timeout(30, 0);
  httplib::Headers headers{{"Authorization", "Bearer " + bearer}};
  auto res = method == "GET" ? cli.Get(target.c_str(), headers)
                             : cli.Post(target.c_str(), headers, body, type.c_str());
  reply out;
  if (!res)
    return out;
  out.status = res->status;
  out.body = res->body;
  out.doc = json::parse(out.body, nullptr, false);
  return out;
}

inline reply get(int port, const std::string& target) { return call(port, "GET", target); }
inline reply post(int port, const std::string& target, const std::string& body,
                  const std::string& type = "application/json") {
  return call(port, "POST", target, body, type);
}

// `edgemes run --config FILE`, up once its health answers with the token.
inline std::unique_ptr<process> start_daemon(const temp_dir& dir, int port,
                                             const std::string& config_path,
                                             const std::string& log_name = "edgemes.log") {
  return edgemes::test::start_daemon(dir, port, config_path, log_name, [port] {
    return get(port, "/api/v1/health").status == 200;
  });
}

// A BOM of `rows` rows, one designator each (R1, R2, ...), part numbers
// cycling through 97 values, `;`-separated with CRLF, as a European ERP
// writes it; `tag` goes into every description so two files differ.
inline std::string generated_bom(int rows, const std::string& tag = "") {
  std::string out = "Designator;Part Number;Qty;Description;Side\r\n";
  for (int i = 1; i <= rows; ++i)
    out += "R" + std::to_string(i) + ";RC0603-" + std::to_string(i % 97) + ";1;\"resistor " +
           std::to_string(i) + tag + "\";" + (i % 2 ? "Top" : "Bottom") + "\r\n";
  return out;
}

} // namespace edgemes::test::mes
