// log_name_fuzz: modes::filename_safe and modes::log_path_for. The input is
// "PATH\0LISTEN"; without a NUL it is tried both as LISTEN (with the path
// logs/app.log) and as PATH (with the listen text [fe80::1%eth0]:9921).
// Properties (log_name.h):
//   - filename_safe keeps only [A-Za-z0-9._-]: never '/', '[', ']', ':', '%';
//     it drops '[' ']' and maps every other byte to exactly one '_';
//   - log_path_for never changes the directory of PATH and adds no '/';
//   - it inserts "." + filename_safe(LISTEN) before the extension of PATH's
//     file name (a dot that is not the name's first character), or appends
//     it when there is none: the extension is kept and the result never
//     equals PATH.
#include "fuzz_util.h"
#include "modes/log_name.h"

using namespace netdisp;

namespace {

bool allowed_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

void check_safe(std::string_view listen) {
  std::string safe = modes::filename_safe(listen);
  std::size_t brackets = 0;
  for (char c : listen) brackets += c == '[' || c == ']';
  FUZZ_EXPECT(safe.size() == listen.size() - brackets,
               "filename_safe('" + fuzz::printable(listen) + "') has length " + std::to_string(safe.size()));
  for (char c : safe)
    FUZZ_EXPECT(allowed_char(c), "filename_safe('" + fuzz::printable(listen) + "') = '" + fuzz::printable(safe) + "'");
}

void check_path(std::string_view path, std::string_view listen) {
  std::string out = modes::log_path_for(path, listen);
  auto what = [&] {
    return "log_path_for('" + fuzz::printable(path) + "', '" + fuzz::printable(listen) + "') = '" +
           fuzz::printable(out) + "'";
  };
  std::size_t slash = path.rfind('/');
  std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  FUZZ_EXPECT(out.compare(0, name_start, path.substr(0, name_start)) == 0, what() + ": directory changed");
  FUZZ_EXPECT(out.find('/', name_start) == std::string::npos, what() + ": '/' added to the file name");
  FUZZ_EXPECT(out != path, what() + ": same as the base path");

  std::string_view name = path.substr(name_start);
  std::size_t dot = name.rfind('.');
  std::size_t insert_at = dot != std::string_view::npos && dot > 0 ? name_start + dot : path.size();
  std::string expected = std::string(path.substr(0, insert_at)) + "." + modes::filename_safe(listen) +
                         std::string(path.substr(insert_at));
  FUZZ_EXPECT(out == expected, what() + ", expected '" + fuzz::printable(expected) + "'");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  std::size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    check_safe(text.substr(nul + 1));
    check_path(text.substr(0, nul), text.substr(nul + 1));
    return 0;
  }
  check_safe(text);
  check_path("logs/app.log", text);
  check_path(text, "[fe80::1%eth0]:9921");
  return 0;
}
