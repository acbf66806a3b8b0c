// The sweep's space: the order of the points and the shards' partition of them.
#include <gtest/gtest.h>

#include <set>

#include "sim/sweep/sweep_space.h"

namespace octet::sweep {
namespace {

TEST(SweepSpace, TheLastAxisVariesFastest) {
  AxisTexts axes;
  axes.array = {"4x4", "8x16"};
  axes.dataflow = {"os", "ws"};
  axes.e2 = {"sq16", "flag", "sq8"};
  const model::ArchConfig base;
  const SweepSpace space = ResolveSpace(axes, base, [](const std::string& axis) { return axis; });
  ASSERT_EQ(space.PointCount(), 12);
  const SweepPoint p = PointAt(space, base, 7);  // 7 = (1 * 2 + 0) * 3 + 1
  EXPECT_EQ(p.config.array_rows, 8);
  EXPECT_EQ(p.config.array_cols, 16);
  EXPECT_EQ(p.config.dataflow, model::Dataflow::kOutputStationary);
  EXPECT_EQ(p.e2, "flag");
  EXPECT_EQ(p.scheme, "wageubn8");
  EXPECT_EQ(p.config.act_buffer_kib, base.act_buffer_kib);  // an axis left out keeps the base value
}

TEST(SweepSpace, ShardsPartitionThePointsEvenly) {
  for (int64_t points : {1, 7, 24, 1000})
    for (int64_t n : {1, 2, 3, 8}) {
      std::set<int64_t> seen;
      for (int64_t i = 1; i <= n; ++i) {
        const std::vector<int64_t> taken = Shard{i, n}.Points(points);
        EXPECT_LE(std::abs(static_cast<double>(taken.size()) - static_cast<double>(points) / n), 1.0);
        EXPECT_TRUE(std::is_sorted(taken.begin(), taken.end()));
        for (int64_t p : taken) EXPECT_TRUE(seen.insert(p).second) << "point " << p << " in two shards";
        EXPECT_EQ(taken, (Shard{i, n}.Points(points)));  // deterministic
      }
      EXPECT_EQ(static_cast<int64_t>(seen.size()), points);
    }
}

TEST(SweepSpace, ShardsMixTheFastestAxis) {
  // 2 shards of 24 points whose last axis has 2 values: each shard gets both values (an
  // index % 2 split would give each shard one).
  for (int64_t i : {1, 2}) {
    int even = 0;
    for (int64_t p : Shard{i, 2}.Points(24)) even += p % 2 == 0;
    EXPECT_GT(even, 0);
    EXPECT_LT(even, 12);
  }
}

}  // namespace
}  // namespace octet::sweep
