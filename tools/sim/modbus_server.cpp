// tools/sim/modbus_server: see the header.
#include "tools/sim/modbus_server.hpp"

#include "adapters/sim_modbus.hpp"

#include <modbus.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace edgemes::sim {

namespace {

constexpr size_t kMaxBuffered = 4096;  // a client sending more without a whole frame is not Modbus

int listen_on(const std::string& host, int port, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    *error = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      *error = "cannot listen on " + host + ":" + service + ": " + std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

int port_of(int fd) {
  sockaddr_storage a{};
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  if (a.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

} // namespace

struct modbus_server::impl {
  struct connection {
    size_t port_index;
    std::string in;
  };

  explicit impl(server& m) : machines(m), mappings(m.machine_count(), nullptr) {
    ctx = modbus_new_tcp("127.0.0.1", 502);  // never connected: modbus_reply's context
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    watch(stop_fd);
  }
  ~impl() {
    for (auto& [fd, c] : connections)
      ::close(fd);
    for (auto& [fd, index] : listeners)
      ::close(fd);
    for (auto* m : mappings)
      if (m)
        modbus_mapping_free(m);
    modbus_free(ctx);
    ::close(stop_fd);
    ::close(epoll_fd);
  }

  void watch(int fd) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &e);
  }

  void drop(int fd) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections.erase(fd);
  }

  void accept_all(int listener, size_t port_index) {
    for (;;) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;  // EAGAIN: all taken; anything else: the client is gone
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      connections[fd] = connection{port_index, {}};
      watch(fd);
    }
  }

  void receive(int fd) {
    connection& c = connections.at(fd);
    char buf[1024];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (c.in.size() > kMaxBuffered)
          return drop(fd);
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      return drop(fd);  // closed by the client, or an error
    }
    // Whole frames: the MBAP header's length counts the unit id and the PDU.
    while (c.in.size() >= 7) {
      const auto* b = reinterpret_cast<const uint8_t*>(c.in.data());
      const unsigned protocol = (b[2] << 8) | b[3];
      const unsigned length = (b[4] << 8) | b[5];
      if (protocol != 0 || length < 2 || length > 254)
        return drop(fd);
      if (c.in.size() < 6 + length)
        return;
      const std::string frame = c.in.substr(0, 6 + length);
      c.in.erase(0, 6 + length);
      if (!answer(fd, c.port_index, reinterpret_cast<const uint8_t*>(frame.data()),
                  static_cast<int>(frame.size())))
        return drop(fd);
    }
  }

  // False when the connection is to be closed.
  bool answer(int fd, size_t port_index, const uint8_t* req, int length) {
    modbus_set_socket(ctx, fd);
    const unsigned unit = req[6];
    const unsigned function = req[7];
    const size_t index = port_index * kUnitsPerPort + unit - 1;
    if (unit == 0 || unit > kUnitsPerPort || index >= machines.machine_count())
      return modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_GATEWAY_TARGET) >= 0;
    if (function < 1 || function > 4)
      return modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_FUNCTION) >= 0;
    if (length != 12)  // a read is header, function, address, count
      return modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE) >= 0;
    const unsigned start = (req[8] << 8) | req[9];
    const unsigned count = (req[10] << 8) | req[11];
    const auto* map = adapters::find_sim_modbus_map(machines.machine_type(index));
    const bool fresh = function == 3 && start <= map->state.address && start + count > map->state.address;
    fault mode = fault::none;
    bool failing = false;
    const nlohmann::json reply = machines.modbus_reply(index, fresh, mode, failing);
    if (mode == fault::reset)
      return false;
    if (mode == fault::slow)
      return true;  // never answered: the client times out
    if (failing)
      return modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE) >= 0;
    modbus_mapping_t*& mapping = mappings[index];
    if (!mapping)
      mapping = modbus_mapping_new_start_address(0, 0, 0, adapters::sim_modbus_map::discrete_inputs,
                                                 0, map->holding_registers, 0, 0);
    if (!mapping)
      return false;
    adapters::sim_modbus_registers(*map, reply, mapping->tab_registers, mapping->tab_input_bits);
    return modbus_reply(ctx, req, length, mapping) >= 0;
  }

  bool run() {
    epoll_event events[64];
    for (;;) {
      int n = ::epoll_wait(epoll_fd, events, 64, -1);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return false;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == stop_fd)
          return true;
        if (auto l = listeners.find(fd); l != listeners.end())
          accept_all(fd, l->second);
        else if (connections.count(fd))
          receive(fd);
      }
    }
  }

  server& machines;
  modbus_t* ctx = nullptr;
  int epoll_fd = -1;
  int stop_fd = -1;
  std::map<int, size_t> listeners;          // fd -> port index
  std::map<int, connection> connections;    // fd -> its unanswered bytes
  std::vector<modbus_mapping_t*> mappings;  // per machine, made at its first read
};

modbus_server::modbus_server(server& machines) : impl_(std::make_unique<impl>(machines)) {}
modbus_server::~modbus_server() = default;

std::vector<int> modbus_server::bind(const std::string& host, int base, std::string* error) {
  std::vector<int> ports;
  const size_t count = (impl_->machines.machine_count() + kUnitsPerPort - 1) / kUnitsPerPort;
  for (size_t i = 0; i < count; ++i) {
    const int port = base == 0 ? 0 : base + static_cast<int>(i);
    if (port > 65535) {
      *error = "not enough ports above " + std::to_string(base) + " for " + std::to_string(count) +
               " groups of " + std::to_string(kUnitsPerPort) + " machines";
      return {};
    }
    int fd = listen_on(host, port, error);
    if (fd < 0)
      return {};
    impl_->listeners[fd] = i;
    impl_->watch(fd);
    ports.push_back(port_of(fd));
  }
  return ports;
}

bool modbus_server::run() { return impl_->run(); }

void modbus_server::stop() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(impl_->stop_fd, &one, sizeof one);
}

} // namespace edgemes::sim
