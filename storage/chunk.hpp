// storage/chunk: the compressed form of one machine's polls (schema v4).
//
// A chunk holds n polls of one machine: their timestamps (epoch ms, strictly
// ascending) and, per metric slot, one column of values. It is the unit the
// writer stores for history (table `chunks`, one chunk per machine and
// compaction window) and the form of a machine's polls inside an ingest log
// batch (storage/log_batch.hpp) when it has several there; a single poll there
// is a poll record (below). The format is documented byte by byte in
// docs/STORAGE-FORMAT.md and in chunk_internal.hpp; in short:
//
//   chunk   := u8 version(=1) | varint n | varint nslots | zvarint(ts0 - base)
//              | ints(n - 1 deltas ts[i] - ts[i-1]) | column × nslots
//   column  := varint body_len | body      (so a reader skips to slot k)
//   body    := u8 kind [| presence bitmap] ...
//     kind 0: no value in any poll
//     kind 1: decimal — every present value v is n_i / 10^e exactly (e in
//             0..15, |n_i| <= 2^53): u8 e | u8 transform (0 plain, 1 delta)
//             | ints(...) of the n_i
//     kind 2: raw IEEE doubles, Gorilla XOR stream (fallback for values no
//             decimal exponent reproduces bit for bit)
//     kind | 0x80: a presence bitmap follows (some polls lack the value)
//   ints    := blocks of up to 128 signed integers, each block
//              zvarint(min) | u8 width | bit-packed (x - min), LSB first
//
// A poll record (encode_poll) is the compact form of a single poll that a log
// batch uses for a machine with one poll in it: no header, no timestamp (the
// batch holds it), one varint per slot:
//
//   value   := varint u, tag = u & 7:
//     tag 0..5: decimal, e = tag, k = unzigzag(u >> 3): the value is k / 10^e
//     tag 6:    no value (u == 6)
//     tag 7:    u >> 3 == 0: u64 little endian, the raw IEEE double;
//               u >> 3 == x in 1..10: decimal with e = 5 + x | zvarint k
//
// Lossless: decode(encode(x)) reproduces every present value bit for bit
// (sign of zero included); NaN and ±infinity are "no value" (as the JSON rows
// of schema v3 stored them: null).
//
// Thread-safety: free functions and value types, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgemes::storage::chunk {

// Appends the chunk of `n` >= 1 polls to `out`. ts[0..n) strictly ascending;
// values[i * nslots + s] is slot s of poll i (NaN / infinity = no value).
// `base` is subtracted from ts[0] before it is written (a log batch passes the
// entry's time, ts[0], so the first timestamp costs a byte; history chunks
// pass 0).
void encode(const int64_t* ts, const double* values, size_t n, size_t nslots, std::string& out,
            int64_t base = 0);

// Appends the poll record of one poll's `nslots` values to `out` (NaN /
// infinity = no value): nslots values of 1 to 9 bytes each, nothing else.
void encode_poll(const double* values, size_t nslots, std::string& out);

// A parsed chunk or poll record: the header is read by parse(), columns on
// demand. Refers to the bytes it was parsed from, which must outlive it. Every
// read is bounds checked: bytes that are not a chunk give false, never a crash.
class view {
public:
  // Reads the header and the column directory. False when malformed.
  bool parse(const void* data, size_t size, int64_t base = 0);

  // Reads a poll record (all of [data, data + size)) as a chunk of one poll
  // taken at `ts`, with as many slots as the record holds values. False when
  // malformed.
  bool parse_poll(const void* data, size_t size, int64_t ts);

  size_t polls() const { return n_; }
  size_t slots() const { return col_off_.size(); }

  // The n timestamps, oldest first. False when malformed.
  bool timestamps(std::vector<int64_t>& out) const;

  // The n values of one slot, NaN where a poll has none. A slot past slots()
  // (a metric added after the chunk was written) is all NaN. False when malformed.
  bool column(size_t slot, std::vector<double>& out) const;

private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  size_t n_ = 0;
  int64_t ts0_ = 0;
  size_t ts_off_ = 0;                 // start of the ts delta ints
  bool poll_record_ = false;          // parsed by parse_poll: one value per slot
  std::vector<size_t> col_off_;       // per slot: start of its body (poll record: of its value)
  std::vector<size_t> col_len_;       // per slot: body length (poll record: value length)
};

} // namespace edgemes::storage::chunk
