#pragma once
// Telling systemd how the service is doing (sd_notify(3), for Type=notify
// units). Each call is one datagram to $NOTIFY_SOCKET; without that variable
// (not started by systemd) or in a build without libsystemd (-Dsystemd=disabled)
// they do nothing. Called from the main thread.

namespace netdisp::modes {

// READY=1: every socket is bound and every file is open; data flows from now on.
void notify_ready();

// STOPPING=1: a stop began (SIGINT/SIGTERM); the workers are draining.
void notify_stopping();

}  // namespace netdisp::modes
