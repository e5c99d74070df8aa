// adapters/adapter: how one machine is asked for its status.
//
// A source answers poll() with the machine's reply as a JSON document, or a
// failed poll with an error text a user can act on ("timeout after 2000 ms",
// "HTTP 500", "reply is not JSON: ...", "reply larger than 1048576 bytes").
// Each source belongs to one poller and is polled by one thread at a time;
// blocking() says whether poll() may block (then it must run on a
// blocking_pool thread, never on a CAF scheduler thread).
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgemes::adapters {

struct poll_reply {
  bool ok = false;
  std::string error;           // set when !ok
  nlohmann::json document;     // set when ok
};

class source {
public:
  virtual ~source() = default;
  virtual poll_reply poll() = 0;
  virtual bool blocking() const = 0;
};

// GET `url` (http://host[:port]/path) with a whole-request deadline of
// `timeout_ms`. Fails the poll on a non-2xx status, a body that is not JSON,
// a body over `max_reply_bytes` (reading stops there), connection errors and
// the deadline. Keeps the connection alive between polls.
// Returns nullptr and sets *error when the URL is unusable.
std::unique_ptr<source> make_http_json(const std::string& url, int64_t timeout_ms,
                                       int64_t max_reply_bytes, std::string* error);

// An in-process simulated machine of `type` (see sim_model.hpp); never blocks.
std::unique_ptr<source> make_sim(const std::string& ident, const std::string& type,
                                 uint64_t seed);

// Turns a reply into metric values and a state using RFC 6901 pointers.
class extractor {
public:
  // `metrics`: (name, pointer) pairs; `state_pointer` empty = no state.
  extractor(const std::vector<std::pair<std::string, std::string>>& metrics,
            const std::string& state_pointer);

  struct result {
    std::vector<double> values;          // one per metric, NaN = missing this poll
    std::optional<std::string> state;    // when the state pointer gave a string
    std::vector<std::string> problems;   // e.g. "metric 'zone1_c': nothing at /oven/zones/0"
  };

  // Numbers as double, true/false as 1/0; anything else is a problem.
  result apply(const nlohmann::json& document) const;

  // A pointer split into its unescaped reference tokens once, so apply()
  // walks the document once per metric without exceptions.
  struct path {
    std::string text;
    std::vector<std::string> tokens;
  };

private:
  std::vector<std::pair<std::string, path>> metrics_;
  std::vector<size_t> by_first_token_;  // metrics_ with a first token, in that token's order
  std::optional<path> state_;
};

} // namespace edgemes::adapters
