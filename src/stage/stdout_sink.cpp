#include "stage/stdout_sink.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "net/error.h"

namespace netdisp::stage {
namespace {

std::mutex stdout_lock;

}  // namespace

bool StdoutSink::write(const Batch& batch) {
  WriteResult result;
  {
    std::lock_guard lock(stdout_lock);
    result = write_all(STDOUT_FILENO, batch.datagrams);
  }
  add(bytes_, result.written);
  if (result.error == EPIPE) {
    spdlog::warn("stdout was closed: --tee stops copying, the data still goes on");
    return false;
  }
  if (result.error) {
    add(errors_, 1);
    if (log_.allow()) spdlog::error("write stdout (--tee): {}", net::errno_text(result.error));
  }
  return true;
}

std::string StdoutSink::stats() const {
  return fmt::format("  -> stdout: wrote {} bytes; {} write errors", get(bytes_), get(errors_));
}

}  // namespace netdisp::stage
