#include "web/assets.hpp"

namespace edgemes::web {

// Defined in the generated assets_data.cpp.
extern const asset asset_table[];
extern const size_t asset_count;

const asset* find(std::string_view name) {
  // A dozen entries: a linear scan beats any index.
  for (size_t i = 0; i < asset_count; ++i)
    if (name == asset_table[i].name)
      return &asset_table[i];
  return nullptr;
}

} // namespace edgemes::web
