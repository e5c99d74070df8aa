// Compiled only by tests/architecture: once in a target that does not link
// edgemes_api (must fail: no include path reaches api/), once in one that does.
#include "api/server.hpp"

int layer_probe() {
  return edgemes::api::server_settings{}.port;
}
