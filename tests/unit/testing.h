#pragma once
// Catch2 v2 (Debian 12's catch2 package) or v3, whichever is installed.
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#else
#include <catch2/catch.hpp>
#endif
