#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace edgemes::api {

digest sha256(const std::string& text) {
  digest out{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size())
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  return out;
}

bool tokens_equal(const std::string& presented, const std::string& expected) {
  const digest a = sha256(presented), b = sha256(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

token_set::token_set(const std::vector<config::api_token_config>& tokens) {
  for (const auto& t : tokens)
    entries_.push_back({sha256(t.token), {t.role, t.name}});
}

const token_set::holder* token_set::find(const std::string& presented) const {
  const digest d = sha256(presented);
  // Every digest is compared, and the match is taken with a mask, not a branch.
  size_t match = 0;  // index + 1 of the matching entry, 0 = none
  for (size_t i = 0; i < entries_.size(); ++i) {
    const size_t equal = CRYPTO_memcmp(d.data(), entries_[i].hash.data(), d.size()) == 0;
    match |= (i + 1) & (0 - equal);
  }
  return match == 0 ? nullptr : &entries_[match - 1].who;
}

verdict authorize(const token_set& tokens, const std::string& authorization,
                  config::api_role required, const std::string& what) {
  const std::string needed = config::role_name(required);
  if (tokens.empty()) {
    if (required == config::api_role::read)
      return {};
    return {403, "forbidden",
            what + " needs a token with role '" + needed +
                "' and no token is configured: add one to api.tokens (or set api.token, which "
                "has role admin)"};
  }
  const std::string prefix = "Bearer ";
  const bool bearer = authorization.size() > prefix.size() &&
                      authorization.compare(0, prefix.size(), prefix) == 0;
  const token_set::holder* who = bearer ? tokens.find(authorization.substr(prefix.size())) : nullptr;
  if (!who)
    return {401, "unauthorized",
            authorization.empty()
                ? "this API needs 'Authorization: Bearer <token>' (a token of api.tokens or api.token)"
                : "wrong token in the Authorization header"};
  if (who->role < required)
    return {403, "forbidden",
            what + " needs role '" + needed + "' (or higher); the token presented has role '" +
                config::role_name(who->role) + "'"};
  return {};
}

} // namespace edgemes::api
