#include "stage/tcp_acceptor.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "net/error.h"

namespace netdisp::stage {

TcpAcceptor::TcpAcceptor(net::TcpListener listener, net::AccessList allow, std::size_t max_clients,
                         PipeFactory factory)
    : fd_(std::move(listener.fd)),
      bound_(listener.bound),
      allow_(std::move(allow)),
      max_clients_(max_clients),
      factory_(std::move(factory)) {}

void TcpAcceptor::run(const Control& control) {
  while (!control.stop_requested()) {
    pollfd fds[3] = {{fd_.get(), POLLIN, 0}, {control.stop_fd(), POLLIN, 0}, {ended_.handle(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) continue;  // EINTR
    if (fds[2].revents) {
      ended_.clear();
      reap(false);
    }
    if (fds[0].revents) accept_one(control);
  }
  reap(true);
}

void TcpAcceptor::accept_one(const Control& control) {
  int error = 0;
  net::Accepted client = net::accept_client(fd_.get(), &error);
  if (error) {
    // EMFILE and the like: the connection stays queued; say so, but not 1000 times a second.
    if (log_.allow()) spdlog::error("{}: accept: {}", name(), net::errno_text(error));
    ::poll(nullptr, 0, 100);
    return;
  }
  if (!client.fd.valid()) return;
  std::string peer = client.peer.to_string();
  if (!allow_.allows(client.peer)) {
    add(refused_, 1);
    spdlog::warn("{}: refused client {} (not in --allow)", name(), peer);
    return;
  }
  std::size_t connected = 0;
  {
    // A client whose thread ended but is not yet joined no longer counts.
    std::lock_guard lock(mutex_);
    for (const Client& other : clients_) connected += other.done.load() ? 0 : 1;
  }
  if (connected >= max_clients_) {
    add(over_limit_, 1);
    spdlog::warn("{}: closed client {} at once: --max-clients {} reached", name(), peer, max_clients_);
    return;
  }
  try {
    start(factory_(std::move(client)), control);
    add(accepted_, 1);
    spdlog::info("tcp client {} connected ({} clients)", peer, connected + 1);
  } catch (const std::exception& e) {
    add(failed_, 1);
    spdlog::error("tcp client {}: {}", peer, e.what());
  }
}

void TcpAcceptor::start(std::unique_ptr<Pipe> pipe, const Control& control) {
  std::lock_guard lock(mutex_);
  Client& client = clients_.emplace_back();
  client.pipe = std::move(pipe);
  client.thread = std::thread([this, &client, &control] {
    try {
      client.pipe->run(control);
    } catch (const std::exception& e) {
      spdlog::error("tcp client: {}", e.what());
    }
    client.done.store(true);
    ended_.notify();
  });
}

// Joins finished client threads (every one when `all`) and frees their sockets.
void TcpAcceptor::reap(bool all) {
  std::list<Client> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = clients_.begin(); it != clients_.end();) {
      auto next = std::next(it);
      if (all || it->done.load()) finished.splice(finished.end(), clients_, it);
      it = next;
    }
  }
  for (Client& client : finished) client.thread.join();
}

void TcpAcceptor::report(StatsRows& rows) const {
  std::lock_guard lock(mutex_);
  StageStats& row = rows.emplace_back();
  row.role = StageStats::Role::kListener;
  row.endpoint = endpoint_name(bound_.is_unix() ? "unix" : "tcp", bound_.to_string());
  row.set(Stat::kClients, clients_.size()).set(Stat::kAccepted, get(accepted_));
  row.set(Stat::kRefusedClients, get(refused_)).set(Stat::kOverLimitClients, get(over_limit_));
  row.set(Stat::kFailedClients, get(failed_));
  row.text = fmt::format("{}: {} clients now; {} accepted, {} refused by --allow, {} over --max-clients, {} failed to start",
                         name(), clients_.size(), get(accepted_), get(refused_), get(over_limit_), get(failed_));
  for (const Client& client : clients_) client.pipe->report(rows);
}

}  // namespace netdisp::stage
