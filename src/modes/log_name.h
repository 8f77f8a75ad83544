#pragma once
// How the server names its log files when it listens on several addresses:
// the listen address, made safe for a file name, goes before FILE's
// extension (or at the end when FILE has none):
//   logs/app.log + 0.0.0.0:9921        -> logs/app.0.0.0.0_9921.log
//   logs/app.log + [::1]:9922          -> logs/app.__1_9922.log
//   logs/app     + [fe80::1%eth0]:9923 -> logs/app.fe80__1_eth0_9923
// Letters, digits, '.' and '-' stay; '[' and ']' go; every other character
// (':', '%', '/') becomes '_'. The directory is never changed.
#include <string>
#include <string_view>

namespace netdisp::modes {

std::string filename_safe(std::string_view listen_text);
std::string log_path_for(std::string_view path, std::string_view listen_text);

}  // namespace netdisp::modes
