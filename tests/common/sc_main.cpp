// libsystemc.so defines main() and calls sc_main(); GoogleTest's main takes precedence in
// this binary, but the library's reference to sc_main must resolve, and running the tests
// through it gives the same result.
#include <gtest/gtest.h>
#include <systemc>

int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
