// libFuzzer target: edgemes::config::parse on arbitrary bytes must never
// crash, hang or leak, and every refusal must carry at least one problem
// with a message (the promise check-config makes to a user).
#include "config/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = edgemes::config::parse(text, "fuzz.json");
  if (!result.ok()) {
    if (result.problems.empty())
      std::abort();
    for (const auto& p : result.problems)
      if (p.message.empty())
        std::abort();
    (void)edgemes::config::format_problems(result.problems);
  }
  return 0;
}
