// libFuzzer target: the API's parameter parsing (api/params.hpp) on arbitrary
// bytes. The input is read as a query string "k=v&k=v..." (as the HTTP layer
// would hand it over, already split) and each value is also fed to every
// single-value parser. Invariants checked besides "no crash, no UB":
// parsed times lie in [0, max_epoch_ms], parsed ints in their range, and a
// parsed range has from < to.
#include "api/params.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

using namespace edgemes::api;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::multimap<std::string, std::string> raw;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string::npos)
      end = text.size();
    std::string pair = text.substr(start, end - start);
    size_t eq = pair.find('=');
    std::string key = eq == std::string::npos ? pair : pair.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : pair.substr(eq + 1);
    raw.emplace(key, value);

    if (auto t = parse_time(value))
      if (*t < 0 || *t > max_epoch_ms)
        std::abort();
    if (auto i = parse_int(value, -1000, 100000))
      if (*i < -1000 || *i > 100000)
        std::abort();
    if (auto a = parse_aggregate(value))
      (void)aggregate_name(*a);
    (void)valid_ident(value);
    start = end + 1;
  }

  query_params q(raw, {"metric", "from", "to", "limit"});
  if (!q.error()) {
    time_range r;
    if (!parse_range(q, 1795624200000LL, r) && r.from_ms >= r.to_ms)
      std::abort();
  } else if (q.error()->message.empty()) {
    std::abort();
  }
  return 0;
}
