// net::SignalFd with real POSIX signals (kill, pthread_kill). Not built for
// Windows, which has console control events instead (tests/windows/*.sh stop
// netdisp.exe with Ctrl-C, that is SIGINT under Wine).
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <string_view>

#include "net/platform.h"
#include "testing.h"

using namespace netdisp::net;

namespace {

bool readable(Handle fd, int timeout_ms) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, timeout_ms) == 1;
}

}  // namespace

TEST_CASE("a SignalFd delivers a blocked signal as a readable descriptor", "[platform]") {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, nullptr, &old);
  {
    SignalFd signals(set);
    CHECK(signals.take() == 0);
    // signalfd reads the calling thread's pending signals: direct it there,
    // since another thread of this test binary may not block SIGUSR2. The
    // portable waiter thread takes process-directed signals only.
    if (std::string_view(features().flavour) == "linux") {
      ::pthread_kill(::pthread_self(), SIGUSR2);
    } else {
      ::kill(::getpid(), SIGUSR2);
    }
    REQUIRE(readable(signals.handle(), 2000));
    CHECK(signals.take() == SIGUSR2);
    CHECK(signal_name(SIGUSR2) == "SIGUSR2");
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

