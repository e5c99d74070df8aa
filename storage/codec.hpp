// storage/codec: the encoding of one poll's metric values in telemetry.v.
//
// A poll's values are one JSON array of numbers indexed by the metric's slot
// (metrics.slot), `null` where the poll had no value for that metric:
//   [1523.5,0.82,null,245]
// JSON text keeps the file readable with the stock sqlite3 shell
// (json_extract(v, '$[3]')) while one poll's samples land in one row.
// Numbers are written in the shortest form that reads back to the same
// double (std::to_chars); NaN and infinities are written as null.
//
// A rollup row (telemetry_10s.v, storage/rollup.hpp) is the same kind of
// array, one element per slot: the count, sum, min, max and last of the
// slot's values in the 10 s bucket, or null when the bucket has none. An
// element leaves out what the others already say (at 1 s polls rollups were a
// third of the bytes on disk, docs/BENCHMARKS.md):
//   [count,sum,min,max,last]   the general form
//   [count,sum,min,max]        last = max (a counter that rose in the bucket)
//   [count,sum,v]              min = max = last = v (a value that held still)
//   [1,v]                      one value: sum = min = max = last = v
// e.g. [[10,15235.5,1520.5,1526,1523.5],[10,6510,650,652],[10,2500,250],[1,0.82],null]
// "Equal" means the same double, sign of zero included. count is an integer
// >= 1; the numbers round-trip exactly as above. Rows written before the
// short forms existed use only the general form, and read the same.
#pragma once

#include "storage/rollup.hpp"

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

// Appends the rollup array for `slots` (count 0 = null) to `out`.
void encode_rollup(const bucket_stats& slots, std::string& out);

// Which of a rollup element's numbers decode_rollup_slot parses (count always).
enum rollup_fields : unsigned {
  rollup_sum = 1,
  rollup_min = 2,
  rollup_max = 4,
  rollup_last = 8,
  rollup_all = 15,
};

// Reads element `slot` of a rollup array. Returns false when it is absent,
// null, or the text is not a rollup array. Elements before `slot` are checked
// for shape ('[...]' or null), not parsed; so are the numbers of the element
// not in `fields` (only their characters are checked), which are left 0:
// from_chars is most of the cost of a rollup read, and a series needs one.
bool decode_rollup_slot(const char* text, size_t size, int slot, slot_stats& out,
                        unsigned fields = rollup_all);

// Decodes every element (count 0 for null). Returns false on malformed text.
bool decode_rollup_all(const char* text, size_t size, bucket_stats& slots);

} // namespace edgemes::storage
