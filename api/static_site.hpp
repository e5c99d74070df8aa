// api/static_site: serves the floor dashboard (docs/DASHBOARD.md) from the
// files embedded in the binary (web/assets): `GET /` is index.html, and
// `GET /assets/<file>` the page's script, styles, icon and uPlot.
//
// Promises: nothing is read from disk (a path can only name an embedded file,
// so traversal is impossible); every reply carries its Content-Type, a strong
// ETag with `Cache-Control: no-cache` (a reload costs a 304 per file), and a
// Content-Security-Policy that allows scripts, styles and fetches from this
// origin only (no inline script, no framing). An unknown file under /assets/
// answers 404 JSON like every other unknown path.
//
// These paths are served without the API token (server.cpp): they hold the
// same public code for everyone and no plant data; every API call the page
// makes still needs the token when api.token is set.
#pragma once

#include <string>

namespace httplib {
class Server;
}

namespace edgemes::api::static_site {

// True for the paths this module serves: "/" and "/assets/...".
bool is_site_path(const std::string& path);

// Registers GET (and so HEAD) / and /assets/<file> on `http`.
void add_routes(httplib::Server& http);

} // namespace edgemes::api::static_site
