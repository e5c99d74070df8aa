// storage/log_batch: see log_batch.hpp for the format; docs/STORAGE-FORMAT.md
// byte by byte.
//
// The directory is strictly ascending by machine_id (compared as int64, the
// way encode() sorts): parse() rebuilds each id from its gap and refuses one
// that wraps past the int64 range, so machine() is a binary search and a
// batch never names a machine twice. Every `len` stays inside the batch and
// the entries end exactly at its end; a record's own bytes are checked when it
// is read (chunk::view::parse / parse_poll consume it exactly). Identifiers
// and times are rebuilt modulo 2^64, so no input overflows.
//
// The form is chosen per machine: a single poll takes a poll record (no
// column headers, no timestamp of its own: the cheap form the writer's
// commits are mostly made of); several polls take a chunk, whose columns then
// pay for themselves.
#include "storage/log_batch.hpp"

#include "storage/varint.hpp"

#include <algorithm>
#include <limits>

namespace edgemes::storage::log_batch {

namespace {
constexpr unsigned char magic = 'L';
constexpr unsigned format_version = 2;
constexpr unsigned form_poll = 0, form_chunk = 1;
// The smallest entry: 1-byte gap, 1-byte ts delta, 1-byte len, an empty poll record.
constexpr size_t min_entry_bytes = 3;

int64_t wrap_add(int64_t a, uint64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + b);
}
int64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
} // namespace

void encode(std::vector<poll> polls, std::string& out) {
  // Sorted by (machine, ts); with a duplicate (which the caller must not
  // send) the first one kept, so a chunk's timestamps still ascend.
  std::stable_sort(polls.begin(), polls.end(), [](const poll& a, const poll& b) {
    return a.machine_id != b.machine_id ? a.machine_id < b.machine_id : a.ts < b.ts;
  });
  polls.erase(std::unique(polls.begin(), polls.end(),
                          [](const poll& a, const poll& b) {
                            return a.machine_id == b.machine_id && a.ts == b.ts;
                          }),
              polls.end());

  int64_t base = 0;
  size_t machines = 0;
  for (size_t i = 0; i < polls.size(); ++i) {
    if (i == 0 || polls[i].ts < base)
      base = polls[i].ts;
    if (i == 0 || polls[i].machine_id != polls[i - 1].machine_id)
      ++machines;
  }
  out.push_back(static_cast<char>(magic));
  out.push_back(static_cast<char>(format_version));
  varint::put_signed(base, out);
  varint::put(machines, out);

  std::vector<int64_t> ts;
  std::vector<double> values;
  std::string record;
  int64_t prev_id = -1, prev_ts = base;
  for (size_t first = 0; first < polls.size();) {
    size_t last = first;
    size_t nslots = 0;
    while (last < polls.size() && polls[last].machine_id == polls[first].machine_id) {
      if (polls[last].values)
        nslots = std::max(nslots, polls[last].values->size());
      ++last;
    }
    const size_t n = last - first;
    const poll& head = polls[first];
    record.clear();
    const std::string* bytes = &record;
    unsigned form = form_poll;
    if (n == 1) {
      if (head.record)
        bytes = head.record;
      else if (head.values)
        chunk::encode_poll(head.values->data(), head.values->size(), record);
    } else {
      form = form_chunk;
      ts.resize(n);
      values.assign(n * nslots, std::numeric_limits<double>::quiet_NaN());
      for (size_t i = 0; i < n; ++i) {
        const poll& p = polls[first + i];
        ts[i] = p.ts;
        if (p.values)
          std::copy(p.values->begin(), p.values->end(), values.begin() + static_cast<ptrdiff_t>(i * nslots));
      }
      chunk::encode(ts.data(), values.data(), n, nslots, record, head.ts);
    }
    varint::put(static_cast<uint64_t>(wrap_sub(wrap_sub(head.machine_id, prev_id), 1)), out);
    varint::put_signed(wrap_sub(head.ts, prev_ts), out);
    varint::put((static_cast<uint64_t>(bytes->size()) << 1) | form, out);
    out.append(*bytes);
    prev_id = head.machine_id;
    prev_ts = head.ts;
    first = last;
  }
}

bool view::parse(const void* data, size_t size) {
  data_ = static_cast<const unsigned char*>(data);
  entries_.clear();
  if (parse_directory(size))
    return true;
  entries_.clear();  // a refused batch lists no entry
  return false;
}

bool view::parse_directory(size_t size) {
  varint::byte_reader r{data_, data_ + size};
  unsigned tag, version;
  uint64_t m;
  if (!r.u8(tag) || tag != magic || !r.u8(version) || version != format_version ||
      !r.get_signed(base_) || !r.get(m) || m > r.left() / min_entry_bytes)
    return false;
  entries_.reserve(static_cast<size_t>(m));
  int64_t prev_id = -1, prev_ts = base_;
  for (uint64_t i = 0; i < m; ++i) {
    uint64_t gap, len_form;
    int64_t dts;
    if (!r.get(gap) || !r.get_signed(dts) || !r.get(len_form))
      return false;
    const uint64_t len = len_form >> 1;
    if (len > r.left())
      return false;
    const int64_t id = wrap_add(wrap_add(prev_id, 1), gap);
    if (i > 0 && id <= prev_id)  // the gap wrapped past INT64_MAX
      return false;
    const int64_t ts = wrap_add(prev_ts, static_cast<uint64_t>(dts));
    entries_.push_back({id, ts, static_cast<size_t>(r.p - data_), static_cast<size_t>(len),
                        (len_form & 1) == form_chunk});
    r.p += len;
    prev_id = id;
    prev_ts = ts;
  }
  return r.left() == 0;
}

bool view::entry_polls(size_t index, chunk::view& out) const {
  if (index >= entries_.size())
    return false;
  const entry& e = entries_[index];
  return e.chunk ? out.parse(data_ + e.offset, e.size, e.ts)
                 : out.parse_poll(data_ + e.offset, e.size, e.ts);
}

bool view::machine(int64_t machine_id, chunk::view& out) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), machine_id,
                             [](const entry& e, int64_t id) { return e.machine_id < id; });
  if (it == entries_.end() || it->machine_id != machine_id)
    return false;
  return entry_polls(static_cast<size_t>(it - entries_.begin()), out);
}

} // namespace edgemes::storage::log_batch
