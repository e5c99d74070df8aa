#include "actors/messages.hpp"

#include <caf/actor_system_config.hpp>

namespace edgemes::actors {

// Each name equals the type_name its inspect() overload gives: the name is
// what crosses the wire, so it must not change once remote nodes exist.
// add_message_type<T> registers std::vector<T> too.
void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<storage::poll_row>("edgemes::storage::poll_row");
  cfg.add_message_type<storage::state_row>("edgemes::storage::state_row");
  cfg.add_message_type<storage::status_row>("edgemes::storage::status_row");
  cfg.add_message_type<poll_report>("edgemes::actors::poll_report");
  cfg.add_message_type<writer_totals>("edgemes::actors::writer_totals");
  cfg.add_message_type<query_reply>("edgemes::actors::query_reply");
}

} // namespace edgemes::actors
