// adapters/modbus_map: what a Modbus device's register map means, without any
// I/O — the names a config uses, the rules a map must follow, how values are
// grouped into read requests and how registers decode into numbers. One
// definition shared by config validation (check-config), the modbus_tcp
// adapter and edgemes-sim's Modbus mode, so all three agree on every rule.
//
// Tables and addresses are the protocol's: four tables (coils and discrete
// inputs hold bits; input and holding registers hold 16-bit words), each
// addressed 0..65535 as on the wire (the "PDU address": the register that
// vendor manuals call 40001 is holding address 0).
//
// Byte layout. A value of 32 or 64 bits spans 2 or 4 consecutive registers.
// Each register travels high byte first. With both orders "big" the bytes of
// the registers, in address order, are the value's big-endian bytes (ABCD for
// 32 bits). word_order "little" takes the registers in reverse order (CDAB);
// byte_order "little" swaps the two bytes inside every register (BADC); both
// little gives DCBA. For 16-bit types only byte_order applies. This is also
// what pymodbus's BinaryPayloadBuilder(byteorder, wordorder) produces.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgemes::adapters::modbus {

enum class table : uint8_t { coil, discrete, input, holding };
enum class value_type : uint8_t { int16, uint16, int32, uint32, int64, float32, float64, boolean };
enum class order : uint8_t { big, little };

// Names as written in a config ("holding", "float32", "little"); nullopt when unknown.
std::optional<table> parse_table(const std::string& name);
std::optional<value_type> parse_type(const std::string& name);
std::optional<order> parse_order(const std::string& name);
const char* name_of(table t);
const char* name_of(value_type t);
const std::vector<std::string>& table_names();  // in the order of the enum
const std::vector<std::string>& type_names();

// Protocol limits of one read request (Modbus application protocol 1.1b3, 6.1-6.4).
constexpr int kMaxRegistersPerRead = 125;
constexpr int kMaxBitsPerRead = 2000;
// A device that accepts N registers per read is asked for at most 16 * N
// bits (the same reply size), and never more than the protocol's 2000.
int max_bits_per_read(int max_registers_per_read);

inline bool is_bit_table(table t) { return t == table::coil || t == table::discrete; }
// Registers (or, for bool, bits) a value of `type` spans: 1, 2 or 4.
int width(value_type type);
// True for the integer types a state code may have (every type but floats).
bool is_integer(value_type type);

// One value read from the device: where, how it is laid out, and
// value = raw * scale + offset.
struct point {
  table tbl = table::holding;
  uint16_t address = 0;
  value_type type = value_type::uint16;
  order word_order = order::big;
  order byte_order = order::big;
  double scale = 1;
  double offset = 0;

  // raw * scale + offset, where a scale whose reciprocal is a whole number
  // N >= 2 (0.1, 0.01, 0.001 ...) divides by N instead: 3 * 0.1 is
  // 0.30000000000000004 in doubles, 3 / 10 is 0.3 — the number the device's
  // manual means, and the one storage keeps compactly.
  double apply(double raw) const;
};

// Why a value of `type` cannot sit at `address` of `tbl`, or "" when it can:
// bool on a register table, a word type on a bit table, an address outside
// 0..65535, or a value running past 65535 ("float64 at 65533 needs registers
// 65533..65536").
std::string placement_problem(table tbl, int64_t address, value_type type);

// Two points of one table whose registers overlap: `later` overlaps `earlier`
// (indices into the list given). Points reading exactly the same registers
// with the same type and orders do not overlap: that is one value read twice
// (e.g. scaled two ways) and is allowed.
struct overlap {
  size_t earlier;
  size_t later;
};
std::vector<overlap> overlaps(const std::vector<point>& points);

// One read request: `count` registers (or bits) of `tbl` from `start`, landing
// in the poll's buffer at `slot` (one uint16 per register, one per bit).
struct read_group {
  table tbl;
  uint16_t start;
  uint16_t count;
  size_t slot;
};

// The requests of one poll. Points of one table, sorted by address, share a
// request while the registers between them number at most `max_gap` and the
// request stays within `max_registers_per_read` registers (max_bits_per_read
// of it for bits). A value wider than the limit (a float64 from a device that
// reads one register at a time) is read by consecutive requests into
// consecutive slots. Every point's registers are contiguous in the buffer,
// from slot_of[i].
struct read_plan {
  std::vector<read_group> groups;  // coils, discrete inputs, input, holding; by address within each
  std::vector<size_t> slot_of;     // per point, in the order given
  size_t slots = 0;                // buffer size
};
// REQUIRES: every point passes placement_problem; 1 <= max_registers_per_read <= 125;
// max_gap >= 0 (others are clamped into range).
read_plan plan_reads(const std::vector<point>& points, int max_registers_per_read, int max_gap);

// The raw number in `words` (width(type) registers in address order, each as
// the register's 16-bit value, i.e. high byte first on the wire) under the
// byte layout above; bool is words[0] != 0. int64 beyond 2^53 rounds to the
// nearest double. A float's NaN or infinity comes back as it is.
double decode(const uint16_t* words, value_type type, order word_order, order byte_order);

// The inverse of decode for edgemes-sim and tests: `raw` converted to `type`
// (integers rounded to nearest and saturated to the type's range) and laid
// out into width(type) registers.
void encode(double raw, value_type type, order word_order, order byte_order, uint16_t* words);

// "holding 100..109", "coil 7": a request's registers, for error texts.
std::string describe(const read_group& g);

} // namespace edgemes::adapters::modbus
