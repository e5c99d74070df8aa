// adapters/sim_types (internal): the four simulated SMT machine types.
#pragma once

#include "adapters/sim_lifecycle.hpp"

#include <memory>
#include <string>

namespace edgemes::adapters::sim {

// nullptr for an unknown type.
std::unique_ptr<lifecycle> make_model(const std::string& type, uint64_t seed);

} // namespace edgemes::adapters::sim
