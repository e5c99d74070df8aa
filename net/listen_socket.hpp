// net/listen_socket: a real accept backlog, and no port sharing, for an
// httplib::Server.
//
// cpp-httplib 0.11 (Debian's library, its defaults compiled in) listens with a
// backlog of 5 and sets SO_REUSEPORT on the listening socket. With a backlog
// of 5, a burst of connects (wrk opening 50, a poller fleet reconnecting)
// overflows the accept queue while the accepting thread waits for a core; the
// kernel drops the handshake's last ACK and the client's first request is
// retransmitted after 200, 400, 800 ms (measured: API maxima of ~210/420/840
// ms). SO_REUSEPORT lets a second daemon bind the same port and silently take
// half of the connections.
//
//   listen_socket ls;
//   ls.install(server);        // before bind_to_port / bind_to_any_port
//   server.bind_to_port(...);
//   ls.raise_backlog();        // after a successful bind
//
// Used by the API server and edgemes-sim (both link edgemes_net). Header-only.
#pragma once

#include <httplib.h>

#include <sys/socket.h>

namespace edgemes::net {

class listen_socket {
public:
  // Replaces httplib's options for the listening socket (SO_REUSEPORT) with
  // SO_REUSEADDR only, and remembers the socket.
  void install(httplib::Server& server) {
    server.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      fd_ = sock;  // the last socket tried is the one bound
    });
  }

  // Listens again with `backlog` (Linux updates the backlog of a listening
  // socket in place). False when no socket was bound.
  bool raise_backlog(int backlog = SOMAXCONN) const {
    return fd_ >= 0 && ::listen(fd_, backlog) == 0;
  }

private:
  socket_t fd_ = -1;
};

} // namespace edgemes::net
