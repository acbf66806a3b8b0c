#include "model/core/gemm_shape.h"

#include <gtest/gtest.h>

namespace octet::model {
namespace {

TEST(GemmShape, NamesAndMacs) {
  EXPECT_STREQ(DataflowName(Dataflow::kWeightStationary), "ws");
  EXPECT_STREQ(DataflowName(Dataflow::kOutputStationary), "os");
  EXPECT_EQ((GemmShape{3, 5, 7}).macs(), 105);
}

}  // namespace
}  // namespace octet::model
