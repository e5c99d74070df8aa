// api/params: strict parsing of the API's query parameters.
//
// Every parameter is validated before any query runs; a bad one yields a
// param_error naming the parameter and what was expected, which the API
// turns into 400 {"error": {"code": "bad_parameter", ...}}. Nothing from a
// request ever becomes SQL text: parsed values are bound as numbers, and
// names (machine, metric) are only compared with the catalog.
#pragma once

#include "storage/reader.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace edgemes::api {

struct param_error {
  std::string param;
  std::string message;
};

// Latest epoch ms accepted: 9999-12-31T23:59:59.999Z.
constexpr int64_t max_epoch_ms = 253402300799999LL;

// Epoch milliseconds ("1795624200000") or RFC 3339 ("2026-11-25T16:30:00Z",
// "2026-11-25T17:30:00.250+01:00"). Returns nullopt on anything else.
std::optional<int64_t> parse_time(const std::string& text);

// A base-10 integer in [min, max], nothing else (no spaces, signs only '-').
std::optional<int64_t> parse_int(const std::string& text, int64_t min, int64_t max);

std::optional<storage::aggregate> parse_aggregate(const std::string& text);
const char* aggregate_name(storage::aggregate agg);

// True for ids as the config allows them: [A-Za-z0-9_.-]{1,64}.
bool valid_ident(const std::string& text);

// The parameters of a request target's query string ("/p?a=1&b=x%20y"),
// percent-decoded ('+' is a space). For POST routes: cpp-httplib also merges
// a form-encoded body (curl -d's default type) into its parsed parameters,
// and a body is never a parameter here.
std::multimap<std::string, std::string> target_query(const std::string& target);

// The query string as parsed by the HTTP layer, checked against `allowed`.
// Unknown or repeated parameters are errors.
class query_params {
public:
  query_params(const std::multimap<std::string, std::string>& raw,
               const std::set<std::string>& allowed);
  const std::optional<param_error>& error() const { return error_; }
  std::optional<std::string> get(const std::string& name) const;

private:
  std::map<std::string, std::string> values_;
  std::optional<param_error> error_;
};

// The optional integer parameter `name` in [min, max] into `out` (left as
// is when absent); "bad 'limit': expected an integer 1..1000" otherwise.
std::optional<param_error> int_param(const query_params& q, const char* name, int64_t min,
                                     int64_t max, int64_t& out);

// A [from, to) range: defaults to the hour before `now_ms`; from < to.
struct time_range {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};
std::optional<param_error> parse_range(const query_params& q, int64_t now_ms, time_range& out);

} // namespace edgemes::api
