// The corpus of broken configs (tests/config/corpus/*.json): `edgemes
// check-config` run as a real process on each file exits 1 (never a signal,
// never 0) and prints the specific problem its sidecar .expect names:
//   path: <JSON pointer, empty for whole-document problems>
//   message: <a fragment of the message>
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

using namespace edgemes::test;

namespace {

struct expectation {
  std::string path;
  std::string message;
};

expectation read_expect(const std::string& file) {
  expectation e;
  std::istringstream in(read_file(file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("path:", 0) == 0)
      e.path = line.size() > 6 ? line.substr(6) : "";
    else if (line.rfind("message:", 0) == 0)
      e.message = line.size() > 9 ? line.substr(9) : "";
  }
  return e;
}

// True when some output line carries the problem: "<path>: ...<message>..."
// for a located problem, any line with the message for a document-level one.
bool reports(const std::string& output, const expectation& e) {
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(e.message) == std::string::npos)
      continue;
    if (e.path.empty() || line.rfind(e.path + ": ", 0) == 0)
      return true;
  }
  return false;
}

} // namespace

TEST_CASE("every broken config in the corpus gets its specific message and exit code 1",
          "[config][corpus]") {
  namespace fs = std::filesystem;
  temp_dir dir;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(source_path("tests/config/corpus")))
    if (entry.path().extension() == ".json")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 20);

  for (const auto& file : files) {
    auto expect_file = fs::path(file).replace_extension(".expect");
    INFO(file.filename().string());
    REQUIRE(fs::exists(expect_file));
    auto e = read_expect(expect_file.string());
    REQUIRE_FALSE(e.message.empty());

    auto log = dir.file(file.stem().string() + ".log");
    process p({binary("edgemes"), "check-config", file.string()}, log);
    int code = p.wait(std::chrono::seconds(20));
    auto output = read_file(log);
    INFO("exit " << code << ", output:\n" << output.substr(0, 2000));
    CHECK(code == 1);  // 128+N would be a signal, -1 a hang
    CHECK(reports(output, e));
  }
}
