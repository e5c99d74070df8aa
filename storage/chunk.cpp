// storage/chunk: see chunk.hpp for the contract; docs/STORAGE-FORMAT.md has the
// format byte by byte. In short (varint/zvarint: storage/varint.hpp):
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
//
// Decoding is the read path's inner loop (a month of one metric is 2.6 M
// values): ints blocks unpack into a 128-value array on the stack with one
// unaligned 64-bit load per value, and a column is written in place into the
// caller's vector — no allocation per value or per block.
#include "storage/chunk.hpp"

#include "storage/varint.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace edgemes::storage::chunk {

namespace {

using varint::byte_reader;

constexpr unsigned format_version = 1;
constexpr size_t block_values = 128;       // values per ints block (the last holds the rest)
constexpr size_t max_polls = size_t(1) << 24;
constexpr unsigned kind_none = 0, kind_decimal = 1, kind_xor = 2, kind_bitmap = 0x80;
constexpr unsigned max_exponent = 15;

// 10^e as exact doubles: every power up to 10^22 is representable.
constexpr double p10[max_exponent + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                          1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

bool present(double v) { return std::isfinite(v); }

uint64_t bits_of(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
double double_of(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

uint64_t load_le64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

unsigned bit_width(uint64_t v) { return v == 0 ? 0 : 64u - static_cast<unsigned>(__builtin_clzll(v)); }

// ---------------------------------------------------------------- encoding

void put_ints(const int64_t* v, size_t m, std::string& out) {
  for (size_t b = 0; b < m; b += block_values) {
    const size_t count = std::min(block_values, m - b);
    int64_t lo = v[b], hi = v[b];
    for (size_t j = 1; j < count; ++j) {
      lo = std::min(lo, v[b + j]);
      hi = std::max(hi, v[b + j]);
    }
    const unsigned w = bit_width(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo));
    varint::put_signed(lo, out);
    out.push_back(static_cast<char>(w));
    if (w == 0)
      continue;
    const size_t start = out.size();
    out.append((count * w + 7) / 8, '\0');
    for (size_t j = 0; j < count; ++j) {
      const uint64_t r = static_cast<uint64_t>(v[b + j]) - static_cast<uint64_t>(lo);
      size_t pos = j * w;
      for (unsigned done = 0; done < w;) {
        const unsigned shift = static_cast<unsigned>(pos & 7);
        const unsigned take = std::min(8 - shift, w - done);
        const unsigned piece = static_cast<unsigned>((r >> done) & ((1u << take) - 1));
        out[start + pos / 8] = static_cast<char>(static_cast<unsigned char>(out[start + pos / 8]) |
                                                 (piece << shift));
        done += take;
        pos += take;
      }
    }
  }
}

// Bits appended MSB first within each byte (the XOR stream).
class bit_writer {
public:
  explicit bit_writer(std::string& out) : out_(out) {}
  void put(uint64_t v, unsigned count) {  // the low `count` bits of v, highest first
    while (count > 0) {
      if (free_ == 0) {
        out_.push_back('\0');
        free_ = 8;
      }
      const unsigned take = std::min(free_, count);
      const unsigned piece = static_cast<unsigned>((v >> (count - take)) & ((1u << take) - 1));
      out_.back() = static_cast<char>(static_cast<unsigned char>(out_.back()) |
                                      (piece << (free_ - take)));
      free_ -= take;
      count -= take;
    }
  }

private:
  std::string& out_;
  unsigned free_ = 0;  // unused bits in out_.back()
};

void put_xor(const double* v, size_t m, std::string& out) {
  uint64_t prev = bits_of(v[0]);
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((prev >> (8 * i)) & 0xff));
  bit_writer bits(out);
  unsigned win_lead = 0, win_trail = 0;
  bool have_window = false;
  for (size_t i = 1; i < m; ++i) {
    const uint64_t cur = bits_of(v[i]);
    const uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      bits.put(0, 1);
      continue;
    }
    const unsigned lead = static_cast<unsigned>(__builtin_clzll(x));
    const unsigned trail = static_cast<unsigned>(__builtin_ctzll(x));
    if (have_window && lead >= win_lead && trail >= win_trail) {
      bits.put(0b10, 2);
      bits.put(x >> win_trail, 64 - win_lead - win_trail);
    } else {
      const unsigned len = 64 - lead - trail;
      bits.put(0b11, 2);
      bits.put(lead, 6);
      bits.put(len - 1, 6);
      bits.put(x >> trail, len);
      have_window = true;
      win_lead = lead;
      win_trail = trail;
    }
  }
}

// k with double(k) / 10^e == v bit for bit, if there is one.
bool decimal_of(double v, unsigned e, int64_t& k) {
  const double scaled = v * p10[e];
  if (!(std::fabs(scaled) < 0x1p53))
    return false;
  k = std::llround(scaled);
  const double back = static_cast<double>(k) / p10[e];
  return std::memcmp(&back, &v, sizeof v) == 0;
}

// The smallest e for which every value is decimal; false when none is.
// Invariant of the first pass: no e below `e` works for all values seen so far.
bool decimal_exponent(const std::vector<double>& v, unsigned& e_out, std::vector<int64_t>& k) {
  unsigned e = 0;
  int64_t tmp;
  for (double x : v) {
    while (e <= max_exponent && !decimal_of(x, e, tmp))
      ++e;
    if (e > max_exponent)
      return false;
  }
  k.resize(v.size());
  for (; e <= max_exponent; ++e) {
    size_t i = 0;
    while (i < v.size() && decimal_of(v[i], e, k[i]))
      ++i;
    if (i == v.size()) {
      e_out = e;
      return true;
    }
  }
  return false;
}

void encode_column(const double* values, size_t n, size_t nslots, size_t slot, std::string& out,
                   std::vector<double>& present_values, std::vector<int64_t>& k,
                   std::vector<int64_t>& deltas, std::string& a, std::string& b) {
  present_values.clear();
  for (size_t i = 0; i < n; ++i)
    if (present(values[i * nslots + slot]))
      present_values.push_back(values[i * nslots + slot]);
  const size_t m = present_values.size();
  if (m == 0) {
    varint::put(1, out);
    out.push_back(static_cast<char>(kind_none));
    return;
  }
  std::string head;
  const bool sparse = m < n;
  head.push_back(static_cast<char>(sparse ? kind_bitmap : 0));
  if (sparse) {
    head.append((n + 7) / 8, '\0');
    for (size_t i = 0; i < n; ++i)
      if (present(values[i * nslots + slot]))
        head[1 + i / 8] = static_cast<char>(static_cast<unsigned char>(head[1 + i / 8]) | (1u << (i % 8)));
  }

  // The shortest of: decimal plain, decimal delta, XOR. Ties keep the earlier.
  a.clear();
  a.push_back(static_cast<char>(kind_xor));
  put_xor(present_values.data(), m, a);
  unsigned e;
  if (decimal_exponent(present_values, e, k)) {
    b.clear();
    b.push_back(static_cast<char>(kind_decimal));
    b.push_back(static_cast<char>(e));
    b.push_back(0);
    put_ints(k.data(), m, b);
    if (b.size() <= a.size())
      a.swap(b);
    deltas.resize(m - 1);
    for (size_t i = 1; i < m; ++i)
      deltas[i - 1] = static_cast<int64_t>(static_cast<uint64_t>(k[i]) - static_cast<uint64_t>(k[i - 1]));
    b.clear();
    b.push_back(static_cast<char>(kind_decimal));
    b.push_back(static_cast<char>(e));
    b.push_back(1);
    varint::put_signed(k[0], b);
    put_ints(deltas.data(), m - 1, b);
    if (b.size() < a.size())
      a.swap(b);
  }
  // a = kind | payload; the bitmap goes between them.
  head[0] = static_cast<char>(static_cast<unsigned char>(head[0]) | static_cast<unsigned char>(a[0]));
  varint::put(head.size() + a.size() - 1, out);
  out.append(head);
  out.append(a, 1, std::string::npos);
}

// Poll record value tags (low 3 bits of the value's varint).
constexpr unsigned poll_tag_bits = 3;
constexpr unsigned poll_small_e = 5;        // tags 0..5: decimal, e = tag
constexpr unsigned poll_tag_missing = 6;
constexpr unsigned poll_tag_escape = 7;     // raw double, or decimal with e 6..15

void put_poll_value(double v, std::string& out) {
  if (!present(v)) {
    varint::put(poll_tag_missing, out);
    return;
  }
  int64_t k;
  for (unsigned e = 0; e <= max_exponent; ++e) {
    if (!decimal_of(v, e, k))
      continue;
    if (e <= poll_small_e) {
      varint::put((varint::zigzag(k) << poll_tag_bits) | e, out);  // |k| <= 2^53: no overflow
    } else {
      varint::put(((e - poll_small_e) << poll_tag_bits) | poll_tag_escape, out);
      varint::put_signed(k, out);
    }
    return;
  }
  varint::put(poll_tag_escape, out);
  const uint64_t b = bits_of(v);
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((b >> (8 * i)) & 0xff));
}

// ---------------------------------------------------------------- decoding

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

void encode(const int64_t* ts, const double* values, size_t n, size_t nslots, std::string& out,
            int64_t base) {
  if (n == 0)
    return;  // REQUIRES n >= 1; nothing is better than a chunk no reader accepts
  out.push_back(static_cast<char>(format_version));
  varint::put(n, out);
  varint::put(nslots, out);
  varint::put_signed(static_cast<int64_t>(static_cast<uint64_t>(ts[0]) - static_cast<uint64_t>(base)),
                     out);
  std::vector<int64_t> scratch(n > 0 ? n - 1 : 0);
  for (size_t i = 1; i < n; ++i)
    scratch[i - 1] = static_cast<int64_t>(static_cast<uint64_t>(ts[i]) - static_cast<uint64_t>(ts[i - 1]));
  put_ints(scratch.data(), scratch.size(), out);
  std::vector<double> present_values;
  std::vector<int64_t> k;
  std::string a, b;
  for (size_t s = 0; s < nslots; ++s)
    encode_column(values, n, nslots, s, out, present_values, k, scratch, a, b);
}

void encode_poll(const double* values, size_t nslots, std::string& out) {
  for (size_t s = 0; s < nslots; ++s)
    put_poll_value(values[s], out);
}

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
