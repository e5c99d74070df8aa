// storage/chunk_encode: writing chunks and poll records (chunk::encode,
// chunk::encode_poll); the format is in chunk_internal.hpp.
#include "storage/chunk.hpp"

#include "storage/chunk_internal.hpp"
#include "storage/varint.hpp"

#include <algorithm>

namespace edgemes::storage::chunk {

using namespace detail;

namespace {

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

} // namespace edgemes::storage::chunk
