// adapters/adapter: how one machine is asked for its status.
//
// A source answers poll() with a reading: the values of the machine's
// configured metrics, in config order, and optionally its state text — or a
// failed poll with an error text a user can act on ("timeout after 2000 ms",
// "HTTP 500", "reply is not JSON: ...", "reply larger than 1048576 bytes").
// The metrics are given to the source when it is made, so each adapter reads
// them the cheapest way its machine allows: the JSON adapters walk RFC 6901
// pointers through the reply (the extractor below), the simulator resolves
// the pointers against its model once and then copies numbers, and a
// register-based adapter maps metrics to registers — no adapter has to build
// a JSON document only for it to be walked.
//
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

// One poll's outcome. A failed poll carries only `error`; a successful one
// carries one value per configured metric even when some are missing.
struct reading {
  bool ok = false;
  std::string error;                  // set when !ok
  std::vector<double> values;         // when ok: one per metric, config order, NaN = missing this poll
  std::optional<std::string> state;   // when the machine reported a state text
  std::vector<std::string> problems;  // e.g. "metric 'zone1_c': nothing at /oven/zones/0"
  int64_t taken_ms = 0;               // epoch ms the values were taken; 0 = when the poll started
};

class source {
public:
  virtual ~source() = default;
  virtual reading poll() = 0;
  virtual bool blocking() const = 0;
};

// Turns a JSON document into metric values and a state using RFC 6901
// pointers: the helper of the JSON-based adapters.
class extractor {
public:
  // `metrics`: (name, pointer) pairs; `state_pointer` empty = no state.
  // Throws nlohmann::json::parse_error for a malformed pointer.
  extractor(const std::vector<std::pair<std::string, std::string>>& metrics,
            const std::string& state_pointer);

  struct result {
    std::vector<double> values;          // one per metric, NaN = missing this poll
    std::optional<std::string> state;    // when the state pointer gave a string
    std::vector<std::string> problems;   // e.g. "metric 'zone1_c': nothing at /oven/zones/0"
  };

  // Numbers as double, true/false as 1/0; anything else is a problem, in
  // metric order, then the state's. Never throws.
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

// GET `url` (http://host[:port]/path) with a whole-request deadline of
// `timeout_ms`, and read the reply's metrics and state with `metrics`. Fails
// the poll on a non-2xx status, a body that is not JSON, a body over
// `max_reply_bytes` (reading stops there), connection errors and the
// deadline. Keeps the connection alive between polls.
// Returns nullptr and sets *error when the URL is unusable.
std::unique_ptr<source> make_http_json(const std::string& url, int64_t timeout_ms,
                                       int64_t max_reply_bytes, extractor metrics,
                                       std::string* error);

// An in-process simulated machine of `type` (see sim_model.hpp); never
// blocks. `metrics` is resolved against the type's reply once, here: a
// pointer that names no number (or, for the state, no text) of the reply
// gives the extractor's problem text on every poll, exactly as if the reply
// had been built and walked. Values are the ones edgemes-sim serves for the
// same (ident, seed) and times.
// Throws std::invalid_argument for an unknown type.
std::unique_ptr<source> make_sim(const std::string& ident, const std::string& type,
                                 uint64_t seed, const extractor& metrics);

} // namespace edgemes::adapters
