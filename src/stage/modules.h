#pragma once
// Loading transport modules (stage/transport.h) on first use.
#include <string_view>

#include "stage/transport.h"

namespace netdisp::stage {

// The module of `scheme` ("srt": netdisp-srt.so), loaded once per process.
// Looked for in $NETDISP_MODULE_DIR when set, else beside the executable (a
// build tree), else in the install's module directory. Throws
// net::UsageError when this build has no such module (built without its
// library), net::Error when it cannot be loaded (the one line names the file
// and dlerror's reason).
const Transport& load_transport(std::string_view scheme);

}  // namespace netdisp::stage
