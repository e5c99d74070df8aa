// adapters/extractor: RFC 6901 pointers into a reply. apply() never throws:
// whatever the machine sent, a missing or mistyped field becomes a problem
// text naming the metric and the pointer, and its value NaN.
#include "adapters/adapter.hpp"

#include <limits>

namespace edgemes::adapters {

namespace {

const char* kind_of(const nlohmann::json& v) {
  switch (v.type()) {
  case nlohmann::json::value_t::null: return "null";
  case nlohmann::json::value_t::object: return "an object";
  case nlohmann::json::value_t::array: return "an array";
  case nlohmann::json::value_t::string: return "a string";
  case nlohmann::json::value_t::boolean: return "a boolean";
  case nlohmann::json::value_t::binary: return "binary data";
  case nlohmann::json::value_t::discarded: return "discarded";
  default: return "a number";
  }
}

// The value at `ptr`, or nullptr when nothing is there (including pointers
// that step into a scalar or use a non-numeric array index).
const nlohmann::json* find(const nlohmann::json& document, const nlohmann::json::json_pointer& ptr) {
  try {
    if (!document.contains(ptr))
      return nullptr;
    return &document.at(ptr);
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

} // namespace

extractor::extractor(const std::vector<std::pair<std::string, std::string>>& metrics,
                     const std::string& state_pointer)
    : state_text_(state_pointer) {
  metrics_.reserve(metrics.size());
  for (const auto& [name, pointer] : metrics)
    metrics_.emplace_back(name, nlohmann::json::json_pointer(pointer));
  if (!state_pointer.empty())
    state_ = nlohmann::json::json_pointer(state_pointer);
}

extractor::result extractor::apply(const nlohmann::json& document) const {
  result out;
  out.values.reserve(metrics_.size());
  for (const auto& [name, ptr] : metrics_) {
    double value = std::numeric_limits<double>::quiet_NaN();
    const nlohmann::json* v = find(document, ptr);
    if (!v) {
      out.problems.push_back("metric '" + name + "': nothing at " + ptr.to_string());
    } else if (v->is_number()) {
      value = v->get<double>();
    } else if (v->is_boolean()) {
      value = v->get<bool>() ? 1.0 : 0.0;
    } else {
      out.problems.push_back("metric '" + name + "': " + ptr.to_string() + " is " + kind_of(*v) +
                             ", not a number");
    }
    out.values.push_back(value);
  }
  if (state_) {
    const nlohmann::json* v = find(document, *state_);
    if (!v)
      out.problems.push_back("state: nothing at " + state_text_);
    else if (v->is_string())
      out.state = v->get<std::string>();
    else
      out.problems.push_back(std::string("state: ") + state_text_ + " is " + kind_of(*v) +
                             ", not a string");
  }
  return out;
}

} // namespace edgemes::adapters
