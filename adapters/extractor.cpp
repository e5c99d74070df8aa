// adapters/extractor: RFC 6901 pointers into a JSON document, the helper of the
// JSON-based adapters (http_json; the sim source applies it once to its
// model's reply layout). apply() never throws: whatever the machine sent, a
// missing or mistyped field becomes a problem text naming the metric and the
// pointer, and its value NaN.
#include "adapters/adapter.hpp"

#include <algorithm>
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

// Splits an RFC 6901 pointer; throws std::invalid_argument when malformed.
extractor::path compile(const std::string& text) {
  nlohmann::json::json_pointer check(text);  // validates (throws parse_error)
  (void)check;
  extractor::path p{text, {}};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find('/', pos + 1);
    std::string raw = text.substr(pos + 1, next == std::string::npos ? std::string::npos
                                                                      : next - pos - 1);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size()) {
        token += raw[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += raw[i];
      }
    }
    p.tokens.push_back(std::move(token));
    if (next == std::string::npos)
      break;
    pos = next;
  }
  return p;
}

// The value at `p` from its token `from` on, starting at `v`, or nullptr when
// nothing is there (including paths that step into a scalar or use a
// non-numeric or out-of-range array index).
const nlohmann::json* find(const nlohmann::json* v, const extractor::path& p, size_t from = 0) {
  for (size_t t = from; t < p.tokens.size(); ++t) {
    const auto& token = p.tokens[t];
    if (v->is_object()) {
      const auto& object = v->get_ref<const nlohmann::json::object_t&>();
      auto it = object.find(token);
      if (it == object.end())
        return nullptr;
      v = &it->second;
    } else if (v->is_array()) {
      if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0') ||
          token.find_first_not_of("0123456789") != std::string::npos)
        return nullptr;
      size_t index = std::stoul(token);
      if (index >= v->size())
        return nullptr;
      v = &(*v)[index];
    } else {
      return nullptr;
    }
  }
  return v;
}

} // namespace

extractor::extractor(const std::vector<std::pair<std::string, std::string>>& metrics,
                     const std::string& state_pointer)
{
  metrics_.reserve(metrics.size());
  for (const auto& [name, pointer] : metrics)
    metrics_.emplace_back(name, compile(pointer));
  for (size_t i = 0; i < metrics_.size(); ++i) {
    if (!metrics_[i].second.tokens.empty())
      by_first_token_.push_back(i);
  }
  std::stable_sort(by_first_token_.begin(), by_first_token_.end(), [this](size_t a, size_t b) {
    return metrics_[a].second.tokens[0] < metrics_[b].second.tokens[0];
  });
  if (!state_pointer.empty())
    state_ = compile(state_pointer);
}

extractor::result extractor::apply(const nlohmann::json& document) const {
  // Where each metric's pointer leads. When the document is an object not
  // much larger than the list of metrics, their first tokens are looked up
  // in one ordered pass over its keys (a std::map, ordered as the tokens are
  // in by_first_token_): about keys + metrics string comparisons instead of
  // metrics * log2(keys) — the largest cost of a poll of an in-process source.
  constexpr size_t on_stack = 64;
  const nlohmann::json* stack_found[on_stack];
  std::vector<const nlohmann::json*> heap_found;
  const nlohmann::json** found = stack_found;
  if (metrics_.size() > on_stack) {
    heap_found.resize(metrics_.size());
    found = heap_found.data();
  }
  for (size_t i = 0; i < metrics_.size(); ++i)
    found[i] = metrics_[i].second.tokens.empty() ? &document : nullptr;
  if (document.is_object() && document.size() <= 4 * by_first_token_.size()) {
    const auto& object = document.get_ref<const nlohmann::json::object_t&>();
    auto key = object.begin();
    for (size_t i : by_first_token_) {
      const auto& p = metrics_[i].second;
      while (key != object.end() && key->first < p.tokens[0])
        ++key;
      if (key != object.end() && key->first == p.tokens[0])
        found[i] = find(&key->second, p, 1);
    }
  } else {
    for (size_t i : by_first_token_)
      found[i] = find(&document, metrics_[i].second);
  }

  result out;
  out.values.reserve(metrics_.size());
  for (size_t i = 0; i < metrics_.size(); ++i) {
    const auto& [name, ptr] = metrics_[i];
    double value = std::numeric_limits<double>::quiet_NaN();
    const nlohmann::json* v = found[i];
    if (!v) {
      out.problems.push_back("metric '" + name + "': nothing at " + ptr.text);
    } else if (v->is_number()) {
      value = v->get<double>();
    } else if (v->is_boolean()) {
      value = v->get<bool>() ? 1.0 : 0.0;
    } else {
      out.problems.push_back("metric '" + name + "': " + ptr.text + " is " + kind_of(*v) +
                             ", not a number");
    }
    out.values.push_back(value);
  }
  if (state_) {
    const nlohmann::json* v = find(&document, *state_);
    if (!v)
      out.problems.push_back("state: nothing at " + state_->text);
    else if (v->is_string())
      out.state = v->get<std::string>();
    else
      out.problems.push_back(std::string("state: ") + state_->text + " is " + kind_of(*v) +
                             ", not a string");
  }
  return out;
}

} // namespace edgemes::adapters
