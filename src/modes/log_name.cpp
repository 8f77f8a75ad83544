#include "modes/log_name.h"

#include <cctype>

namespace netdisp::modes {

std::string filename_safe(std::string_view listen_text) {
  std::string safe;
  for (char c : listen_text) {
    if (c == '[' || c == ']') continue;
    bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    safe += keep ? c : '_';
  }
  return safe;
}

std::string log_path_for(std::string_view path, std::string_view listen_text) {
  std::size_t slash = path.rfind('/');
  std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  std::size_t dot = path.rfind('.');
  // An extension is a dot inside the file name, not its first character ("logs/.hidden").
  bool has_extension = dot != std::string_view::npos && dot > name_start;
  std::string tag = "." + filename_safe(listen_text);
  if (!has_extension) return std::string(path) + tag;
  return std::string(path.substr(0, dot)) + tag + std::string(path.substr(dot));
}

}  // namespace netdisp::modes
