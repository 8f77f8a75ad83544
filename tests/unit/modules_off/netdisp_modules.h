#pragma once
// netdisp_modules.h as meson writes it for a build without the transport
// libraries (-Dsrt=disabled -Dnorm=disabled -Dnats=disabled): the only part
// of such a build that differs from this one on the executable's side.
// modules_off_test.cpp compiles src/stage/modules.cpp again with it.
#define NETDISP_HAVE_NATS 0
#define NETDISP_HAVE_NORM 0
#define NETDISP_HAVE_SRT 0
#define NETDISP_MODULE_DIR "/nonexistent"
