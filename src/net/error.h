#pragma once
// Setup errors of the net layer. The message says what was being done and
// why, e.g. "bind 0.0.0.0:9921: Address already in use"; main() prints it as
// one line and picks the exit code.
#include <stdexcept>
#include <string>

namespace netdisp::net {

// A runtime failure (exit 1): a syscall refused, a name did not resolve.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user wrote something that cannot mean anything (exit 2): a malformed
// address, a port out of range.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "what: strerror(errno)", built from the errno of the failed call.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

// strerror that is safe to call from any thread.
std::string errno_text(int err);

}  // namespace netdisp::net
