// net::InputTimer where there is no timerfd/epoll (net/platform.h): the
// portable POSIX flavour and Windows share it; each gives its wake-up pair,
// poll and thread start through net/wake_pair.h. Linux's is in
// platform_linux.cpp.
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "net/platform.h"
#include "net/wake_pair.h"

namespace netdisp::net {

// It polls every registered input that is not signalled yet, with the
// nearest deadline as timeout, and writes a byte to an entry's wake-up pair when its
// input turns readable or its deadline passes. The owner clears that byte
// (rearm, disarm, take_expired) before it waits again, so handle() is as
// level-triggered as Linux's epoll set.

struct InputTimer::Entry {
  Handle input = kNoHandle;  // watched while pollable and not signalled
  bool pollable = false;
  Handle read_end = kNoHandle;
  UniqueFd write_end;
  std::optional<Clock::time_point> deadline;
  bool signalled = false;  // a byte is in the pipe
  bool expired = false;    // the deadline passed
  bool removed = false;
};

namespace {

class TimerThread {
 public:
  static TimerThread& get() {
    static TimerThread* instance = new TimerThread;  // never destroyed: its thread runs until exit
    return *instance;
  }
  std::mutex mutex;
  std::vector<std::shared_ptr<InputTimer::Entry>> entries;
  void poke() { wake::poke(poke_write_.get()); }
  static void signal(InputTimer::Entry& entry) {
    if (entry.signalled || entry.removed) return;
    wake::poke(entry.write_end.get());
    entry.signalled = true;
  }

 private:
  TimerThread() {
    wake::make_pair(poke_read_, poke_write_);
    wake::start_thread([this] { run(); }).detach();
  }
  void run();
  UniqueFd poke_read_, poke_write_;
};

void TimerThread::run() {
  std::vector<pollfd> fds;
  std::vector<std::shared_ptr<InputTimer::Entry>> watched;
  for (;;) {
    fds.assign(1, pollfd{poke_read_.get(), POLLIN, 0});
    watched.clear();
    int timeout = -1;
    {
      std::lock_guard lock(mutex);
      auto now = InputTimer::Clock::now();
      for (auto& entry : entries) {
        if (entry->signalled) continue;
        if (entry->deadline && *entry->deadline <= now) {
          entry->expired = true;
          signal(*entry);
          continue;
        }
        if (entry->deadline) {
          auto ms = std::chrono::ceil<std::chrono::milliseconds>(*entry->deadline - now).count();
          timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
        }
        if (entry->pollable) {
          fds.push_back({entry->input, POLLIN, 0});
          watched.push_back(entry);
        }
      }
    }
    if (!wake::poll_handles(fds, timeout)) continue;
    if (fds[0].revents) wake::drain(poke_read_.get());
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < watched.size(); ++i)
      if (fds[i + 1].revents) signal(*watched[i]);
  }
}


}  // namespace

InputTimer::InputTimer(Handle input) : entry_(std::make_shared<Entry>()) {
  wake::make_pair(a_, entry_->write_end);
  entry_->read_end = a_.get();
  entry_->input = input;
  entry_->pollable = input_pollable_ = wake::input_pollable(input);
  TimerThread& thread = TimerThread::get();
  std::lock_guard lock(thread.mutex);
  thread.entries.push_back(entry_);
  thread.poke();
}

InputTimer::~InputTimer() {
  TimerThread& thread = TimerThread::get();
  {
    std::lock_guard lock(thread.mutex);
    entry_->removed = true;
    std::erase(thread.entries, entry_);
  }
  thread.poke();
}

Handle InputTimer::handle() const { return a_.get(); }

void InputTimer::arm(Clock::time_point when) {
  TimerThread& thread = TimerThread::get();
  std::lock_guard lock(thread.mutex);
  entry_->deadline = when;
  entry_->expired = false;
  armed_ = true;
  thread.poke();
}

void InputTimer::disarm() {
  if (!armed_) return;
  TimerThread& thread = TimerThread::get();
  std::lock_guard lock(thread.mutex);
  entry_->deadline.reset();
  entry_->expired = false;
  entry_->signalled = false;
  wake::drain(a_.get());
  armed_ = false;
  thread.poke();  // it looks at the input again: still readable means signalled again
}

bool InputTimer::take_expired() {
  TimerThread& thread = TimerThread::get();
  std::lock_guard lock(thread.mutex);
  bool expired = entry_->expired || (entry_->deadline && *entry_->deadline <= Clock::now());
  if (!expired) return false;
  entry_->deadline.reset();
  entry_->expired = false;
  entry_->signalled = false;
  wake::drain(a_.get());
  armed_ = false;
  thread.poke();
  return true;
}

void InputTimer::rearm() {
  TimerThread& thread = TimerThread::get();
  std::lock_guard lock(thread.mutex);
  if (!entry_->signalled || entry_->expired) return;  // an expired deadline stays readable until disarmed
  entry_->signalled = false;
  wake::drain(a_.get());
  thread.poke();
}

}  // namespace netdisp::net
