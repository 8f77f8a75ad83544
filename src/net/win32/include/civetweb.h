#pragma once
// The Windows build has no civetweb (Debian ships it for Linux only): these
// stand-ins make --metrics-addr fail at start with one line saying so.
#include <cstddef>

struct mg_context;
struct mg_connection;
struct mg_callbacks {
  int (*log_message)(const mg_connection*, const char*);
};
struct mg_request_info {
  const char* request_method;
};
struct mg_server_port {
  int protocol, port, is_ssl, is_redirect, _reserved1, _reserved2, _reserved3, _reserved4;
};
inline unsigned mg_init_library(unsigned) { return 0; }
inline unsigned mg_check_feature(unsigned) { return 8; }  // IPv6: say yes, mg_start refuses anyway
inline mg_context* mg_start(const mg_callbacks* callbacks, void*, const char**) {
  if (callbacks && callbacks->log_message)
    callbacks->log_message(nullptr, "not in the Windows build (no civetweb for it); use --stats-interval");
  return nullptr;
}
inline void mg_stop(mg_context*) {}
inline void mg_set_request_handler(mg_context*, const char*, int (*)(mg_connection*, void*), void*) {}
inline int mg_get_server_ports(const mg_context*, int, mg_server_port*) { return 0; }
inline const mg_request_info* mg_get_request_info(const mg_connection*) { return nullptr; }
inline int mg_send_http_error(mg_connection*, int, const char*, ...) { return 0; }
inline int mg_send_http_ok(mg_connection*, const char*, long long) { return 0; }
inline int mg_write(mg_connection*, const void*, std::size_t) { return 0; }
