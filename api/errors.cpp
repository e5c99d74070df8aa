#include "api/errors.hpp"

#include "api/json_out.hpp"

namespace edgemes::api {

query_reply error_reply(int status, const std::string& code, const std::string& message) {
  json_out w;
  w.begin_object().key("error").begin_object();
  w.key("code").value(code);
  w.key("message").value(message);
  w.end_object().end_object();
  return {status, w.take()};
}

query_reply bad_parameter(const param_error& e) {
  return error_reply(400, "bad_parameter", e.message);
}

} // namespace edgemes::api
