// adapters/http_json: polls a machine that answers GET with a JSON document.
//
// One httplib::Client per source keeps its connection alive between polls.
// The poll deadline covers the whole request: connect, write and each read
// wait are bounded by timeout_ms, and the response and body callbacks cancel
// the request once the deadline has passed, so a machine that dribbles its
// reply byte by byte cannot hold a poll much longer than timeout_ms. The body
// is streamed into a buffer that is never allowed past max_reply_bytes.
// The parsed document lives only for the poll: the extractor reads the
// metrics and the state out of it into the reading.
// poll() never throws; every failure becomes an error text.
#include "adapters/adapter.hpp"
#include "adapters/http_url.hpp"

#include <httplib.h>

#include <chrono>
#include <exception>

namespace edgemes::adapters {

namespace {

using clock_type = std::chrono::steady_clock;

// A one-line excerpt of at most `max` characters, for error texts.
std::string excerpt(const std::string& text, size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

class http_json_source final : public source {
public:
  http_json_source(http_url url, int64_t timeout_ms, int64_t max_reply_bytes, extractor metrics)
      : url_(std::move(url)),
        timeout_ms_(timeout_ms > 0 ? timeout_ms : 1),
        max_bytes_(max_reply_bytes > 0 ? static_cast<uint64_t>(max_reply_bytes) : 0),
        metrics_(std::move(metrics)),
        client_(url_.host, url_.port) {
    time_t sec = static_cast<time_t>(timeout_ms_ / 1000);
    time_t usec = static_cast<time_t>((timeout_ms_ % 1000) * 1000);
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
    client_.set_connection_timeout(sec, usec);
    client_.set_read_timeout(sec, usec);
    client_.set_write_timeout(sec, usec);
  }

  bool blocking() const override { return true; }

  reading poll() override {
    try {
      return poll_once();
    } catch (const std::exception& e) {
      return failure(std::string("poll failed: ") + e.what());
    } catch (...) {
      return failure("poll failed");
    }
  }

private:
  static reading failure(std::string error) {
    reading r;
    r.error = std::move(error);
    return r;
  }

  std::string timeout_text() const { return "timeout after " + std::to_string(timeout_ms_) + " ms"; }
  std::string too_large_text() const {
    return "reply larger than " + std::to_string(max_bytes_) + " bytes";
  }
  std::string where() const { return url_.host + ":" + std::to_string(url_.port); }

  reading poll_once() {
    const auto start = clock_type::now();
    const auto deadline = start + std::chrono::milliseconds(timeout_ms_);
    bool late = false, too_large = false;
    int status = 0;
    std::string reason, body;

    auto past_deadline = [&] {
      if (clock_type::now() > deadline)
        late = true;
      return late;
    };
    auto on_response = [&](const httplib::Response& r) {
      status = r.status;
      reason = r.reason;
      if (r.has_header("Content-Length")) {
        uint64_t length = r.get_header_value<uint64_t>("Content-Length");
        if (length > max_bytes_ && status >= 200 && status < 300) {
          too_large = true;
          return false;
        }
      }
      return !past_deadline();
    };
    auto on_body = [&](const char* data, size_t n) {
      if (past_deadline())
        return false;
      if (body.size() + n > max_bytes_) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    };
    auto on_progress = [&](uint64_t, uint64_t) { return !past_deadline(); };

    httplib::Headers headers{{"Accept", "application/json"}};
    httplib::Result res = client_.Get(url_.target, headers, on_response, on_body, on_progress);
    const auto elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
    const bool near_deadline = elapsed_ms * 10 >= timeout_ms_ * 9;

    if (status != 0 && (status < 200 || status > 299)) {
      std::string text = "HTTP " + std::to_string(status);
      if (!reason.empty())
        text += " " + reason;
      std::string detail = excerpt(body, 120);
      if (!detail.empty())
        text += ": " + detail;
      return failure(text);
    }
    if (too_large)
      return failure(too_large_text());
    if (late)
      return failure(timeout_text());
    if (!res) {
      switch (res.error()) {
      case httplib::Error::ConnectionTimeout:
        return failure(timeout_text());
      case httplib::Error::Connection:
        if (near_deadline)
          return failure(timeout_text());
        return failure("cannot connect to " + where() + ": connection refused or host unreachable");
      case httplib::Error::Read:
        if (near_deadline)
          return failure(timeout_text());
        return failure("connection to " + where() + " closed before a complete reply");
      case httplib::Error::Write:
        if (near_deadline)
          return failure(timeout_text());
        return failure("connection to " + where() + " lost while sending the request");
      default:
        return failure("request to " + where() + " failed: " + httplib::to_string(res.error()));
      }
    }
    nlohmann::json document;
    try {
      document = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {
      std::string what = e.what();
      if (!what.empty() && what[0] == '[') {  // drop "[json.exception.parse_error.101] "
        size_t close = what.find("] ");
        if (close != std::string::npos)
          what = what.substr(close + 2);
      }
      return failure("reply is not JSON: " + excerpt(what, 160));
    }
    extractor::result found = metrics_.apply(document);
    reading r;
    r.ok = true;
    r.values = std::move(found.values);
    r.state = std::move(found.state);
    r.problems = std::move(found.problems);
    return r;
  }

  http_url url_;
  int64_t timeout_ms_;
  uint64_t max_bytes_;
  extractor metrics_;
  httplib::Client client_;
};

} // namespace

std::unique_ptr<source> make_http_json(const std::string& url, int64_t timeout_ms,
                                       int64_t max_reply_bytes, extractor metrics,
                                       std::string* error) {
  std::string why;
  auto parts = parse_http_url(url, &why);
  if (!parts) {
    if (error)
      *error = "unusable URL: " + why;
    return nullptr;
  }
  return std::make_unique<http_json_source>(std::move(*parts), timeout_ms, max_reply_bytes,
                                            std::move(metrics));
}

} // namespace edgemes::adapters
