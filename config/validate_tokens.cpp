// config/validate_tokens: `api.tokens` (docs/CONFIG.md): each entry a role and
// the file its token is read from. The files are read here, once, so every
// problem with a token (missing, unreadable, empty, too short, the same token
// twice) is reported by `check-config` with the entry's path, and the daemon
// starts with the tokens it validated. A token file that group or others may
// read is a warning, not a problem: the config still loads.
#include "config/validate.hpp"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace edgemes::config {

namespace {

constexpr std::array<const char*, 3> kRoleNames{"read", "operate", "admin"};

} // namespace

const char* role_name(api_role r) {
  return kRoleNames.at(static_cast<size_t>(r));
}

bool parse_role(const std::string& name, api_role& out) {
  for (size_t i = 0; i < kRoleNames.size(); ++i)
    if (name == kRoleNames[i]) {
      out = static_cast<api_role>(i);
      return true;
    }
  return false;
}

namespace detail {

namespace {

constexpr size_t kMinToken = 16;
constexpr size_t kMaxToken = 1024;  // far above any sane token, far below a header line's 8 KiB
constexpr size_t kMaxName = 64;

// The first line of `path` (without "\n" or "\r\n") in `line`, or why it cannot be had.
std::string first_line(const std::string& path, std::string& line) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return "cannot read " + path + ": " + std::strerror(errno);
  char buf[kMaxToken + 2];
  const size_t n = std::fread(buf, 1, sizeof buf, f);
  const int error = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (error != 0)
    return "cannot read " + path + ": " + std::strerror(error);
  line.assign(buf, n);
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return "";
}

// Why `token` (from `file`) cannot be a token, or "".
std::string bad_token(const std::string& token, const std::string& file) {
  if (token.empty())
    return file + " has no token: its first line is empty";
  if (token.size() > kMaxToken)
    return "the token in " + file + " is longer than " + std::to_string(kMaxToken) + " characters";
  for (unsigned char c : token)
    if (c <= ' ' || c == 0x7f)
      return "the token in " + file + " has a space or control character: a token is one word";
  if (token.size() < kMinToken)
    return "the token in " + file + " is " + std::to_string(token.size()) +
           " characters; a token must be at least " + std::to_string(kMinToken);
  return "";
}

// "mode 0644" when group or others may read `path`, else "".
std::string shared_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) == 0)
    return "";
  char mode[16];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return mode;
}

} // namespace

void validator::read_tokens(const json& tokens, const std::string& path, api_config& a) {
  std::map<std::string, std::string> seen;  // token -> path of its first entry
  if (!a.token.empty())
    seen.emplace(a.token, "/api/token");
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string at = path + "/" + std::to_string(i);
    api_token_config t;
    if (!read_token(tokens[i], at, t))
      continue;
    if (auto [first, fresh] = seen.emplace(t.token, at + "/file"); !fresh) {
      problems_.push_back({at + "/file", "holds the same token as " + first->second +
                                             ": each token must be different (a token has "
                                             "one role)"});
      continue;
    }
    a.tokens.push_back(std::move(t));
  }
}

// False when the entry has a problem (reported); else `out` is complete.
bool validator::read_token(const json& j, const std::string& path, api_token_config& out) {
  if (!j.is_object()) {
    problems_.push_back({path, "expected an object {\"role\": ..., \"file\": ...}, got " + describe(j)});
    return false;
  }
  const size_t before = problems_.size();
  object_reader r(j, path, problems_, {"role", "file", "name"});
  std::string role;
  if (r.text("role", role, true) && !parse_role(role, out.role))
    r.fail(r.at("role"), "unknown role '" + role + "' (expected one of: read, operate, admin)");
  if (r.text("file", out.file, true)) {
    std::string why = out.file.empty() ? "expected a file name, got an empty string"
                                       : first_line(out.file, out.token);
    if (why.empty())
      why = bad_token(out.token, out.file);
    if (!why.empty())
      r.fail(r.at("file"), why);
    else if (std::string mode = shared_mode(out.file); !mode.empty())
      warnings_.push_back({r.at("file"), out.file + " can be read by group or others (mode " +
                                             mode + "): chmod 600 it, so only this user may"});
  }
  if (r.text("name", out.name) && (out.name.empty() || out.name.size() > kMaxName))
    r.fail(r.at("name"), "must be 1 to " + std::to_string(kMaxName) + " characters");
  if (out.name.empty())
    out.name = out.file;
  return problems_.size() == before;
}

} // namespace detail

} // namespace edgemes::config
