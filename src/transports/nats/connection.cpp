#include "transports/nats/connection.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "net/error.h"

namespace netdisp::transports::nats {

struct Connection::Events {
  std::string shown;
  stage::Counter reconnects{0}, disconnects{0};
  stage::LogLimit error_log;  // the library's asynchronous errors (its callback thread only)
  std::mutex mutex;
  std::condition_variable closed_signal;
  bool closing = false;  // our own close: its disconnection is no news
  bool closed = false;
};

namespace {

// The library refuses a setting only for a bad argument: a bug here, or an
// unreadable file, which parse_target checked already.
void check(natsStatus status, const Target& target, const std::string& what) {
  if (status != NATS_OK) throw net::Error(target.shown + ": " + what + ": " + status_text(status));
}

// After the last natsConnection_Destroy the library's threads may still be
// unrolling (nats.h says so for nats_CloseAndWait): at exit a TLS
// connection's reader thread still took OpenSSL's locks while OpenSSL's own
// exit handler freed them (ThreadSanitizer, nats_tls_auth). The library is
// closed, and its threads waited for, before that handler runs: exit runs
// handlers in the reverse order of their registration, and ours is
// registered after a connection was made, when OpenSSL (which libnats starts
// only for TLS) has registered its own; once more after the first TLS
// connection. A second close finds the library closed and returns at once.
constexpr std::int64_t kCloseWaitMs = 500;
void close_library() { nats_CloseAndWait(kCloseWaitMs); }
void close_library_at_exit(bool tls) {
  static std::once_flag plain, secure;
  std::call_once(tls ? secure : plain, [] { std::atexit(close_library); });
}

std::string server_list(const Target& target) {
  std::string list;
  for (const std::string& server : target.servers) list += (list.empty() ? "" : ", ") + server.substr(7);
  return list;
}

}  // namespace

SignalsBlocked::SignalsBlocked() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved_);
}

SignalsBlocked::~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

std::string status_text(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* last_error = nats_GetLastError(&last);
  // The detail ("(conn.c:2088): Authorization Violation") without its source
  // position; left out when it only repeats the status.
  std::string detail = last_error && last == status ? last_error : "";
  if (detail.starts_with('(')) {
    auto end = detail.find("): ");
    detail = end == std::string::npos ? "" : detail.substr(end + 3);
  }
  if (!detail.empty() && detail != text) text += ": " + detail;
  return text;
}

Connection::Connection(const Target& target) : target_(target), events_(new Events) {
  events_->shown = target.shown;
  SignalsBlocked blocked;  // natsOptions_Create opens the library: its threads start here
  try {
    check(natsOptions_Create(&options_), target, "options");
    std::vector<const char*> servers;
    for (const std::string& server : target.servers) servers.push_back(server.c_str());
    check(natsOptions_SetServers(options_, servers.data(), static_cast<int>(servers.size())), target, "servers");
    if (!target.user.empty())
      check(natsOptions_SetUserInfo(options_, target.user.c_str(), target.password.c_str()), target, "user");
    if (!target.token.empty()) check(natsOptions_SetToken(options_, target.token.c_str()), target, "token");
    if (!target.creds.empty())
      check(natsOptions_SetUserCredentialsFromFiles(options_, target.creds.c_str(), nullptr), target,
            "creds=" + target.creds);
    if (target.tls) check(natsOptions_SetSecure(options_, true), target, "tls");
    if (!target.ca.empty())
      check(natsOptions_LoadCATrustedCertificates(options_, target.ca.c_str()), target, "ca=" + target.ca);
    if (!target.cert.empty())
      check(natsOptions_LoadCertificatesChain(options_, target.cert.c_str(), target.key.c_str()), target,
            "cert=" + target.cert);
    check(natsOptions_SetName(options_, target.name.empty() ? "netdisp" : target.name.c_str()), target, "name");
    check(natsOptions_SetTimeout(options_, kConnectTimeoutMs), target, "timeout");
    check(natsOptions_SetMaxReconnect(options_, -1), target, "reconnect");
    check(natsOptions_SetReconnectWait(options_, kReconnectWaitMs), target, "reconnect wait");
    check(natsOptions_SetReconnectBufSize(options_, kReconnectBuffer), target, "reconnect buffer");
    check(natsOptions_SetDisconnectedCB(options_, on_disconnected, events_), target, "callback");
    check(natsOptions_SetReconnectedCB(options_, on_reconnected, events_), target, "callback");
    check(natsOptions_SetClosedCB(options_, on_closed, events_), target, "callback");
    check(natsOptions_SetErrorHandler(options_, on_error, events_), target, "callback");
    natsStatus status = natsConnection_Connect(&connection_, options_);
    close_library_at_exit(target.tls || !target.ca.empty() || !target.cert.empty());
    if (status != NATS_OK)
      throw net::Error(target.shown + ": cannot connect to " + server_list(target) + ": " + status_text(status));
  } catch (...) {
    natsOptions_Destroy(options_);
    delete events_;  // no connection: no callback will come
    throw;
  }
  spdlog::debug("{}: connected", target.shown);
}

Connection::~Connection() {
  // The library calls back from its own thread after the close (disconnected,
  // then closed): the events stay until the closed callback said it ran. Were
  // it late (a stuck library thread), they are left behind rather than freed
  // under it.
  {
    std::lock_guard lock(events_->mutex);
    events_->closing = true;
  }
  natsConnection_Close(connection_);
  bool closed;
  {
    std::unique_lock lock(events_->mutex);
    closed = events_->closed_signal.wait_for(lock, std::chrono::seconds(1), [this] { return events_->closed; });
  }
  natsConnection_Destroy(connection_);
  natsOptions_Destroy(options_);
  if (closed) delete events_;
}

std::uint64_t Connection::reconnects() const { return stage::get(events_->reconnects); }
std::uint64_t Connection::disconnects() const { return stage::get(events_->disconnects); }

Connection::Counts Connection::counts() const {
  Counts counts;
  natsStatistics* stats = nullptr;
  if (natsStatistics_Create(&stats) != NATS_OK) return counts;
  std::uint64_t reconnects = 0;  // counted by our callback, which names the server
  if (natsConnection_GetStats(connection_, stats) == NATS_OK)
    natsStatistics_GetCounts(stats, &counts.in_msgs, &counts.in_bytes, &counts.out_msgs, &counts.out_bytes,
                             &reconnects);
  natsStatistics_Destroy(stats);
  return counts;
}

void Connection::on_disconnected(natsConnection*, void* closure) {
  auto* events = static_cast<Events*>(closure);
  std::lock_guard lock(events->mutex);
  if (events->closing) return;
  stage::add(events->disconnects, 1);
  spdlog::warn("{}: disconnected from the server; reconnecting", events->shown);
}

void Connection::on_reconnected(natsConnection* connection, void* closure) {
  auto* events = static_cast<Events*>(closure);
  stage::add(events->reconnects, 1);
  char url[256] = "";
  natsConnection_GetConnectedUrl(connection, url, sizeof url);
  std::string server = url;
  if (auto at = server.find('@'); at != std::string::npos) server = "nats://" + server.substr(at + 1);
  spdlog::info("{}: reconnected to {}", events->shown, server);
}

void Connection::on_closed(natsConnection*, void* closure) {
  auto* events = static_cast<Events*>(closure);
  std::lock_guard lock(events->mutex);
  events->closed = true;
  events->closed_signal.notify_all();
}

void Connection::on_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
  auto* events = static_cast<Events*>(closure);
  if (!events->error_log.allow()) return;
  std::uint64_t held = events->error_log.take_suppressed();
  spdlog::warn("{}: {}{}", events->shown, natsStatus_GetText(status),
               held ? " (" + std::to_string(held) + " more such reports in the last 10 s)" : std::string());
}

}  // namespace netdisp::transports::nats
