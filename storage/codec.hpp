// storage/codec: the encoding of one poll's metric values in telemetry.v.
//
// A poll's values are one JSON array of numbers indexed by the metric's slot
// (metrics.slot), `null` where the poll had no value for that metric:
//   [1523.5,0.82,null,245]
// JSON text keeps the file readable with the stock sqlite3 shell
// (json_extract(v, '$[3]')) while one poll's samples land in one row.
// Numbers are written in the shortest form that reads back to the same
// double (std::to_chars); NaN and infinities are written as null.
#pragma once

#include <string>
#include <vector>

namespace edgemes::storage {

// Appends the JSON array for `values` (NaN = missing) to `out`.
void encode_values(const std::vector<double>& values, std::string& out);

// Reads element `slot` of an encoded array. Returns false when the element is
// absent, null, or the text is not a JSON array of numbers/nulls.
bool decode_slot(const char* text, size_t size, int slot, double& value);

// Decodes every element (NaN for null). Returns false on malformed text.
bool decode_all(const char* text, size_t size, std::vector<double>& values);

} // namespace edgemes::storage
