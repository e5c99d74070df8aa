// The head's memory is a figure (/health: writer.head_polls, head_bytes):
// it follows the polls held, block by block, and falls when a compaction
// moves polls into chunks.
#include "storage/head.hpp"
#include "tests/storage/fixture.hpp"

using namespace edgemes::storage;
using namespace edgemes::storage::test;

namespace {

// One block of `slots` values and `capacity` entries: its fixed part plus
// the entries' timestamps, log ids and values.
int64_t block_of(size_t slots, size_t capacity = 64) {
  return static_cast<int64_t>(sizeof(head::block) +
                              capacity * (slots * sizeof(double) + 2 * sizeof(int64_t)));
}

} // namespace

TEST_CASE("the head counts its polls and the bytes of their blocks", "[storage][head]") {
  catalogued_file o;
  auto h = o.w->shared_head();
  CHECK(h->polls() == 0);
  CHECK(h->bytes() == 0);

  std::vector<poll_row> polls;
  for (int64_t ts = 0; ts < 300'000; ts += 1000)
    polls.push_back({o.printer, ts, {1, 2, 3}});
  o.w->commit(polls, {}, {});
  CHECK(h->polls() == 300);
  // 300 polls: blocks of 64 and 128 entries full, one of 256 holding 108.
  CHECK(h->bytes() == block_of(3, 64) + block_of(3, 128) + block_of(3, 256));

  // Windows [0, 120) and [120, 240) s move to chunks; 60 polls stay: one block.
  REQUIRE(o.w->compaction_due());
  o.w->compact();
  CHECK(h->polls() == 60);
  CHECK(h->bytes() == block_of(3));

  o.w->compact(true);
  CHECK(h->polls() == 0);
  CHECK(h->bytes() == 0);
}

TEST_CASE("past its memory limit the head spills its oldest commits and stays under the limit",
          "[storage][head]") {
  edgemes::test::temp_dir dir;
  const std::string path = dir.file("edge.db");
  layout_options layout;
  layout.head_limit_bytes = block_of(3, 64) + block_of(3, 128) + block_of(3, 256);
  auto w = writer::open(path, options{}, layout);
  auto bind = w->sync_catalog(test_lines(), test_machines());
  const int64_t printer = bind.at("smt1-printer1").machine_id;
  auto h = w->shared_head();

  // 20 commits of 64 polls: past three blocks (448 polls), the oldest
  // commits go until about half the limit is left.
  int64_t ts = 0;
  for (int c = 0; c < 20; ++c) {
    std::vector<poll_row> polls;
    for (int i = 0; i < 64; ++i, ts += 1000)
      polls.push_back({printer, ts, {1, 2, static_cast<double>(ts)}});
    w->commit(polls, {}, {});
    CHECK(h->bytes() <= layout.head_limit_bytes);
  }
  CHECK(w->head_spills() > 0);
  CHECK(h->spilled_below() > 0);
  CHECK(h->polls() < 448);
  CHECK(h->spilled_newest(printer) >= 0);
  auto snap = h->load(printer);
  REQUIRE(snap);
  CHECK(snap->spilled_below == h->spilled_below());

  // Readers still see every poll: the spilled ones come from the log.
  auto rd = reader::open(path, options{}, h);
  auto all = rd->samples(printer, 2, 0, ts, 1'000'000, nullptr);
  REQUIRE(all.size() == 20 * 64);
  for (size_t i = 0; i < all.size(); ++i)
    REQUIRE(all[i].value == static_cast<double>(i * 1000));

  // A poll at a spilled timestamp is a duplicate, found in the log.
  auto stats = w->commit({{printer, 5000, {9, 9, 9}}}, {}, {});
  CHECK(stats.duplicates == 1);

  // Compaction moves spilled and held polls alike; when no spilled row is
  // left the head stops sending readers to the log.
  w->compact(true);
  CHECK(h->polls() == 0);
  CHECK(h->spilled_below() == 0);
  all = rd->samples(printer, 2, 0, ts, 1'000'000, nullptr);
  CHECK(all.size() == 20 * 64);
}
