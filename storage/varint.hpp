// storage/varint: the integer encodings of the schema v4 binary formats
// (storage/chunk.hpp, storage/log_batch.hpp; docs/STORAGE-FORMAT.md).
//
//   varint  = unsigned LEB128: 7 bits per byte, least significant group
//             first, high bit set on every byte but the last; at most 10
//             bytes, and a 10th byte may only hold the value's bit 63.
//   zvarint = a signed int64 zigzag-mapped (0, -1, 1, -2, ... -> 0, 1, 2, 3,
//             ...) and then written as a varint, so small magnitudes of
//             either sign take one byte.
//
// byte_reader is the one way the decoders read bytes: every get is checked
// against `end` and reports false instead of reading past it. Internal to
// storage (chunk*.cpp, log_batch.cpp); not part of any public surface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace edgemes::storage::varint {

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ (v < 0 ? ~uint64_t(0) : uint64_t(0));
}
inline int64_t unzigzag(uint64_t u) {
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

inline void put(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
inline void put_signed(int64_t v, std::string& out) { put(zigzag(v), out); }

// A cursor over [p, end). A failed get leaves the cursor unspecified; callers
// give up on the whole input at the first false.
struct byte_reader {
  const unsigned char* p;
  const unsigned char* end;

  size_t left() const { return static_cast<size_t>(end - p); }

  bool u8(unsigned& v) {
    if (p == end)
      return false;
    v = *p++;
    return true;
  }
  bool get(uint64_t& v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p == end)
        return false;
      const unsigned b = *p++;
      if (shift == 63 && b > 1)  // more than 64 bits
        return false;
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        v = r;
        return true;
      }
    }
    return false;
  }
  bool get_signed(int64_t& v) {
    uint64_t u;
    if (!get(u))
      return false;
    v = unzigzag(u);
    return true;
  }
  bool skip(size_t n) {
    if (n > left())
      return false;
    p += n;
    return true;
  }
};

} // namespace edgemes::storage::varint
