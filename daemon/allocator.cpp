// daemon/allocator: the settings jemalloc reads from the executable when it
// starts (linked into edgemes and the benchmarks, see daemon/CMakeLists.txt).
//
// jemalloc rather than glibc's malloc: in the ingest pipeline every poll's
// values are allocated on a CAF scheduler thread and freed on the writer's.
// glibc serves such cross-thread frees through the owning arena's lock and
// its consolidation; jemalloc returns them through per-thread caches. Side by
// side this doubled the pipeline's ingest on this box and cut the writer
// thread's CPU per sample (docs/BENCHMARKS.md, "The allocator").
//
// background_thread: unused pages go back to the OS from jemalloc's own
// thread after the decay time, also while the daemon idles between bursts —
// otherwise purging runs only on allocation paths, and a burst's pages could
// stay resident until the next one. dirty_decay_ms 2000 (default 10000): a
// query burst's freed pages leave within seconds; in a 12 min run at 1000
// machines with query bursts the default's RSS peaked 13 MiB above glibc's.
//
// tcache_max 1024 (default 32 KiB): each thread caches only small sizes, so
// the buffers of a 24 h query (a chunk's decoded values, a reply's JSON) go
// back to the shared arenas when freed instead of staying in the cache of
// whichever thread freed them. 90 min side by side at 1000
// machines with query bursts: median 83.4 vs 89.8 MiB, max 97.9 vs 106.4;
// ingest unchanged (docs/BENCHMARKS.md, "RSS and jemalloc's settings").
// dirty_decay_ms:0 capped RSS too (max 93.6) but halved the ingest ceiling.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true,dirty_decay_ms:2000,tcache_max:1024";
}
