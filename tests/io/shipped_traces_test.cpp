// The traces shipped in traces/ replay bit-exactly: they pin the numerics of
// docs/numerics.md, so a change to any rounding shows up here with the tensor it moved.
#include <gtest/gtest.h>

#include <string>

#include "sim/io/trace.h"

namespace octet {
namespace {

class ShippedTrace : public testing::TestWithParam<std::string> {};

TEST_P(ShippedTrace, ReplaysBitExact) {
  const std::string dir = std::string(OCTET_SOURCE_DIR) + "/traces/" + GetParam();
  const ReplayResult r = ReplayTrace(dir);
  EXPECT_TRUE(r.bit_exact) << r.mismatch;
  EXPECT_GT(r.tensors_checked, 100);
}

TEST_P(ShippedTrace, ManifestDescribesEveryFile) {
  const std::string dir = std::string(OCTET_SOURCE_DIR) + "/traces/" + GetParam();
  const TraceManifest m = LoadTraceManifest(dir);
  EXPECT_EQ(m.batch, 2);
  EXPECT_EQ(m.step, 1u);
  for (const auto& e : m.entries) {
    EXPECT_NO_THROW(LoadTraceTensor(dir, e)) << e.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Traces, ShippedTrace, testing::Values("tiny-resnet-wageubn8", "tiny-resnet-wageubn16"));

}  // namespace
}  // namespace octet
