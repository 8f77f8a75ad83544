#pragma once
// Included before every source file (meson.build: -include). fmt 9 defines
// its formatting engine, detail::vformat_to, in its header, so every file
// that logs through spdlog compiled its own copy (with the float writers,
// about 20 KB of the binary) although libfmt.so exports the same function.
// Declaring the instantiation extern makes those calls go to the library.
// GCC only: libfmt.so is built with it, and clang mangles this function's
// name differently, so a clang build (the sanitizer one) keeps its own copy.
#include <fmt/format.h>

#if FMT_VERSION >= 90000 && FMT_VERSION < 100000 && !defined(FMT_HEADER_ONLY) && !defined(__clang__)
FMT_BEGIN_NAMESPACE
FMT_BEGIN_DETAIL_NAMESPACE
extern template FMT_API void vformat_to<char>(buffer<char>&, basic_string_view<char>,
                                              basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
FMT_END_DETAIL_NAMESPACE
FMT_END_NAMESPACE
#endif
