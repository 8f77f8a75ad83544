#include "modes/progress.h"

#include <cstdint>
#include <limits>

#include "testing.h"

using netdisp::modes::format_bytes;
using netdisp::modes::format_duration;
using netdisp::modes::format_rate;
using netdisp::modes::kProgressWidth;
using netdisp::modes::progress_text;
using netdisp::modes::ProgressState;

// The expected strings are what pv 1.6.20 (Debian 12) prints for these byte counts.
TEST_CASE("progress bytes are shown as pv shows them: 3 significant digits, powers of 1024", "[progress]") {
  CHECK(format_bytes(0) == "0.00 B");
  CHECK(format_bytes(5) == "5.00 B");
  CHECK(format_bytes(512) == " 512 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1024) == "1.00KiB");
  CHECK(format_bytes(1500) == "1.46KiB");
  CHECK(format_bytes(1535) == "1.50KiB");
  CHECK(format_bytes(2047) == "2.00KiB");
  CHECK(format_bytes(10239) == "10.0KiB");
  CHECK(format_bytes(102400) == " 100KiB");
  CHECK(format_bytes(1024000) == "1000KiB");
  CHECK(format_bytes(1048575) == "1023KiB");  // never "1024KiB"
  CHECK(format_bytes(1048576) == "1.00MiB");
  CHECK(format_bytes(10238976) == "9.76MiB");
  CHECK(format_bytes(1073741824) == "1.00GiB");
  CHECK(format_bytes(5000000000) == "4.66GiB");
  CHECK(format_bytes(static_cast<double>(std::numeric_limits<std::uint64_t>::max())) == "16.0EiB");
}

TEST_CASE("progress rates are bytes per second in pv's units", "[progress]") {
  CHECK(format_rate(0) == "0.00 B/s");
  CHECK(format_rate(12.3 * 1048576) == "12.3MiB/s");
  CHECK(format_rate(230 * 1048576.0) == " 230MiB/s");
  CHECK(format_rate(1.86 * 1073741824) == "1.86GiB/s");
}

TEST_CASE("progress times are H:MM:SS, and an absurd ETA stays short", "[progress]") {
  CHECK(format_duration(0) == "0:00:00");
  CHECK(format_duration(3.9) == "0:00:03");
  CHECK(format_duration(65) == "0:01:05");
  CHECK(format_duration(26 * 3600 + 180) == "26:03:00");
  CHECK(format_duration(1e30) == "99999:59:59");
  CHECK(format_duration(-1) == "0:00:00");
}

TEST_CASE("a regular file's progress shows the total, percent and ETA", "[progress]") {
  // 5 MiB of 16 MiB in 1 s: 5 MiB/s on average, 11 MiB left is 2.2 s.
  ProgressState state{5 << 20, std::uint64_t{16} << 20, 1.0, 4.95 * 1048576};
  CHECK(progress_text(state) == "5.00MiB of 16.0MiB 0:00:01 [4.95MiB/s] [5.00MiB/s]  31% ETA 0:00:02");
  state.bytes = state.seconds = 0;
  state.rate = 0;
  CHECK(progress_text(state) == "0.00 B of 16.0MiB 0:00:00 [0.00 B/s] [0.00 B/s]   0%");
  ProgressState done{16 << 20, std::uint64_t{16} << 20, 4.0, 0};
  CHECK(progress_text(done) == "16.0MiB of 16.0MiB 0:00:04 [0.00 B/s] [4.00MiB/s] 100%");
  ProgressState empty{0, std::uint64_t{0}, 0.5, 0};
  CHECK(progress_text(empty) == "0.00 B of 0.00 B 0:00:00 [0.00 B/s] [0.00 B/s] 100%");
}

TEST_CASE("a stream's progress (stdin, fifo, device) shows bytes and rates only", "[progress]") {
  ProgressState state{1536 << 10, std::nullopt, 3.0, 512 << 10};
  CHECK(progress_text(state) == "1.50MiB 0:00:03 [ 512KiB/s] [ 512KiB/s]");
}

TEST_CASE("the progress line fits 80 columns whatever the numbers", "[progress]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  // The widest fields: 4-digit values, a long run, and an ETA at a crawl.
  ProgressState wide{1023 << 10, std::uint64_t{1023} << 20, 9999.0 * 3600, 1023 << 10};
  CHECK(progress_text(wide).size() <= kProgressWidth);
  ProgressState crawl{1, kMax, 1e9, 0.001};
  CHECK(progress_text(crawl).find("ETA 99999:59:59") != std::string::npos);
  CHECK(progress_text(crawl).size() <= kProgressWidth);
  ProgressState huge{kMax, kMax, 1e30, 1e30};
  CHECK(progress_text(huge).size() <= kProgressWidth);
}
