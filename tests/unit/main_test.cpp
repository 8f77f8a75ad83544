// The test runner's main(): Catch2 v2 builds it from this define; v3 ships
// it as Catch2::Catch2WithMain, which meson picks when v2 is absent.
#if !__has_include(<catch2/catch_test_macros.hpp>)
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
