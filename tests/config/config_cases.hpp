// tests/config/config_cases: what the config tests share — whether a parse
// reported a problem at a path, and the table of broken configs each test
// checks one SECTION per row.
#pragma once

#include "config/config.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace edgemes::test::config_cases {

// A problem at `path` whose message contains `fragment`.
inline bool has_problem(const config::parse_result& r, const std::string& path,
                        const std::string& fragment) {
  for (const auto& p : r.problems)
    if (p.path == path && p.message.find(fragment) != std::string::npos)
      return true;
  return false;
}

// One broken config and the problem it must report.
struct broken_case {
  const char* what;
  std::string text;
  std::string path;
  std::string message;  // a fragment of the expected message
};

// Each case in its own SECTION: the config does not parse, and the problem
// it must report is among those reported.
inline void check_broken(const std::vector<broken_case>& cases) {
  for (const auto& c : cases) {
    SECTION(c.what) {
      const auto r = config::parse(c.text);
      INFO("config: " << c.text);
      INFO("problems:\n" << config::format_problems(r.problems));
      CHECK_FALSE(r.ok());
      CHECK(has_problem(r, c.path, c.message));
    }
  }
}

} // namespace edgemes::test::config_cases
