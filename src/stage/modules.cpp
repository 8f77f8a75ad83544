#include "stage/modules.h"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "net/error.h"
#include "net/platform.h"
#include "netdisp_modules.h"
#include "version.h"

namespace netdisp::stage {
namespace {

struct Module {
  std::string_view scheme;
  bool built;                 // meson found its library (-Dsrt=auto ...)
  std::string_view library;   // what a build needs for it
};

constexpr std::array kModules = {
    Module{"srt", NETDISP_HAVE_SRT, "libsrt-gnutls-dev, -Dsrt=enabled"},
    Module{"norm", NETDISP_HAVE_NORM, "libnorm-dev, -Dnorm=enabled"},
    Module{"nats", NETDISP_HAVE_NATS, "libnats-dev, -Dnats=enabled"},
};

// The executable's directory: a build tree keeps the modules beside it.
std::string executable_dir() {
  std::string path = net::executable_path();
  return path.substr(0, path.rfind('/'));
}

std::string module_path(std::string_view scheme) {
  std::string file = "netdisp-" + std::string(scheme) + ".so";
  if (const char* dir = std::getenv("NETDISP_MODULE_DIR"); dir && *dir) return std::string(dir) + "/" + file;
  std::string beside = executable_dir() + "/" + file;
  if (::access(beside.c_str(), F_OK) == 0) return beside;
  return std::string(NETDISP_MODULE_DIR) + "/" + file;
}

const Transport& load(std::string_view scheme, const Module* module) {
  if (!module || !module->built)
    throw net::UsageError(std::string(scheme) + ":// is not in this build of netdisp (it needs " +
                          std::string(module ? module->library : "a module") + ")");
  std::string path = module_path(scheme);
  // RTLD_LOCAL: each module keeps its own copy of the core's classes and
  // resolves to it; RTLD_NOW: a missing symbol is an error here, not later.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw net::Error(std::string(scheme) + "://: cannot load the module: " + ::dlerror());
  auto entry = reinterpret_cast<const Transport* (*)()>(::dlsym(handle, "netdisp_transport"));
  if (!entry) throw net::Error(std::string(scheme) + "://: " + path + " is not a netdisp module");
  const Transport* transport = entry();
  if (std::strcmp(transport->version, NETDISP_VERSION) != 0)
    throw net::Error(std::string(scheme) + "://: " + path + " is from netdisp " + transport->version +
                     ", this is " + NETDISP_VERSION);
  return *transport;  // never unloaded: its threads and objects may outlive any caller
}

}  // namespace

const Transport& load_transport(std::string_view scheme) {
  static std::mutex mutex;
  static std::array<const Transport*, kModules.size()> loaded{};
  std::lock_guard lock(mutex);
  for (std::size_t i = 0; i < kModules.size(); ++i) {
    if (kModules[i].scheme != scheme) continue;
    if (!loaded[i]) loaded[i] = &load(scheme, &kModules[i]);
    return *loaded[i];
  }
  return load(scheme, nullptr);  // throws: no such module
}

}  // namespace netdisp::stage
