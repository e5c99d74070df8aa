// storage/chunk: reading chunks and poll records (chunk::view); see chunk.hpp
// for the contract and chunk_internal.hpp for the format.
//
// Decoding is the read path's inner loop (a month of one metric is 2.6 M
// values): ints blocks unpack into a 128-value array on the stack with one
// unaligned 64-bit load per value, and a column is written in place into the
// caller's vector — no allocation per value or per block.
#include "storage/chunk.hpp"

#include "storage/chunk_internal.hpp"
#include "storage/varint.hpp"

#include <algorithm>
#include <limits>

namespace edgemes::storage::chunk {

using namespace detail;

namespace {

using varint::byte_reader;

// One poll record value; NaN for "no value". False when malformed.
bool read_poll_value(byte_reader& r, double& v) {
  uint64_t u;
  if (!r.get(u))
    return false;
  const unsigned tag = static_cast<unsigned>(u & 7);
  const uint64_t rest = u >> poll_tag_bits;
  if (tag <= poll_small_e) {
    v = static_cast<double>(varint::unzigzag(rest)) / p10[tag];
    return true;
  }
  if (tag == poll_tag_missing) {
    v = std::numeric_limits<double>::quiet_NaN();
    return rest == 0;
  }
  if (rest == 0) {
    if (r.left() < 8)
      return false;
    v = double_of(load_le64(r.p));
    r.p += 8;
    return true;
  }
  int64_t k;
  if (rest > max_exponent - poll_small_e || !r.get_signed(k))
    return false;
  v = static_cast<double>(k) / p10[poll_small_e + rest];
  return true;
}

// Reads ints(m) and hands them to `sink(const int64_t* values, size_t count)`
// one block at a time.
template <class Sink> bool read_ints(byte_reader& r, size_t m, Sink&& sink) {
  int64_t block[block_values];
  for (size_t b = 0; b < m; b += block_values) {
    const size_t count = std::min(block_values, m - b);
    int64_t lo;
    unsigned w;
    if (!r.get_signed(lo) || !r.u8(w) || w > 64)
      return false;
    const size_t bytes = (count * w + 7) / 8;
    if (bytes > r.left())
      return false;
    const uint64_t base = static_cast<uint64_t>(lo);
    if (w == 0) {
      std::fill(block, block + count, lo);
    } else {
      const unsigned char* p = r.p;
      const uint64_t mask = w == 64 ? ~uint64_t(0) : (uint64_t(1) << w) - 1;
      size_t pos = 0;
      for (size_t j = 0; j < count; ++j, pos += w) {
        const size_t at = pos >> 3;
        const unsigned shift = static_cast<unsigned>(pos & 7);
        uint64_t x;
        if (at + 8 <= bytes) {
          x = load_le64(p + at) >> shift;
        } else {
          x = 0;
          for (size_t q = at; q < bytes; ++q)
            x |= static_cast<uint64_t>(p[q]) << (8 * (q - at));
          x >>= shift;
        }
        if (w + shift > 64)  // the value's top bits spill into a 9th byte
          x |= static_cast<uint64_t>(p[at + 8]) << (64 - shift);
        block[j] = static_cast<int64_t>(base + (x & mask));
      }
      r.p += bytes;
    }
    sink(static_cast<const int64_t*>(block), count);
  }
  return true;
}

bool skip_ints(byte_reader& r, size_t m) {
  for (size_t b = 0; b < m; b += block_values) {
    const size_t count = std::min(block_values, m - b);
    int64_t lo;
    unsigned w;
    if (!r.get_signed(lo) || !r.u8(w) || w > 64 || !r.skip((count * w + 7) / 8))
      return false;
  }
  return true;
}

// Bits read MSB first within each byte, from [p, p + bytes).
class bit_reader {
public:
  bit_reader(const unsigned char* p, size_t bytes) : p_(p), bytes_(bytes) {}
  bool get(unsigned count, uint64_t& v) {
    if (count > 56) {  // a 64-bit window shifted by up to 7 holds 57 bits
      uint64_t hi, lo;
      if (!get(count - 32, hi) || !get(32, lo))
        return false;
      v = (hi << 32) | lo;
      return true;
    }
    if (count == 0) {
      v = 0;
      return true;
    }
    if (count > bytes_ * 8 - pos_)
      return false;
    const size_t at = pos_ >> 3;
    uint64_t x = 0;
    if (at + 8 <= bytes_) {
      x = __builtin_bswap64(load_le64(p_ + at));
    } else {
      for (size_t q = at; q < bytes_; ++q)
        x |= static_cast<uint64_t>(p_[q]) << (56 - 8 * (q - at));
    }
    v = (x << (pos_ & 7)) >> (64 - count);
    pos_ += count;
    return true;
  }
  size_t bytes_used() const { return (pos_ + 7) / 8; }

private:
  const unsigned char* p_;
  size_t bytes_;
  size_t pos_ = 0;
};

bool read_xor(byte_reader& r, size_t m, double* out) {
  if (r.left() < 8)
    return false;
  uint64_t prev = load_le64(r.p);
  out[0] = double_of(prev);
  bit_reader bits(r.p + 8, r.left() - 8);
  unsigned win_lead = 0, win_len = 0;  // win_len 0 = no window yet
  for (size_t i = 1; i < m; ++i) {
    uint64_t flag, x;
    if (!bits.get(1, flag))
      return false;
    if (flag) {
      if (!bits.get(1, flag))
        return false;
      if (flag) {
        uint64_t lead, len_m1;
        if (!bits.get(6, lead) || !bits.get(6, len_m1) || lead + len_m1 + 1 > 64)
          return false;
        win_lead = static_cast<unsigned>(lead);
        win_len = static_cast<unsigned>(len_m1) + 1;
      } else if (win_len == 0) {
        return false;
      }
      if (!bits.get(win_len, x))
        return false;
      prev ^= x << (64 - win_lead - win_len);
    }
    out[i] = double_of(prev);
  }
  // The stream ends at the body's end: padding only, no spare bytes.
  return bits.bytes_used() == r.left() - 8 && r.skip(r.left());
}

// The m present values of a body (after its kind and bitmap) into out[0..m).
bool read_values(byte_reader& r, unsigned kind, size_t m, double* out) {
  if (kind == kind_xor)
    return read_xor(r, m, out);
  if (kind != kind_decimal)
    return false;
  unsigned e, transform;
  if (!r.u8(e) || !r.u8(transform) || e > max_exponent)
    return false;
  const double scale = p10[e];
  size_t at = 0;
  if (transform == 0) {
    if (!read_ints(r, m, [&](const int64_t* k, size_t count) {
          for (size_t j = 0; j < count; ++j)
            out[at + j] = static_cast<double>(k[j]) / scale;
          at += count;
        }))
      return false;
  } else if (transform == 1) {
    int64_t k0;
    if (!r.get_signed(k0))
      return false;
    uint64_t k = static_cast<uint64_t>(k0);
    out[at++] = static_cast<double>(k0) / scale;
    if (!read_ints(r, m - 1, [&](const int64_t* d, size_t count) {
          for (size_t j = 0; j < count; ++j) {
            k += static_cast<uint64_t>(d[j]);
            out[at + j] = static_cast<double>(static_cast<int64_t>(k)) / scale;
          }
          at += count;
        }))
      return false;
  } else {
    return false;
  }
  return r.left() == 0;
}

} // namespace

bool view::parse_poll(const void* data, size_t size, int64_t ts) {
  data_ = static_cast<const unsigned char*>(data);
  size_ = size;
  n_ = 0;  // set last: a refused record has no polls and no slots
  poll_record_ = true;
  ts0_ = ts;
  col_off_.clear();
  col_len_.clear();
  byte_reader r{data_, data_ + size};
  double v;
  while (r.left() > 0) {
    const size_t at = static_cast<size_t>(r.p - data_);
    if (!read_poll_value(r, v)) {
      col_off_.clear();
      col_len_.clear();
      return false;
    }
    col_off_.push_back(at);
    col_len_.push_back(static_cast<size_t>(r.p - data_) - at);
  }
  n_ = 1;
  return true;
}

bool view::parse(const void* data, size_t size, int64_t base) {
  data_ = static_cast<const unsigned char*>(data);
  size_ = size;
  n_ = 0;  // set last: a refused chunk has no polls and no slots
  poll_record_ = false;
  col_off_.clear();
  col_len_.clear();
  auto refuse = [this] {
    col_off_.clear();
    col_len_.clear();
    return false;
  };
  byte_reader r{data_, data_ + size};
  unsigned version;
  uint64_t n, nslots;
  int64_t ts0;
  if (!r.u8(version) || version != format_version || !r.get(n) || !r.get(nslots) ||
      !r.get_signed(ts0))
    return false;
  // Each 128 deltas take >= 2 bytes and each slot >= 2 bytes: refuse counts
  // the bytes cannot hold before anything is sized from them.
  if (n < 1 || n > max_polls || (n - 1) > (r.left() / 2 + 1) * block_values ||
      nslots > r.left() / 2)
    return false;
  ts0_ = static_cast<int64_t>(static_cast<uint64_t>(ts0) + static_cast<uint64_t>(base));
  ts_off_ = static_cast<size_t>(r.p - data_);
  if (!skip_ints(r, static_cast<size_t>(n - 1)))
    return false;
  col_off_.reserve(static_cast<size_t>(nslots));
  col_len_.reserve(static_cast<size_t>(nslots));
  for (uint64_t s = 0; s < nslots; ++s) {
    uint64_t len;
    if (!r.get(len) || len < 1 || len > r.left())
      return refuse();
    col_off_.push_back(static_cast<size_t>(r.p - data_));
    col_len_.push_back(static_cast<size_t>(len));
    r.p += len;
  }
  if (r.left() != 0)
    return refuse();
  n_ = static_cast<size_t>(n);
  return true;
}

bool view::timestamps(std::vector<int64_t>& out) const {
  if (n_ == 0)
    return false;
  out.resize(n_);
  out[0] = ts0_;
  if (poll_record_)
    return true;
  byte_reader r{data_ + ts_off_, data_ + size_};
  int64_t* dst = out.data();
  int64_t prev = ts0_;
  size_t at = 1;
  bool ascending = true;
  if (!read_ints(r, n_ - 1, [&](const int64_t* d, size_t count) {
        for (size_t j = 0; j < count; ++j) {
          ascending &= d[j] > 0 && !__builtin_add_overflow(prev, d[j], &prev);
          dst[at + j] = prev;
        }
        at += count;
      }))
    return false;
  return ascending;
}

bool view::column(size_t slot, std::vector<double>& out) const {
  constexpr double missing = std::numeric_limits<double>::quiet_NaN();
  if (n_ == 0)
    return false;
  if (slot >= col_off_.size()) {
    out.assign(n_, missing);
    return true;
  }
  byte_reader r{data_ + col_off_[slot], data_ + col_off_[slot] + col_len_[slot]};
  if (poll_record_) {
    out.resize(1);
    return read_poll_value(r, out[0]);
  }
  unsigned kind;
  if (!r.u8(kind))
    return false;
  if (kind == kind_none) {
    if (r.left() != 0)
      return false;
    out.assign(n_, missing);
    return true;
  }
  size_t m = n_;
  const unsigned char* bitmap = nullptr;
  if (kind & kind_bitmap) {
    const size_t bytes = (n_ + 7) / 8;
    if (bytes > r.left())
      return false;
    bitmap = r.p;
    r.p += bytes;
    m = 0;
    for (size_t q = 0; q < bytes; ++q)
      m += static_cast<size_t>(__builtin_popcount(bitmap[q]));
    if (n_ % 8 != 0 && (bitmap[bytes - 1] >> (n_ % 8)) != 0)
      return false;
  }
  if (m == 0)
    return false;
  out.resize(n_);
  if (!read_values(r, kind & 0x7f, m, out.data()))
    return false;
  if (bitmap) {
    // Spread the m values to their polls from the back: value j lands at an
    // index >= j, so nothing is overwritten before it is read.
    size_t j = m;
    for (size_t i = n_; i-- > 0;)
      out[i] = (bitmap[i / 8] >> (i % 8)) & 1 ? out[--j] : missing;
  }
  return true;
}

} // namespace edgemes::storage::chunk
