// The BOM corpus (tests/mes/data):
// - bad/*.csv: each broken file's problems, formatted by format_problems(),
//   are exactly its sidecar .expect (every problem with line and column);
// - good/*.csv: real-world exports parse, and write() of their items is
//   exactly the sidecar .expect (the canonical form, so every cell is checked).
// good/european.csv uses German headers, so it is read with the options its
// ERP's names need (good/european.columns: "role: name" lines).
#include "mes/bom_csv.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

using namespace edgemes;
using namespace edgemes::test;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> csv_files(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(source_path("tests/mes/data/" + dir)))
    if (e.path().extension() == ".csv")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string sidecar(const fs::path& csv, const char* ext) {
  auto p = csv;
  p.replace_extension(ext);
  REQUIRE(fs::exists(p));
  return read_file(p.string());
}

mes::bom_csv::options options_for(const fs::path& csv) {
  mes::bom_csv::options o;
  auto p = csv;
  p.replace_extension(".columns");
  if (!fs::exists(p))
    return o;
  std::istringstream in(read_file(p.string()));
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(": ");
    REQUIRE(colon != std::string::npos);
    auto role = line.substr(0, colon), name = line.substr(colon + 2);
    auto& names = role == "designators"   ? o.columns.designators
                  : role == "part_number" ? o.columns.part_number
                  : role == "quantity"    ? o.columns.quantity
                  : role == "description" ? o.columns.description
                                          : o.columns.side;
    names = {name};
  }
  return o;
}

} // namespace

TEST_CASE("every broken BOM in the corpus gets exactly its problems, with line and column",
          "[mes][bom_csv][corpus]") {
  auto files = csv_files("bad");
  CHECK(files.size() >= 15);
  for (const auto& f : files) {
    INFO(f.filename().string());
    auto r = mes::bom_csv::parse(read_file(f.string()), options_for(f));
    CHECK_FALSE(r.ok());
    CHECK(r.items.empty());
    CHECK(mes::bom_csv::format_problems(r) == sidecar(f, ".expect"));
  }
}

TEST_CASE("real-world BOM exports parse to exactly their canonical items",
          "[mes][bom_csv][corpus]") {
  auto files = csv_files("good");
  CHECK(files.size() >= 3);
  for (const auto& f : files) {
    INFO(f.filename().string());
    auto r = mes::bom_csv::parse(read_file(f.string()), options_for(f));
    INFO(mes::bom_csv::format_problems(r));
    REQUIRE(r.ok());
    CHECK(mes::bom_csv::write(r.items) == sidecar(f, ".expect"));
    // The canonical form is itself a valid BOM with the same items.
    CHECK(mes::bom_csv::write(mes::bom_csv::parse(mes::bom_csv::write(r.items)).items) ==
          mes::bom_csv::write(r.items));
  }
}

TEST_CASE("the European export: ';', a byte-order mark, CRLF, German headers",
          "[mes][bom_csv][corpus]") {
  auto f = fs::path(source_path("tests/mes/data/good/european.csv"));
  auto bytes = read_file(f.string());
  REQUIRE(bytes.substr(0, 3) == "\xEF\xBB\xBF");
  REQUIRE(bytes.find("\r\n") != std::string::npos);
  auto r = mes::bom_csv::parse(bytes, options_for(f));
  REQUIRE(r.ok());
  CHECK(r.separator == ';');
  // Without the ERP's header names the file names what is missing.
  auto plain = mes::bom_csv::parse(bytes);
  CHECK_FALSE(plain.ok());
  CHECK(mes::bom_csv::format(plain.problems.at(0)).rfind(
            "line 1: missing required column: no part number column", 0) == 0);
}
