#pragma once
// dlopen(3) for the Windows build: LoadLibrary/GetProcAddress. The Windows
// build has no transport modules (srt, norm, nats are off there), so this
// is only reached to say a scheme is not in the build.
#include "net/win32/posix.h"

#define RTLD_NOW 2
#define RTLD_LOCAL 0
inline void* dlopen(const char* path, int) { return reinterpret_cast<void*>(LoadLibraryA(path)); }
inline void* dlsym(void* handle, const char* name) {
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(handle), name));
}
inline const char* dlerror() { return "LoadLibrary failed"; }
