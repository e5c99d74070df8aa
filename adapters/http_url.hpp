// adapters/http_url: the one parser of a machine's http_json URL.
//
// The config check (`edgemes check-config`, config/config.cpp) and the adapter
// (`edgemes run`, adapters/http_json.cpp) both call parse_http_url, so a URL
// the check accepts is a URL the daemon polls, and one it refuses is refused
// with the same words.
//
// Accepted: http://host[:port][/path][?query]
// - the scheme in any case (RFC 3986: "HTTP://" is "http://");
// - host: a name, an IPv4 address or an IPv6 literal in brackets ("[::1]");
// - port: 1..65535, 80 when absent;
// - no path: the request target is "/" (as curl does); a bare "?query" gets "/".
// Refused, each with a reason that quotes the URL: empty, spaces or control
// characters, https (edgemes polls plain http), any other scheme, user:password@
// (credentials do not belong in a config file's URL), a #fragment (never sent
// to a server: a sign the URL was pasted from a browser), an empty host, an
// unclosed '[', a bad port.
#pragma once

#include <optional>
#include <string>

namespace edgemes::adapters {

struct http_url {
  std::string host;    // without brackets for IPv6
  int port = 80;
  std::string target;  // path and query, at least "/"
};

// The parts of `url`, or nothing with *why set to a sentence naming the URL
// and the problem.
std::optional<http_url> parse_http_url(const std::string& url, std::string* why);

} // namespace edgemes::adapters
