#pragma once
// Helpers shared by the libFuzzer targets: turning the input into text and
// failing loudly (abort, so libFuzzer saves the input) when a property breaks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace netdisp::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property of the code under test does not hold: print it and abort.
[[noreturn]] inline void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz property broken: %s\n", what.c_str());
  std::abort();
}

// FUZZ_EXPECT(condition, message): the message (a std::string expression) is
// only built when the condition fails, which keeps the targets fast.
#define FUZZ_EXPECT(condition, what)             \
  do {                                           \
    if (!(condition)) ::netdisp::fuzz::broken(what); \
  } while (0)

// Splits on `separator`; an empty input gives no pieces.
inline std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> pieces;
  if (text.empty()) return pieces;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    pieces.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return pieces;
}

// Command line text shows NULs and control bytes as \xNN in messages.
inline std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace netdisp::fuzz
