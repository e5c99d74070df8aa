// api.tokens (docs/CONFIG.md): each token read from a real file on disk, every
// problem named by its JSON path, a token file others may read a warning.
#include "config/config.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace config = edgemes::config;
using edgemes::test::temp_dir;
using nlohmann::json;

namespace {

const std::string kMachines =
    R"("lines": [{"id": "l1", "machines": [{"id": "m1", "type": "aoi", "source": {"adapter": "sim"}}]}])";

// A token file with `text`, mode `mode`.
std::string token_file(const temp_dir& dir, const std::string& name, const std::string& text,
                       mode_t mode = 0600) {
  const std::string path = dir.file(name);
  edgemes::test::write_file(path, text);
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

config::parse_result parse_api(const json& api) {
  return config::parse("{\"api\": " + api.dump() + ", " + kMachines + "}");
}

std::string problems_of(const config::parse_result& r) {
  return config::format_problems(r.problems);
}

} // namespace

TEST_CASE("api.tokens reads each token from its file's first line, with its role", "[config][tokens]") {
  temp_dir dir;
  const auto reader = token_file(dir, "reader", "read-token-0123456789\n");
  const auto operator_ = token_file(dir, "operator", "operate-token-0123456789\r\nsecond line\n");
  const auto admin = token_file(dir, "admin", "admin-token-0123456789");  // no line end
  auto r = parse_api({{"tokens",
                       {{{"role", "read"}, {"file", reader}},
                        {{"role", "operate"}, {"file", operator_}, {"name", "line tablet"}},
                        {{"role", "admin"}, {"file", admin}}}}});
  INFO(problems_of(r));
  REQUIRE(r.ok());
  CHECK(r.warnings.empty());
  const auto& t = r.value.api.tokens;
  REQUIRE(t.size() == 3);
  CHECK(t[0].role == config::api_role::read);
  CHECK(t[0].token == "read-token-0123456789");
  CHECK(t[0].name == reader);  // no name: the file's path
  CHECK(t[1].role == config::api_role::operate);
  CHECK(t[1].token == "operate-token-0123456789");
  CHECK(t[1].name == "line tablet");
  CHECK(t[2].role == config::api_role::admin);
  CHECK(t[2].token == "admin-token-0123456789");

  // Written back with where each token is, never the token itself.
  const auto out = config::to_json(r.value);
  CHECK(out["api"]["tokens"][1].dump() ==
        nlohmann::ordered_json{{"role", "operate"}, {"file", operator_}, {"name", "line tablet"}}.dump());
  CHECK(out.dump().find("token-0123456789") == std::string::npos);
}

TEST_CASE("every api.tokens problem is reported at once, each with its JSON path", "[config][tokens]") {
  temp_dir dir;
  const auto good = token_file(dir, "good", "good-token-0123456789\n");
  const auto twin = token_file(dir, "twin", "good-token-0123456789\n");
  const auto inline_twin = token_file(dir, "inline-twin", "inline-token-0123456789\n");
  const auto empty = token_file(dir, "empty", "");
  const auto blank_line = token_file(dir, "blank", "\nlater-line-0123456789\n");
  const auto short_token = token_file(dir, "short", "only-15-chars-x\n");
  const auto spaced = token_file(dir, "spaced", "token with spaces 0123456789\n");
  const auto trailing = token_file(dir, "trailing", "trailing-blank-0123456789 \n");
  auto r = parse_api(
      {{"token", "inline-token-0123456789"},
       {"tokens",
        {{{"role", "read"}, {"file", good}},
         {{"role", "writer"}, {"file", good}},                // 1: unknown role (and a twin)
         {{"role", "read"}, {"file", dir.file("missing")}},   // 2
         {{"role", "read"}, {"file", dir.path()}},            // 3: a directory
         {{"role", "read"}, {"file", empty}},                 // 4
         {{"role", "read"}, {"file", blank_line}},            // 5
         {{"role", "read"}, {"file", short_token}},           // 6
         {{"role", "read"}, {"file", spaced}},                // 7
         {{"role", "admin"}, {"file", twin}},                 // 8: the token of entry 0
         {{"role", "operate"}, {"file", inline_twin}},        // 9: the inline api.token
         {{"file", good}},                                    // 10: no role
         {{"role", "read"}},                                  // 11: no file
         {{"role", "read"}, {"file", ""}},                    // 12
         "read:/etc/token",                                   // 13: not an object
         {{"role", "read"}, {"file", trailing}, {"mode", 600}},  // 14: unknown key, trailing blank
         {{"role", "read"}, {"file", good}, {"name", ""}}}}});  // 15: empty name
  const std::string text = problems_of(r);
  INFO(text);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"/api/tokens/1/role", "unknown role 'writer' (expected one of: read, operate, admin)"},
      {"/api/tokens/2/file", "cannot read " + dir.file("missing") + ": No such file or directory"},
      {"/api/tokens/3/file", "cannot read " + dir.path() + ": Is a directory"},
      {"/api/tokens/4/file", empty + " has no token: its first line is empty"},
      {"/api/tokens/5/file", blank_line + " has no token: its first line is empty"},
      {"/api/tokens/6/file",
       "the token in " + short_token + " is 15 characters; a token must be at least 16"},
      {"/api/tokens/7/file",
       "the token in " + spaced + " has a space or control character: a token is one word"},
      {"/api/tokens/8/file",
       "holds the same token as /api/tokens/0/file: each token must be different (a token has "
       "one role)"},
      {"/api/tokens/9/file",
       "holds the same token as /api/token: each token must be different (a token has one role)"},
      {"/api/tokens/10/role", "missing required key 'role'"},
      {"/api/tokens/11/file", "missing required key 'file'"},
      {"/api/tokens/12/file", "expected a file name, got an empty string"},
      {"/api/tokens/13", "expected an object {\"role\": ..., \"file\": ...}, got string"},
      {"/api/tokens/14/mode", "unknown key 'mode' (expected one of: role, file, name)"},
      {"/api/tokens/14/file",
       "the token in " + trailing + " has a space or control character: a token is one word"},
      {"/api/tokens/15/name", "must be 1 to 64 characters"},
  };
  for (const auto& [path, message] : expected) {
    INFO(path << ": " << message);
    CHECK(std::count_if(r.problems.begin(), r.problems.end(), [&](const config::problem& p) {
            return p.path == path && p.message == message;
          }) == 1);
  }
  CHECK(r.problems.size() == expected.size());
}

TEST_CASE("a token file that group or others may read loads with a warning naming it",
          "[config][tokens]") {
  temp_dir dir;
  const auto own = token_file(dir, "own", "own-token-0123456789\n", 0600);
  const auto group = token_file(dir, "group", "group-token-0123456789\n", 0640);
  const auto world = token_file(dir, "world", "world-token-0123456789\n", 0644);
  auto r = parse_api({{"tokens",
                       {{{"role", "read"}, {"file", own}},
                        {{"role", "operate"}, {"file", group}},
                        {{"role", "admin"}, {"file", world}}}}});
  INFO(problems_of(r));
  REQUIRE(r.ok());
  CHECK(r.value.api.tokens.size() == 3);
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0].path == "/api/tokens/1/file");
  CHECK(r.warnings[0].message ==
        group + " can be read by group or others (mode 0640): chmod 600 it, so only this user may");
  CHECK(r.warnings[1].path == "/api/tokens/2/file");
  CHECK(r.warnings[1].message.find("(mode 0644)") != std::string::npos);
}

TEST_CASE("a token file this user may not read is a problem naming the reason", "[config][tokens]") {
  if (::geteuid() == 0) {
    WARN("running as root, who reads any file: the mode-000 case is covered by the directory "
         "and missing-file cases of the test above");
    return;
  }
  temp_dir dir;
  const auto locked = token_file(dir, "locked", "locked-token-0123456789\n", 0000);
  auto r = parse_api({{"tokens", {{{"role", "read"}, {"file", locked}}}}});
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "/api/tokens/0/file");
  CHECK(r.problems[0].message == "cannot read " + locked + ": Permission denied");
}

TEST_CASE("role names parse and print in their order read < operate < admin", "[config][tokens]") {
  for (auto role : {config::api_role::read, config::api_role::operate, config::api_role::admin}) {
    config::api_role back = config::api_role::read;
    REQUIRE(config::parse_role(config::role_name(role), back));
    CHECK(back == role);
  }
  CHECK(config::api_role::read < config::api_role::operate);
  CHECK(config::api_role::operate < config::api_role::admin);
  config::api_role unchanged = config::api_role::operate;
  CHECK_FALSE(config::parse_role("Admin", unchanged));
  CHECK_FALSE(config::parse_role("", unchanged));
  CHECK(unchanged == config::api_role::operate);
}
