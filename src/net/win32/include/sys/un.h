#pragma once
// POSIX header name for the Windows build: net/win32/posix.h (forced into every file) has it all.
#include "net/win32/posix.h"
