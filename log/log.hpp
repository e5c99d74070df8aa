// log: one line per event on stderr, "2026-11-25T16:30:00.123Z LEVEL component: text".
//
// Lines are written whole under a mutex, so threads never interleave within a
// line. Repeated identical warnings from one place are the caller's business
// (e.g. the writer logs a failing commit once per error change, not per retry).
#pragma once

#include <string>

namespace edgemes::log {

enum class level { debug, info, warn, error };

void set_min_level(level l);
void write(level l, const std::string& component, const std::string& text);

inline void info(const std::string& c, const std::string& t) { write(level::info, c, t); }
inline void warn(const std::string& c, const std::string& t) { write(level::warn, c, t); }
inline void error(const std::string& c, const std::string& t) { write(level::error, c, t); }
inline void debug(const std::string& c, const std::string& t) { write(level::debug, c, t); }

} // namespace edgemes::log
