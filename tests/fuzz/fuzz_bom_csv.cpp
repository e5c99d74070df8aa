// libFuzzer target: edgemes::mes::bom_csv::parse on arbitrary bytes must never
// crash, hang or leak, and keeps its promises on every input:
// - all or nothing: items xor problems; a refusal has at least one problem,
//   each with a message, at most max_problems of them;
// - an accepted file's items are valid (part number, quantity, designators
//   unique across the file, within the limits) and survive write() -> parse();
// - memory: the limits are small here, and libFuzzer's -rss_limit_mb
//   (tests/fuzz/CMakeLists.txt; its malloc limit defaults to the same) fails
//   any input that exceeds it.
// The first byte picks the options (separator, a low problem cap), the rest is the file.
#include "mes/bom_csv.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

using namespace edgemes::mes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  bom_csv::options o;
  const char seps[] = {0, ',', ';', '\t'};
  o.separator = seps[data[0] & 3];
  o.max_problems = (data[0] & 4) ? 3 : 100;
  o.max_range = 500;
  o.max_designators = 5000;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  auto r = bom_csv::parse(text, o);
  if (r.ok() != r.problems.empty())
    std::abort();
  if (!r.ok()) {
    if (!r.items.empty() || r.problems.size() > o.max_problems)
      std::abort();
    for (const auto& p : r.problems)
      if (p.message.empty() || p.column_name.size() > 40)
        std::abort();
    (void)bom_csv::format_problems(r);
    return 0;
  }
  if (r.items.empty() || r.problems_omitted != 0)
    std::abort();
  std::set<std::string> seen;
  for (const auto& it : r.items) {
    if (it.part_number.empty() || it.quantity <= 0 || it.quantity > o.max_quantity || it.line == 0)
      std::abort();
    if (!it.designators.empty() && it.quantity != static_cast<int64_t>(it.designators.size()))
      std::abort();
    for (auto d : it.designators) {
      for (auto& c : d)
        if (c >= 'a' && c <= 'z')
          c = static_cast<char>(c - 'a' + 'A');
      if (!seen.insert(d).second)
        std::abort();
    }
  }
  if (seen.size() > o.max_designators)
    std::abort();
  // The canonical form of the items gives back the same items.
  auto same_separator = o;
  same_separator.separator = r.separator;  // the forced one, or the detected or sep= one
  auto again = bom_csv::parse(bom_csv::write(r.items, r.separator), same_separator);
  if (!again.ok() || again.items.size() != r.items.size())
    std::abort();
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    const auto &a = r.items[i], &b = again.items[i];
    if (a.designators != b.designators || a.part_number != b.part_number ||
        a.quantity != b.quantity || a.description != b.description || a.side != b.side)
      std::abort();
  }
  return 0;
}
