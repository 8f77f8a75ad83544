#include "net/error.h"

#include <cerrno>
#include <cstring>

namespace netdisp::net {

// errno_text is in the platform files (net/platform_*.cpp): strerror_r differs.

void throw_errno(const std::string& what, int err) {
  throw Error(what + ": " + errno_text(err));
}

void throw_errno(const std::string& what) { throw_errno(what, errno); }

}  // namespace netdisp::net
