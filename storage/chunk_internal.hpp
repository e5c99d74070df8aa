// storage/chunk_internal: the chunk format's constants and bit helpers, shared
// by the encoder (chunk_encode.cpp) and the decoder (chunk.cpp); internal to
// storage/. The contract is chunk.hpp; docs/STORAGE-FORMAT.md has the format
// byte by byte. In short (varint/zvarint: storage/varint.hpp):
//
//   chunk := u8 1 | varint n | varint nslots | zvarint(ts[0] - base)
//            | ints(n - 1 deltas ts[i] - ts[i-1]) | nslots × (varint len | body)
//
//   ints(m) — m signed int64 whose count the reader already knows — is
//   ceil(m / 128) blocks; every block holds 128 values except the last, which
//   holds the rest. A block is zvarint(min) | u8 width (0..64) | the
//   residuals x - min (computed modulo 2^64, so never an overflow), each
//   `width` bits, packed LSB first: residual j occupies bits [j*w, (j+1)*w)
//   of the block's ceil(count * w / 8) bytes, bit b being bit b % 8 of byte
//   b / 8. Width 0 (all values equal min) has no bytes at all.
//
//   body := u8 kind [| bitmap] | payload. kind & 0x80: a presence bitmap of
//   ceil(n / 8) bytes follows (bit i, LSB first in byte i / 8, set when poll i
//   has a value; the unused high bits of the last byte are 0), and the
//   payload holds the m present values only; without it m = n.
//     kind 0    — no present value; the body is that one byte.
//     kind 1    — decimal: u8 e (0..15) | u8 transform | ints. Every value is
//                 double(k) / 10^e; transform 0: ints(m) of k, transform 1:
//                 zvarint(k_0) | ints(m - 1) of k_i - k_{i-1}.
//     kind 2    — XOR: the first value's 8 bytes (IEEE double, little endian),
//                 then a bit stream, MSB first within each byte, of the other
//                 m - 1 values (Gorilla): per value, its bits XOR the previous
//                 value's bits; '0' = same value; '10' + the meaningful bits
//                 inside the window of the last '11'; '11' + 6 bits leading
//                 zeros + 6 bits (meaningful length - 1) + the meaningful
//                 bits, which opens a new window. Padded with 0 bits to a byte.
//
// poll record (the one-poll form of a log batch entry) := one value per slot,
//   each a varint u whose low 3 bits are a tag: 0..5 decimal with e = tag and
//   k = unzigzag(u >> 3); 6 no value (u == 6 exactly); 7 with u >> 3 == 0 the
//   raw double (8 bytes little endian), with u >> 3 == x in 1..10 decimal with
//   e = 5 + x followed by zvarint k. The encoder takes the smallest e that
//   reproduces the value's bits (as for kind 1), else the raw form. A reader
//   knows the slot count only by walking the values to the record's end.
//
// Invariants the decoder relies on and checks, so garbage is refused rather
// than trusted: n >= 1 and small enough for the bytes present (an ints block
// of 128 values takes >= 2 bytes); timestamps strictly ascend; every body
// length stays inside the chunk and every body is consumed exactly; a kind-1
// or kind-2 body has at least one present value. The encoder keeps the
// decimal form only after decoding every value back and comparing bits
// (memcmp), so -0.0 and values no 10^e reproduces always take kind 2.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace edgemes::storage::chunk::detail {

inline constexpr unsigned format_version = 1;
inline constexpr size_t block_values = 128;       // values per ints block (the last holds the rest)
inline constexpr size_t max_polls = size_t(1) << 24;
inline constexpr unsigned kind_none = 0, kind_decimal = 1, kind_xor = 2, kind_bitmap = 0x80;
inline constexpr unsigned max_exponent = 15;

// 10^e as exact doubles: every power up to 10^22 is representable.
inline constexpr double p10[max_exponent + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

inline bool present(double v) { return std::isfinite(v); }

inline uint64_t bits_of(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
inline double double_of(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

inline uint64_t load_le64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

inline unsigned bit_width(uint64_t v) {
  return v == 0 ? 0 : 64u - static_cast<unsigned>(__builtin_clzll(v));
}

// k with double(k) / 10^e == v bit for bit, if there is one.
inline bool decimal_of(double v, unsigned e, int64_t& k) {
  const double scaled = v * p10[e];
  if (!(std::fabs(scaled) < 0x1p53))
    return false;
  k = std::llround(scaled);
  const double back = static_cast<double>(k) / p10[e];
  return std::memcmp(&back, &v, sizeof v) == 0;
}

// Poll record value tags (low 3 bits of the value's varint).
inline constexpr unsigned poll_tag_bits = 3;
inline constexpr unsigned poll_small_e = 5;        // tags 0..5: decimal, e = tag
inline constexpr unsigned poll_tag_missing = 6;
inline constexpr unsigned poll_tag_escape = 7;     // raw double, or decimal with e 6..15

} // namespace edgemes::storage::chunk::detail
