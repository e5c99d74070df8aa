// api/auth: which role a request's bearer token has, and whether that role
// may use a route (docs/API.md, "Roles").
//
// Roles are ordered read < operate < admin (config::api_role); a route needs
// one of them (route::required()). The decision, in authorize():
//   no token configured  -> a read route is open to anyone; an operate or
//                           admin route answers 403 naming what to configure
//   tokens configured    -> no token, not "Bearer <token>", or a token none
//                           is equal to: 401 (with WWW-Authenticate);
//                           a known token whose role is below the route's:
//                           403 naming the role needed and the one presented.
//
// Timing: the configured tokens are kept only as SHA-256 digests. A presented
// token is hashed once and its digest compared in full with *every*
// configured digest (CRYPTO_memcmp, no early exit, the match picked without a
// branch), so the time taken does not depend on which token matched, on how
// much of a guess was right, or on the configured tokens' lengths; only the
// presented token's own length changes the time to hash it.
//
// Thread-safety: a token_set is immutable after construction; its methods
// and authorize() may be called from any number of threads.
#pragma once

#include "config/config.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace edgemes::api {

using digest = std::array<unsigned char, 32>;  // SHA-256

digest sha256(const std::string& text);

// Constant-time equality of a presented and an expected secret (through
// their digests: the time depends on neither's content nor `expected`'s length).
bool tokens_equal(const std::string& presented, const std::string& expected);

class token_set {
public:
  struct holder {
    config::api_role role;
    std::string name;  // for logs: the entry's name, or "api.token"
  };

  token_set() = default;
  explicit token_set(const std::vector<config::api_token_config>& tokens);

  bool empty() const { return entries_.empty(); }
  // Who holds `presented`, or nullptr when no configured token equals it.
  const holder* find(const std::string& presented) const;

private:
  struct entry {
    digest hash;
    holder who;
  };
  std::vector<entry> entries_;
};

// The outcome for one request: status 0 = allowed, else 401 or 403 with the
// error code and message the reply carries.
struct verdict {
  int status = 0;
  std::string code;
  std::string message;
  bool allowed() const { return status == 0; }
};

// May the holder of `authorization` (the request's Authorization header, ""
// when absent) use a route needing `required`? `what` names the route in
// messages ("POST /api/v1/admin/backup").
verdict authorize(const token_set& tokens, const std::string& authorization,
                  config::api_role required, const std::string& what);

} // namespace edgemes::api
