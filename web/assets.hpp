// web/assets: the floor dashboard's files, embedded in the binary at build time
// (web/CMakeLists.txt, web/embed.cmake): web/*.html|js|css|svg and uPlot's
// uPlot.iife.min.js / uPlot.min.css. Nothing is read from disk at run time.
//
// Promises: the table is immutable and lives for the whole program; each
// asset's ETag is a strong tag (quoted hex of its content's hash) that changes
// whenever a byte of the file does. Safe to use from any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace edgemes::web {

struct asset {
  const char* name;          // file name, e.g. "app.js" (no directory)
  const char* content_type;  // e.g. "text/javascript; charset=utf-8"
  const char* etag;          // strong ETag, quotes included: "\"9f86d081...\""
  const unsigned char* data;
  size_t size;               // bytes in data
};

// The asset with this file name, or nullptr. Names are compared exactly, so a
// path such as "../x" or "a/b.js" can never match.
const asset* find(std::string_view name);

} // namespace edgemes::web
