// api/errors: the API's error replies.
//
// Every error the API gives is JSON {"error": {"code": ..., "message": ...}}
// (docs/API.md, "Errors"): `code` is stable and meant for programs, `message`
// is meant for a person and names the parameter or id at fault. Messages may
// echo names from a request or a machine: invalid UTF-8 in them is replaced,
// never thrown on.
#pragma once

#include "actors/messages.hpp"
#include "api/params.hpp"

#include <string>

namespace edgemes::api {

using actors::query_reply;

query_reply error_reply(int status, const std::string& code, const std::string& message);

// 400 bad_parameter with the parser's message.
query_reply bad_parameter(const param_error& e);

} // namespace edgemes::api
