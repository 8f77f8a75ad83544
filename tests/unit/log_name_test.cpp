#include "modes/log_name.h"
#include "testing.h"

using netdisp::modes::log_path_for;

TEST_CASE("server keeps one file per listen address, named by the rule in --help", "[log_name]") {
  CHECK(log_path_for("logs/app.log", "0.0.0.0:9921") == "logs/app.0.0.0.0_9921.log");
  CHECK(log_path_for("logs/app.log", "[::1]:9922") == "logs/app.__1_9922.log");
  CHECK(log_path_for("logs/app", "[fe80::1%eth0]:9923") == "logs/app.fe80__1_eth0_9923");
  CHECK(log_path_for("app.log", "localhost:7") == "app.localhost_7.log");
  CHECK(log_path_for("/var/log/.hidden", "1.2.3.4:5") == "/var/log/.hidden.1.2.3.4_5");
  CHECK(log_path_for("dir.d/app", "1.2.3.4:5") == "dir.d/app.1.2.3.4_5");
  CHECK(log_path_for("a.tar.gz", "1.2.3.4:5") == "a.tar.1.2.3.4_5.gz");
}

TEST_CASE("file name tags never contain separators or brackets", "[log_name]") {
  std::string tag = netdisp::modes::filename_safe("[a/b%c:d]:9");
  CHECK(tag.find_first_of("/[]%:") == std::string::npos);
}
