// api/handlers: one function per route of the table (api/route.hpp).
// The index lives with the table (routes.cpp), the reads in reads.cpp,
// /health in health.cpp, the admin backup in admin.cpp, products and their
// BOMs in products.cpp, work orders in work_orders.cpp.
#pragma once

#include "api/route.hpp"

namespace edgemes::api::handlers {

void index(const api_context& ctx, const request& req, httplib::Response& res);
void health(const api_context& ctx, const request& req, httplib::Response& res);
void lines(const api_context& ctx, const request& req, httplib::Response& res);
void line_summary(const api_context& ctx, const request& req, httplib::Response& res);
void machines(const api_context& ctx, const request& req, httplib::Response& res);
void machine(const api_context& ctx, const request& req, httplib::Response& res);
void samples(const api_context& ctx, const request& req, httplib::Response& res);
void series(const api_context& ctx, const request& req, httplib::Response& res);
void states(const api_context& ctx, const request& req, httplib::Response& res);
void floor(const api_context& ctx, const request& req, httplib::Response& res);
void floor_sparklines(const api_context& ctx, const request& req, httplib::Response& res);
void machine_oee(const api_context& ctx, const request& req, httplib::Response& res);
void line_oee(const api_context& ctx, const request& req, httplib::Response& res);
void floor_oee(const api_context& ctx, const request& req, httplib::Response& res);
void machine_oee_series(const api_context& ctx, const request& req, httplib::Response& res);
void line_oee_series(const api_context& ctx, const request& req, httplib::Response& res);
void backup(const api_context& ctx, const request& req, httplib::Response& res);
// products.cpp
void import_bom(const api_context& ctx, const request& req, httplib::Response& res);
void products(const api_context& ctx, const request& req, httplib::Response& res);
void product(const api_context& ctx, const request& req, httplib::Response& res);
void product_bom(const api_context& ctx, const request& req, httplib::Response& res);
// work_orders.cpp
void create_work_order(const api_context& ctx, const request& req, httplib::Response& res);
void start_work_order(const api_context& ctx, const request& req, httplib::Response& res);
void pause_work_order(const api_context& ctx, const request& req, httplib::Response& res);
void complete_work_order(const api_context& ctx, const request& req, httplib::Response& res);
void work_orders(const api_context& ctx, const request& req, httplib::Response& res);
void work_order(const api_context& ctx, const request& req, httplib::Response& res);

} // namespace edgemes::api::handlers
