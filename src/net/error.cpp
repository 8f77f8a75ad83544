#include "net/error.h"

#include <cerrno>
#include <cstring>

namespace netdisp::net {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message, which may or may not be buf.
  return ::strerror_r(err, buf, sizeof buf);
}

void throw_errno(const std::string& what, int err) {
  throw Error(what + ": " + errno_text(err));
}

void throw_errno(const std::string& what) { throw_errno(what, errno); }

}  // namespace netdisp::net
