// adapters/http_url: see the header for the accepted forms.
#include "adapters/http_url.hpp"

#include <algorithm>
#include <cctype>

namespace edgemes::adapters {

namespace {

const char* const kShape = "expected http://host[:port]/path";

bool starts_with_nocase(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

// The scheme and characters of the whole URL; "" when usable.
std::string shape_problem(const std::string& url) {
  const std::string quoted = "'" + url + "'";
  if (url.empty())
    return std::string("must not be empty (") + kShape + ")";
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return quoted + " contains a space or control character (percent-encode it)";
  if (starts_with_nocase(url, "https://"))
    return "https is not supported: edgemes polls plain http:// (" + quoted + ")";
  if (!starts_with_nocase(url, "http://"))
    return std::string("the URL must start with http:// (") + kShape + ", got " + quoted + ")";
  if (url.find('#') != std::string::npos)
    return quoted + " has a #fragment, which is never sent to a server (remove it)";
  return "";
}

// Splits `authority` into host and port; "" when usable.
std::string authority_problem(const std::string& url, const std::string& authority,
                              http_url& out) {
  const std::string quoted = "'" + url + "'";
  if (authority.find('@') != std::string::npos)
    return "user:password@ in a url is not supported (" + quoted + ")";
  std::string host = authority;
  std::string port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]
    const size_t close = authority.find(']');
    if (close == std::string::npos)
      return "unclosed '[' in the host of " + quoted;
    host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':')
      return "unexpected '" + after + "' after the host in " + quoted;
    has_port = !after.empty();
    if (has_port)
      port = after.substr(1);
  } else if (const size_t colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty())
    return "empty host in " + quoted + ": the URL has no host (" + kShape + ")";
  if (has_port) {
    const bool digits = !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
    const long value = digits ? std::stol(port) : 0;
    if (value < 1 || value > 65535)
      return "bad port '" + port + "' in " + quoted +
             (port.empty() ? " (empty port after ':'; " : " (") + "expected a number from 1 to 65535)";
    out.port = static_cast<int>(value);
  }
  out.host = host;
  return "";
}

} // namespace

std::optional<http_url> parse_http_url(const std::string& url, std::string* why) {
  std::string problem = shape_problem(url);
  http_url out;
  if (problem.empty()) {
    const std::string rest = url.substr(7);  // after "http://", any case
    const size_t end = rest.find_first_of("/?");
    problem = authority_problem(url, rest.substr(0, end), out);
    if (end == std::string::npos)
      out.target = "/";
    else
      out.target = rest[end] == '?' ? "/" + rest.substr(end) : rest.substr(end);
  }
  if (!problem.empty()) {
    if (why)
      *why = problem;
    return std::nullopt;
  }
  return out;
}

} // namespace edgemes::adapters
