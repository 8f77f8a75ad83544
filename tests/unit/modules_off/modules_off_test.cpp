// What a build without libsrt, libnorm and libnats says when asked for their
// schemes: one usage error naming what the build needs (exit 2 in the
// modes), even with the modules lying beside the executable.
#include "net/error.h"
#include "stage/modules.h"
#include "testing.h"

TEST_CASE("a build without a transport's library refuses its scheme in one line", "[modules_off]") {
  using netdisp::stage::load_transport;
  CHECK_THROWS_AS(load_transport("nats"), netdisp::net::UsageError);
  CHECK_THROWS_WITH(load_transport("nats"),
                    "nats:// is not in this build of netdisp (it needs libnats-dev, -Dnats=enabled)");
  CHECK_THROWS_WITH(load_transport("srt"),
                    "srt:// is not in this build of netdisp (it needs libsrt-gnutls-dev, -Dsrt=enabled)");
  CHECK_THROWS_WITH(load_transport("norm"),
                    "norm:// is not in this build of netdisp (it needs libnorm-dev, -Dnorm=enabled)");
}
