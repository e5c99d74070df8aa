// adapters/modbus_tcp: see the header. A request is the 12-byte MBAP frame of
// a read (function 1, 2, 3 or 4); a reply is checked field by field against
// it before any register is taken from it, so a garbage reply is an error
// text, never a crash or a wrong value.
#include "adapters/modbus_tcp.hpp"

#include <modbus.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

namespace edgemes::adapters {

namespace {

using clock_type = std::chrono::steady_clock;
namespace mb = modbus;

uint8_t function_of(mb::table t) {
  switch (t) {
  case mb::table::coil: return 1;
  case mb::table::discrete: return 2;
  case mb::table::holding: return 3;
  case mb::table::input: return 4;
  }
  return 3;
}

// libmodbus's name of a Modbus exception ("Illegal data address").
std::string exception_name(int code) {
  const bool known = (code >= 1 && code <= 8) || code == 10 || code == 11;
  std::string text = known ? modbus_strerror(MODBUS_ENOBASE + code) : "unknown exception";
  return text + " (exception " + std::to_string(code) + ")";
}

// A failed step of a poll: the text, and whether the connection is still in step.
struct failure {
  std::string error;
  bool keep_connection = false;
};

class modbus_tcp_source final : public source {
public:
  modbus_tcp_source(modbus_tcp_settings s, std::vector<std::pair<std::string, mb::point>> metrics,
                    std::optional<modbus_state> state)
      : settings_(std::move(s)), metrics_(std::move(metrics)), state_(std::move(state)) {
    std::vector<mb::point> points;
    for (const auto& m : metrics_)
      points.push_back(m.second);
    if (state_)
      points.push_back(state_->point);
    plan_ = mb::plan_reads(points, settings_.max_registers_per_read, settings_.max_gap);
    buffer_.assign(plan_.slots, 0);
  }
  ~modbus_tcp_source() override { disconnect(); }

  bool blocking() const override { return true; }

  reading poll() override {
    const auto deadline = clock_type::now() + std::chrono::milliseconds(settings_.timeout_ms);
    std::optional<failure> failed;
    if (fd_ < 0)
      failed = connect(deadline);
    for (size_t g = 0; !failed && g < plan_.groups.size(); ++g)
      failed = read(plan_.groups[g], deadline);
    if (failed) {
      if (!failed->keep_connection)
        disconnect();
      reading r;
      r.error = std::move(failed->error);
      return r;
    }
    return decode();
  }

private:
  std::string where() const { return settings_.host + ":" + std::to_string(settings_.port); }
  std::string timeout_text() const {
    return "timeout after " + std::to_string(settings_.timeout_ms) + " ms";
  }
  // Rounded up, so a wait never ends before the deadline.
  static int remaining_ms(clock_type::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  }

  void disconnect() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  // Waits for `events` on the socket; false at the deadline.
  bool wait(short events, clock_type::time_point deadline) {
    for (;;) {
      pollfd p{fd_, events, 0};
      int rc = ::poll(&p, 1, remaining_ms(deadline));
      if (rc > 0)
        return true;
      if (rc == 0)
        return false;
      if (errno != EINTR)
        return true;  // the next call on the socket reports the error
    }
  }

  std::optional<failure> connect(clock_type::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(settings_.port);
    if (int rc = ::getaddrinfo(settings_.host.c_str(), port.c_str(), &hints, &found); rc != 0)
      return failure{"cannot connect to " + where() + ": " + ::gai_strerror(rc)};
    std::optional<failure> last;
    for (addrinfo* a = found; a; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd_ < 0) {
        last = failure{"cannot connect to " + where() + ": " + std::strerror(errno)};
        continue;
      }
      int error = 0;
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
        error = errno;
        if (error == EINPROGRESS) {
          if (!wait(POLLOUT, deadline)) {
            last = failure{timeout_text()};
            disconnect();
            break;
          }
          socklen_t len = sizeof error;
          if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
            error = errno;
        }
      }
      if (error == 0) {
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        last.reset();
        break;
      }
      last = failure{error == ECONNREFUSED ? "connection refused: " + where()
                     : error == ETIMEDOUT  ? timeout_text()
                                           : "cannot connect to " + where() + ": " + std::strerror(error)};
      disconnect();
    }
    ::freeaddrinfo(found);
    return last;
  }

  failure lost(int error) const {
    if (error == 0)
      return {"connection to " + where() + " closed by the device"};
    return {"connection to " + where() + " lost: " + std::strerror(error)};
  }

  std::optional<failure> send_all(const uint8_t* data, size_t n, clock_type::time_point deadline) {
    while (n > 0) {
      ssize_t sent = ::send(fd_, data, n, MSG_NOSIGNAL);
      if (sent > 0) {
        data += sent;
        n -= static_cast<size_t>(sent);
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait(POLLOUT, deadline))
          return failure{timeout_text()};
      } else {
        return lost(errno);
      }
    }
    return std::nullopt;
  }

  std::optional<failure> receive_all(uint8_t* data, size_t n, clock_type::time_point deadline) {
    while (n > 0) {
      ssize_t got = ::recv(fd_, data, n, 0);
      if (got > 0) {
        data += got;
        n -= static_cast<size_t>(got);
      } else if (got == 0) {
        return lost(0);
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait(POLLIN, deadline))
          return failure{timeout_text()};
      } else {
        return lost(errno);
      }
    }
    return std::nullopt;
  }

  // One request and its reply, into buffer_ from g.slot.
  std::optional<failure> read(const mb::read_group& g, clock_type::time_point deadline) {
    if (remaining_ms(deadline) <= 0)
      return failure{timeout_text()};
    const uint16_t tid = ++transaction_;
    const uint8_t function = function_of(g.tbl);
    const uint8_t request[12] = {uint8_t(tid >> 8), uint8_t(tid), 0, 0, 0, 6,
                                 uint8_t(settings_.unit_id), function,
                                 uint8_t(g.start >> 8), uint8_t(g.start), uint8_t(g.count >> 8),
                                 uint8_t(g.count)};
    if (auto f = send_all(request, sizeof request, deadline))
      return f;

    uint8_t header[7];
    if (auto f = receive_all(header, sizeof header, deadline))
      return f;
    const std::string what = mb::describe(g) + ": ";
    const unsigned reply_tid = (header[0] << 8) | header[1];
    const unsigned protocol = (header[2] << 8) | header[3];
    const unsigned length = (header[4] << 8) | header[5];  // unit id + PDU
    if (protocol != 0)
      return failure{what + "malformed reply: protocol id " + std::to_string(protocol) +
                     ", not 0 (is this a Modbus TCP device?)"};
    if (length < 3 || length > 254)
      return failure{what + "malformed reply: length " + std::to_string(length) +
                     " outside 3..254"};
    uint8_t pdu[254];
    if (auto f = receive_all(pdu, length - 1, deadline))
      return f;
    if (reply_tid != tid)
      return failure{what + "malformed reply: transaction " + std::to_string(reply_tid) +
                     ", expected " + std::to_string(tid)};
    if (header[6] != uint8_t(settings_.unit_id))
      return failure{what + "reply from unit " + std::to_string(header[6]) + ", expected " +
                     std::to_string(settings_.unit_id)};
    if (pdu[0] == (function | 0x80)) {
      if (length != 3)
        return failure{what + "malformed exception reply: length " + std::to_string(length)};
      return failure{what + exception_name(pdu[1]), /*keep_connection=*/true};
    }
    if (pdu[0] != function)
      return failure{what + "malformed reply: function " + std::to_string(pdu[0]) + ", expected " +
                     std::to_string(function)};
    const bool bits = mb::is_bit_table(g.tbl);
    const size_t expected = bits ? (g.count + 7u) / 8u : 2u * g.count;
    if (pdu[1] != expected || length - 3 != expected)
      return failure{what + "malformed reply: " + std::to_string(pdu[1]) + " data bytes in a " +
                     std::to_string(length) + "-byte frame, expected " + std::to_string(expected)};
    const uint8_t* data = pdu + 2;
    uint16_t* out = buffer_.data() + g.slot;
    for (size_t i = 0; i < g.count; ++i)
      out[i] = bits ? (data[i / 8] >> (i % 8)) & 1 : uint16_t((data[2 * i] << 8) | data[2 * i + 1]);
    return std::nullopt;
  }

  reading decode() const {
    reading r;
    r.ok = true;
    r.values.reserve(metrics_.size());
    for (size_t i = 0; i < metrics_.size(); ++i) {
      const auto& [name, p] = metrics_[i];
      double raw = mb::decode(buffer_.data() + plan_.slot_of[i], p.type, p.word_order, p.byte_order);
      if (!std::isfinite(raw)) {
        r.problems.push_back("metric '" + name + "': " + mb::name_of(p.tbl) + " " +
                             std::to_string(p.address) + " holds " +
                             (std::isnan(raw) ? "NaN" : "infinity") + ", not a number");
        r.values.push_back(std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      r.values.push_back(p.apply(raw));
    }
    if (state_) {
      const auto& p = state_->point;
      const double raw =
          mb::decode(buffer_.data() + plan_.slot_of.back(), p.type, p.word_order, p.byte_order);
      const int64_t code = static_cast<int64_t>(raw);
      auto it = state_->texts.find(code);
      if (it != state_->texts.end()) {
        r.state = it->second;
      } else {
        r.state = "code " + std::to_string(code);
        r.problems.push_back("state: code " + std::to_string(code) + " at " + mb::name_of(p.tbl) +
                             " " + std::to_string(p.address) + " is not in the state map");
      }
    }
    return r;
  }

  const modbus_tcp_settings settings_;
  const std::vector<std::pair<std::string, mb::point>> metrics_;
  const std::optional<modbus_state> state_;
  mb::read_plan plan_;
  std::vector<uint16_t> buffer_;  // one poll's registers, by plan slot
  int fd_ = -1;
  uint16_t transaction_ = 0;
};

std::string check_settings(const modbus_tcp_settings& s) {
  if (s.host.empty())
    return "no host";
  if (s.port < 1 || s.port > 65535)
    return "port must be between 1 and 65535, got " + std::to_string(s.port);
  if (s.unit_id < 0 || s.unit_id > 255)
    return "unit_id must be between 0 and 255, got " + std::to_string(s.unit_id);
  if (s.timeout_ms <= 0)
    return "timeout_ms must be positive";
  if (s.max_registers_per_read < 1 || s.max_registers_per_read > mb::kMaxRegistersPerRead)
    return "max_registers_per_read must be between 1 and 125, got " +
           std::to_string(s.max_registers_per_read);
  if (s.max_gap < 0)
    return "max_gap must not be negative";
  return "";
}

} // namespace

std::unique_ptr<source> make_modbus_tcp(const modbus_tcp_settings& settings,
                                        std::vector<std::pair<std::string, modbus::point>> metrics,
                                        std::optional<modbus_state> state, std::string* error) {
  auto refuse = [&](std::string why) -> std::unique_ptr<source> {
    if (error)
      *error = std::move(why);
    return nullptr;
  };
  if (std::string why = check_settings(settings); !why.empty())
    return refuse(why);
  if (metrics.empty() && !state)
    return refuse("no metric and no state to read");
  std::vector<mb::point> points;
  std::vector<std::string> names;
  for (const auto& [name, p] : metrics) {
    points.push_back(p);
    names.push_back("metric '" + name + "'");
  }
  if (state) {
    if (!mb::is_integer(state->point.type))
      return refuse(std::string("state: a state code is an integer, not ") +
                    mb::name_of(state->point.type));
    points.push_back(state->point);
    names.push_back("the state");
  }
  for (size_t i = 0; i < points.size(); ++i)
    if (std::string why = mb::placement_problem(points[i].tbl, points[i].address, points[i].type);
        !why.empty())
      return refuse(names[i] + ": " + why);
  if (auto clash = mb::overlaps(points); !clash.empty())
    return refuse(names[clash[0].later] + " overlaps the registers of " + names[clash[0].earlier]);
  return std::make_unique<modbus_tcp_source>(settings, std::move(metrics), std::move(state));
}

} // namespace edgemes::adapters
