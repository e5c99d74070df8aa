// config: the public entry points: parse, load_file, format_problems and the shared small rules.
//
// The walk over a parsed document (validator, object_reader) is described in
// config/validate.hpp and lives in object_reader.cpp, validate_site.cpp and
// validate_lines.cpp.
#include "config/config.hpp"
#include "config/validate.hpp"

#include "adapters/sim_model.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace edgemes::config {
namespace {

using detail::json;

// "line L, column C: <what>" for a syntax error, computed from the byte offset:
// nlohmann's own position counts a just-read newline as column 0 of the next line.
std::string syntax_message(const std::string& text, const json::parse_error& e,
                           const std::string& origin) {
  const size_t at = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  std::string what = e.what();
  const size_t column_word = what.find(", column ");
  const size_t colon = column_word == std::string::npos ? what.find("] ") : what.find(": ", column_word);
  if (colon != std::string::npos)
    what = what.substr(colon + 2);
  return origin + ": line " + std::to_string(line) + ", column " +
         std::to_string(at - line_start + 1) + ": " + what;
}

} // namespace

std::vector<std::string> sim_metric_names(const std::string& type) {
  std::vector<std::string> names;
  for (const auto& metric : adapters::sim_standard_metrics(type))
    names.push_back(metric.first);
  return names;
}

std::string mqtt_client_id(const config& c, const mqtt_broker_config& b) {
  if (!b.client_id.empty())
    return b.client_id;
  std::string site = c.site;
  for (auto& ch : site)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-')
      ch = '_';
  return "edgemes-" + site + "-" + b.id;
}

bool valid_json_pointer(const std::string& pointer) {
  if (pointer.empty())
    return true;
  if (pointer[0] != '/')
    return false;
  for (size_t i = 0; i < pointer.size(); ++i)
    if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
      return false;
  return true;
}

parse_result parse(const std::string& text, const std::string& origin) {
  parse_result result;
  json doc;
  try {
    doc = json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    result.problems.push_back({"", syntax_message(text, e, origin)});
    return result;
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number like 1e400
    result.problems.push_back({"", origin + ": unreadable JSON: " + e.what()});
    return result;
  }
  detail::validator(result.problems, result.warnings).read(doc, result.value);
  return result;
}

parse_result load_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::string text;
  int error = f ? 0 : errno;
  if (f) {
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      text.append(buf, n);
    if (std::ferror(f))
      error = errno ? errno : EIO;
    std::fclose(f);
  }
  if (error != 0) {
    parse_result result;
    result.problems.push_back({"", "cannot read " + path + ": " + std::strerror(error)});
    return result;
  }
  return parse(text, path);
}

std::string format_problems(const std::vector<problem>& problems) {
  std::string out;
  for (const auto& p : problems)
    out += (p.path.empty() ? "" : p.path + ": ") + p.message + "\n";
  return out;
}

} // namespace edgemes::config
