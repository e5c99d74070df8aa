// config/object_reader: the JSON walking helpers every section's reader uses (validate.hpp).
#include "config/validate.hpp"

#include <algorithm>
#include <cctype>

namespace edgemes::config::detail {

namespace {

std::string range_message(int64_t lo, int64_t hi, const std::string& got) {
  if (hi == kNoMax)
    return "must be at least " + std::to_string(lo) + ", got " + got;
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + got;
}

} // namespace

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty())
      out += sep;
    out += item;
  }
  return out;
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

bool valid_ident(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

std::string describe(const json& v) {
  if (v.is_number_float())
    return "number " + v.dump();
  return v.type_name();
}

object_reader::object_reader(const json& obj, std::string path, std::vector<problem>& problems,
                             const std::vector<std::string>& keys)
    : obj_(obj), path_(std::move(path)), problems_(problems) {
  for (auto it = obj_.begin(); it != obj_.end(); ++it)
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
      fail(at(it.key()), "unknown key '" + it.key() + "' (expected one of: " + join(keys, ", ") + ")");
}

const json* object_reader::member(const std::string& key, json::value_t type, const char* type_name,
                                  bool required) {
  const json* v = find(key);
  if (!v) {
    if (required)
      fail(at(key), "missing required key '" + key + "'");
    return nullptr;
  }
  if (v->type() != type) {
    fail(at(key), std::string("expected ") + type_name + ", got " + describe(*v));
    return nullptr;
  }
  return v;
}

bool object_reader::text(const std::string& key, std::string& out, bool required) {
  const json* v = member(key, json::value_t::string, "a string", required);
  if (v)
    out = v->get<std::string>();
  return v != nullptr;
}

void object_reader::nonempty_text(const std::string& key, std::string& out) {
  std::string value;
  if (!text(key, value))
    return;
  if (value.empty())
    fail(at(key), "must not be empty");
  else
    out = value;
}

void object_reader::boolean(const std::string& key, bool& out) {
  if (const json* v = member(key, json::value_t::boolean, "a boolean (true or false)"))
    out = v->get<bool>();
}

void object_reader::integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi) {
  const json* v = find(key);
  if (!v)
    return;
  if (!v->is_number_integer()) {
    fail(at(key), "expected an integer, got " + describe(*v));
    return;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(kNoMax)) {
    fail(at(key), range_message(lo, hi, v->dump()));
    return;
  }
  const int64_t n = v->get<int64_t>();
  if (n < lo || n > hi) {
    fail(at(key), range_message(lo, hi, std::to_string(n)));
    return;
  }
  out = n;
}

void object_reader::unsigned_integer(const std::string& key, uint64_t& out) {
  const json* v = find(key);
  if (!v)
    return;
  if (!v->is_number_integer())
    fail(at(key), "expected an integer, got " + describe(*v));
  else if (!v->is_number_unsigned())
    fail(at(key), range_message(0, kNoMax, v->dump()));
  else
    out = v->get<uint64_t>();
}

void object_reader::ident(std::string& out) {
  std::string value;
  if (!text("id", value, true))
    return;
  if (!valid_ident(value))
    fail(at("id"), "invalid id '" + value + "': " + kIdRule);
  else
    out = value;
}

} // namespace edgemes::config::detail
