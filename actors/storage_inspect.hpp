// actors/storage_inspect: CAF inspect() overloads for the storage rows that
// travel inside actor messages (poll_row, state_row, status_row).
//
// They live here, not in storage/, because storage/ never sees CAF; they sit
// in namespace edgemes::storage so that argument-dependent lookup finds them
// when CAF inspects a poll_report. Each overload lists every field of its row:
// a field added to a row must be added here too (tests/actors/messages_test
// checks that every field survives a binary round trip).
//
// poll_row::values cross a serializer as their IEEE-754 bit patterns, not as
// doubles: CAF 0.17's binary serializer packs a double arithmetically
// (detail::pack754), which turns NaN — a missing value — into garbage and
// never returns for an infinity. Bit patterns keep every value exactly, NaN,
// infinities and -0.0 included. Printing (to_string) shows the doubles.
#pragma once

#include "storage/writer.hpp"

#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace edgemes::storage {

namespace wire {

inline std::vector<uint64_t> to_bits(const std::vector<double>& values) {
  static_assert(sizeof(double) == sizeof(uint64_t), "IEEE-754 binary64 doubles only");
  std::vector<uint64_t> bits(values.size());
  if (!values.empty())
    std::memcpy(bits.data(), values.data(), values.size() * sizeof(double));
  return bits;
}

inline std::vector<double> from_bits(const std::vector<uint64_t>& bits) {
  std::vector<double> values(bits.size());
  if (!bits.empty())
    std::memcpy(values.data(), bits.data(), bits.size() * sizeof(double));
  return values;
}

} // namespace wire

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poll_row& x) {
  constexpr auto name = caf::meta::type_name("edgemes::storage::poll_row");
  if constexpr (Inspector::writes_state) {  // a deserializer
    std::vector<uint64_t> bits;
    auto unpack = caf::meta::load_callback([&]() -> caf::error {
      x.values = wire::from_bits(bits);
      return caf::error{};
    });
    return f(name, x.machine_id, x.ts_ms, bits, unpack);
  } else if constexpr (std::is_base_of<caf::serializer, Inspector>::value) {
    auto bits = wire::to_bits(x.values);
    return f(name, x.machine_id, x.ts_ms, bits);
  } else {  // to_string and friends
    return f(name, x.machine_id, x.ts_ms, x.values);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_row& x) {
  return f(caf::meta::type_name("edgemes::storage::state_row"), x.machine_id, x.ts_ms, x.state);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_row& x) {
  return f(caf::meta::type_name("edgemes::storage::status_row"), x.machine_id, x.status,
           x.last_poll_ms, x.last_ok_ms, x.last_error, x.polls_ok, x.polls_failed,
           x.poll_problems, x.polls_missed);
}

} // namespace edgemes::storage
