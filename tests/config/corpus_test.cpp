// The corpus of broken configs (tests/config/corpus/*.json): `edgemes
// check-config` run as a real process on each file exits 1 (never a signal,
// never 0) and prints the specific problem its sidecar .expect names:
//   path: <JSON pointer, empty for whole-document problems>
//   message: <a fragment of the message>
// Then every corpus file (and the valid ones of tests/config/corpus-ok) goes
// through both `check-config` and `run`: they must agree.
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <csignal>
#include <sstream>
#include <csignal>

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

namespace {

// The corpus files, the valid ones (tests/config/corpus-ok) and the shipped
// examples (config/*.json, the demo among them): every config the suite knows
// by file.
std::vector<std::string> every_corpus_file() {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const char* dir : {"tests/config/corpus", "tests/config/corpus-ok", "config"})
    for (const auto& entry : fs::directory_iterator(source_path(dir)))
      if (entry.path().extension() == ".json")
        files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

} // namespace

TEST_CASE("check-config and run agree on every corpus file: what the check accepts starts, what it "
          "refuses does not start", "[config][corpus]") {
  using namespace std::chrono_literals;
  const auto files = every_corpus_file();
  REQUIRE(files.size() >= 45);
  size_t accepted = 0;
  for (const auto& file : files) {
    INFO(file);
    temp_dir dir;
    process check({binary("edgemes"), "check-config", file}, dir.file("check.log"));
    const int check_code = check.wait(20s);
    INFO("check-config exit " << check_code << ":\n" << read_file(dir.file("check.log")).substr(0, 2000));
    REQUIRE((check_code == 0 || check_code == 1));

    const int port = free_port();
    process run({binary("edgemes"), "run", "--config", file, "--port", std::to_string(port),
                 "--db", dir.file("agree.db")},
                dir.file("run.log"));
    if (check_code == 1) {
      // Refused by the check: run refuses before serving, with exit code 1.
      const int run_code = run.wait(20s);
      INFO("run exit " << run_code << ":\n" << read_file(dir.file("run.log")).substr(0, 2000));
      CHECK(run_code == 1);
      continue;
    }
    // Accepted by the check: run starts, serves, and stops cleanly.
    ++accepted;
    const bool serving = wait_until(
        [&] { return !run.running() || http_get(port, "/api/v1/health", 1000ms).status == 200; }, 20s);
    INFO("run log:\n" << read_file(dir.file("run.log")).substr(0, 2000));
    REQUIRE(serving);
    REQUIRE(run.running());
    run.signal(SIGTERM);
    CHECK(run.wait(20s) == 0);
  }
  CHECK(accepted >= 7);  // corpus-ok and the shipped examples
}
