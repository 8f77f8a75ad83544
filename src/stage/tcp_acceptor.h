#pragma once
// TcpAcceptor: accepts TCP clients on one listening socket and gives each its
// own pipe on its own thread (built by the factory: for the reverse-proxy, a
// socket joined to the multicast group feeding a TcpSink). Finished client
// threads are joined as soon as they end, so their sockets are closed and
// the thread count comes back down while the acceptor runs.
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "net/cidr.h"
#include "net/platform.h"
#include "net/tcp_socket.h"
#include "stage/control.h"
#include "stage/io.h"
#include "stage/pipe.h"
#include "stage/worker.h"

namespace netdisp::stage {

class TcpAcceptor final : public Worker {
 public:
  // Builds the pipe for one accepted client; may throw (the client is then closed).
  using PipeFactory = std::function<std::unique_ptr<Pipe>(net::Accepted client)>;

  TcpAcceptor(net::TcpListener listener, net::AccessList allow, std::size_t max_clients, PipeFactory factory);

  // The accept loop; returns after a stop request, once every client thread has ended.
  void run(const Control& control) override;

  // Its own row (role kListener), then every connected client's pipe's; safe from any thread.
  void report(StatsRows& rows) const override;

 private:
  struct Client {
    std::unique_ptr<Pipe> pipe;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_one(const Control& control);
  // "tcp 0.0.0.0:9921", or "unix /run/x.sock".
  std::string name() const { return (bound_.is_unix() ? "unix " : "tcp ") + bound_.to_string(); }
  void start(std::unique_ptr<Pipe> pipe, const Control& control);
  void reap(bool all);

  net::UniqueFd fd_;
  net::Address bound_;
  net::AccessList allow_;
  std::size_t max_clients_;
  PipeFactory factory_;
  net::WakeFd ended_;  // a client thread finished and can be joined
  mutable std::mutex mutex_;  // guards clients_ against stats() from the main thread
  std::list<Client> clients_;
  Counter accepted_{0}, refused_{0}, over_limit_{0}, failed_{0};
  LogLimit log_;
};

}  // namespace netdisp::stage
