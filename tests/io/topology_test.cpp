// Topologies for `octet run` (docs/topology.md): network specs expanded as the golden
// Network builds them, SCALE-Sim conv and GEMM CSVs, and every error path.
#include "sim/io/topology.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "golden/net/net_spec.h"
#include "golden/net/network.h"
#include "golden/numerics/scheme.h"
#include "tests/common/scratch_dir_test.h"

namespace octet {
namespace {

const std::string kTopologies = std::string(OCTET_SOURCE_DIR) + "/traces/topologies/";

const char* kConvHeader = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,";

class TopologyTest : public ScratchDirTest {
 protected:
  // Writes `text` to a scratch file and returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = Path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

void ExpectSameGeometry(const ConvGeometry& a, const ConvGeometry& b) {
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.in_channels, b.in_channels);
  EXPECT_EQ(a.in_height, b.in_height);
  EXPECT_EQ(a.in_width, b.in_width);
  EXPECT_EQ(a.out_channels, b.out_channels);
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.stride, b.stride);
  EXPECT_EQ(a.pad, b.pad);
}

// --- Network specs -----------------------------------------------------------------------

// Every layer of the golden Network, in its order and with its names and shapes, then fc.
void ExpectMatchesGoldenNetwork(const std::string& net, int64_t batch) {
  SCOPED_TRACE(net);
  const Topology t = LoadTopology(net, batch);
  const Network golden(LoadNetSpec(net), LoadScheme("wageubn8"), batch);
  const std::vector<LayerInfo> layers = golden.Layers();
  ASSERT_EQ(t.layers.size(), layers.size() + 1);  // Layers() leaves out the classifier
  for (size_t i = 0; i < layers.size(); ++i) {
    SCOPED_TRACE(layers[i].name);
    EXPECT_EQ(t.layers[i].name, layers[i].name);
    EXPECT_EQ(t.layers[i].quantized, layers[i].quantized);
    ExpectSameGeometry(t.layers[i].geometry, layers[i].geometry);
  }
  EXPECT_EQ(t.name, net);
  EXPECT_EQ(t.source, "built-in network " + net);
  EXPECT_EQ(t.format, TopologyFormat::kNetSpec);
}

TEST_F(TopologyTest, BuiltinNetsMatchTheGoldenNetworkLayers) {
  ExpectMatchesGoldenNetwork("small-resnet", 4);
  ExpectMatchesGoldenNetwork("tiny-resnet", 2);
  ExpectMatchesGoldenNetwork("resnet18", 1);
}

TEST_F(TopologyTest, SmallResnetLayersAndFlags) {
  const Topology t = LoadTopology("small-resnet", 8);
  // stem, block1 (identity shortcut), block2 and block3 (1x1 shortcut each), fc.
  std::vector<std::string> names;
  for (const auto& l : t.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"stem", "block1.conv1", "block1.conv2", "block2.conv1", "block2.conv2",
                                             "block2.shortcut", "block3.conv1", "block3.conv2", "block3.shortcut",
                                             "fc"}));
  for (const auto& l : t.layers) {
    SCOPED_TRACE(l.name);
    EXPECT_EQ(l.geometry.batch, 8);
    const bool is_conv2 = l.name.ends_with(".conv2");
    const bool is_shortcut = l.name.ends_with(".shortcut");
    const bool is_float = l.name == "stem" || l.name == "fc";
    EXPECT_EQ(l.residual_add, is_conv2);
    EXPECT_EQ(l.relu, !is_shortcut && l.name != "fc");
    EXPECT_EQ(l.input_error, l.name != "stem");
    EXPECT_EQ(l.quantized, !is_float);
  }
  // fc: a 1x1 conv over the pooled 64-channel vector to the 10 classes.
  ExpectSameGeometry(t.layers.back().geometry, ConvGeometry{8, 64, 1, 1, 10, 1, 1, 0});
  // block3.conv1 sees block2's 14x14 map and halves it.
  ExpectSameGeometry(t.layers[6].geometry, ConvGeometry{8, 32, 14, 14, 64, 3, 2, 1});
}

TEST_F(TopologyTest, NetSpecFileIsReadByExtensionOrByContent) {
  const std::string spec = R"({"name": "pooled", "input": [3, 32, 32], "classes": 5,
    "stem": {"out": 8, "kernel": 3, "stride": 1, "pad": 1, "maxpool": {"kernel": 2, "stride": 2, "pad": 0}},
    "blocks": [{"out": 8, "stride": 1}, {"out": 16, "stride": 2}]})";
  for (const std::string name : {"pooled.json", "pooled.net"}) {
    SCOPED_TRACE(name);
    const std::string path = Write(name, "\n  " + spec);
    const Topology t = LoadTopology(path, 3);
    EXPECT_EQ(t.name, "pooled");
    EXPECT_EQ(t.source, path);
    EXPECT_EQ(t.format, TopologyFormat::kNetSpec);
    ASSERT_EQ(t.layers.size(), 7u);
    // The max-pool is no layer, but block1 sees its 16x16 output.
    ExpectSameGeometry(t.layers[1].geometry, ConvGeometry{3, 8, 16, 16, 8, 3, 1, 1});
    ExpectSameGeometry(t.layers.back().geometry, ConvGeometry{3, 16, 1, 1, 5, 1, 1, 0});
  }
}

TEST_F(TopologyTest, NetSpecErrorsNameTheFile) {
  const std::string bad = Write("bad.json", R"({"name": "x", "input": [1, 8, 8], "stem": {"out": 4}, "blocks": [], "extra": 1})");
  ExpectError([&] { LoadTopology(bad, 1); }, bad, "unknown key \"extra\"");
  const std::string broken = Write("broken.txt", "{\"name\": ");
  ExpectError([&] { LoadTopology(broken, 1); }, broken, "not valid JSON");
}

// --- SCALE-Sim conv CSV ------------------------------------------------------------------

// The pre-padded ResNet-18 table gives every layer the output shape and GEMM of the
// built-in resnet18 network (the padding moved into the ifmap sizes).
TEST_F(TopologyTest, ShippedResnet18CsvHasTheShapesOfTheResnet18Net) {
  const Topology csv = LoadTopology(kTopologies + "resnet18_scalesim.csv", 2);
  const Topology net = LoadTopology("resnet18", 2);
  EXPECT_EQ(csv.name, "resnet18_scalesim");
  EXPECT_EQ(csv.format, TopologyFormat::kScaleSimConv);
  ASSERT_EQ(csv.layers.size(), net.layers.size());
  for (size_t i = 0; i < csv.layers.size(); ++i) {
    const ConvGeometry &a = csv.layers[i].geometry, &b = net.layers[i].geometry;
    SCOPED_TRACE(csv.layers[i].name + " vs " + net.layers[i].name);
    EXPECT_EQ(a.pad, 0);
    EXPECT_EQ(a.in_height, b.in_height + 2 * b.pad);
    EXPECT_EQ(a.out_height(), b.out_height());
    EXPECT_EQ(a.out_width(), b.out_width());
    EXPECT_EQ(a.gemm_m(), b.gemm_m());
    EXPECT_EQ(a.gemm_n(), b.gemm_n());
    EXPECT_EQ(a.gemm_k(), b.gemm_k());
    EXPECT_EQ(csv.layers[i].quantized, true);
    EXPECT_EQ(csv.layers[i].relu, true);
    EXPECT_EQ(csv.layers[i].residual_add, false);
    EXPECT_EQ(csv.layers[i].input_error, i > 0);
  }
  EXPECT_EQ(csv.layers.front().name, "Conv1");
  EXPECT_EQ(csv.layers.back().name, "FC");
}

TEST_F(TopologyTest, ConvCsvToleratesCrlfSpacesBlankLinesAndMissingTrailingCommas) {
  const std::string path = Write("net.csv",
                                 "\xEF\xBB\xBF  layer NAME ,ifmap height,IFMAP  Width, Filter Height, Filter Width,"
                                 " Channels, Num Filter, Strides,,,\r\n"
                                 "\r\n"
                                 "Conv1 , 32 , 30 , 3 , 3 , 3 , 16 , 1 ,\r\n"
                                 " , , , ,\r\n"
                                 "Conv2,30,28,5,5,16,32,2\r\n"
                                 "\r\n");
  const Topology t = LoadTopology(path, 4);
  EXPECT_EQ(t.name, "net");
  EXPECT_EQ(t.source, path);
  EXPECT_EQ(t.format, TopologyFormat::kScaleSimConv);
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[0].name, "Conv1");
  ExpectSameGeometry(t.layers[0].geometry, ConvGeometry{4, 3, 32, 30, 16, 3, 1, 0});
  EXPECT_FALSE(t.layers[0].input_error);
  EXPECT_EQ(t.layers[1].name, "Conv2");
  ExpectSameGeometry(t.layers[1].geometry, ConvGeometry{4, 16, 30, 28, 32, 5, 2, 0});
  EXPECT_TRUE(t.layers[1].input_error);
  // SCALE-Sim's ofmap size: ceil((H - R + S) / S).
  EXPECT_EQ(t.layers[1].geometry.out_height(), 13);
  EXPECT_EQ(t.layers[1].geometry.out_width(), 12);
}

TEST_F(TopologyTest, ConvCsvWithStrideHeightAndWidthColumns) {
  const std::string path = Write("hw.csv",
                                 "Layer name, IFMAP height, IFMAP width, Filter height, Filter width, Channels,"
                                 " Num filter, Stride height, Stride width,\n"
                                 "c1, 16, 16, 3, 3, 4, 8, 2, 2,\n");
  const Topology t = LoadTopology(path, 1);
  ASSERT_EQ(t.layers.size(), 1u);
  ExpectSameGeometry(t.layers[0].geometry, ConvGeometry{1, 4, 16, 16, 8, 3, 2, 0});
  const std::string uneven = Write("uneven.csv",
                                   "Layer name, IFMAP height, IFMAP width, Filter height, Filter width, Channels,"
                                   " Num filter, Stride height, Stride width,\n"
                                   "c1, 16, 16, 3, 3, 4, 8, 2, 1,\n");
  ExpectError([&] { LoadTopology(uneven, 1); }, uneven + ":2", "layer \"c1\": strides 2 and 1 differ");
}

// --- SCALE-Sim GEMM CSV ------------------------------------------------------------------

TEST_F(TopologyTest, ShippedGemmExampleMapsEachRowToItsGemm) {
  const Topology t = LoadTopology(kTopologies + "gemm_example.csv", 1);
  EXPECT_EQ(t.format, TopologyFormat::kScaleSimGemm);
  ASSERT_EQ(t.layers.size(), 5u);
  EXPECT_EQ(t.layers[0].name, "qkv_proj");
  // qkv_proj: M = 128, N = 768, K = 256 -> 128 lowered rows, reduction 256, 768 filters.
  const ConvGeometry& g = t.layers[0].geometry;
  EXPECT_EQ(g.gemm_n(), 128);
  EXPECT_EQ(g.gemm_k(), 256);
  EXPECT_EQ(g.gemm_m(), 768);
  EXPECT_EQ(g.input_count(), 128 * 256);   // the M x K ifmap
  EXPECT_EQ(g.weight_count(), 256 * 768);  // the K x N filter
  EXPECT_EQ(g.output_count(), 128 * 768);  // the M x N ofmap
}

TEST_F(TopologyTest, GemmCsvAcceptsScaleSimsOwnLayerHeaderAndScalesRowsByBatch) {
  const std::string path = Write("mnk.csv", "Layer,M,N,K\r\nQKT,1024,1024,64\r\nlinear, 7, 9, 11,\r\n");
  const Topology t = LoadTopology(path, 3);
  ASSERT_EQ(t.layers.size(), 2u);
  ExpectSameGeometry(t.layers[0].geometry, ConvGeometry{3, 64, 1024, 1, 1024, 1, 1, 0});
  ExpectSameGeometry(t.layers[1].geometry, ConvGeometry{3, 11, 7, 1, 9, 1, 1, 0});
  EXPECT_EQ(t.layers[1].geometry.gemm_n(), 3 * 7);
  EXPECT_FALSE(t.layers[0].input_error);
  EXPECT_TRUE(t.layers[1].input_error);
  EXPECT_TRUE(t.layers[1].quantized);
}

// --- Errors ------------------------------------------------------------------------------

TEST_F(TopologyTest, CsvRowErrorsNameTheFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> conv_rows = {
      {"c1, 8, 8, 3, 3, 4,", "6 columns, expected 8 (Layer name, IFMAP Height"},
      {"c1, 8, 8, 3, 3, 4, 8, 1, 1,", "9 columns, expected 8"},
      {"c1, 8, 8, 3, 3, four, 8, 1,", "layer \"c1\": Channels = \"four\" is not an integer"},
      {"c1, 8, 8, 3.0, 3, 4, 8, 1,", "layer \"c1\": Filter Height = \"3.0\" is not an integer"},
      {"c1, 8, 8, 3, 3, 4, 0, 1,", "layer \"c1\": Num Filter = 0 must be at least 1"},
      {"c1, -8, 8, 3, 3, 4, 8, 1,", "layer \"c1\": IFMAP Height = -8 must be at least 1"},
      {"c1, 8, , 3, 3, 4, 8, 1,", "layer \"c1\": IFMAP Width is empty"},
      {"c1, 8, 8, 3, 3, 4, 8, 99999999999999999999,", "Strides = \"99999999999999999999\" is not an integer"},
      {", 8, 8, 3, 3, 4, 8, 1,", "the layer name is empty"},
      {"c1, 8, 8, 3, 5, 4, 8, 1,", "layer \"c1\": filter 3x5 is not square"},
      {"c1, 8, 2, 3, 3, 4, 8, 1,", "layer \"c1\": filter 3x3 is larger than the 8x2 ifmap"},
      {"c1, 2147483648, 2147483648, 1, 1, 2, 1, 1,", "layer \"c1\": too large: its input element count exceeds 2^62"},
      {"c1, 65536, 65536, 1, 1, 65536, 65536, 1,", "layer \"c1\": too large: its MAC count exceeds 2^62"},
  };
  for (const auto& [row, problem] : conv_rows) {
    SCOPED_TRACE(row);
    const std::string path = Write("rows.csv", std::string(kConvHeader) + "\nok, 8, 8, 1, 1, 1, 1, 1,\n\n" + row + "\n");
    ExpectError([&] { LoadTopology(path, 1); }, path + ":4:", problem);
  }
  const std::vector<std::pair<std::string, std::string>> gemm_rows = {
      {"g, 4, 4,", "3 columns, expected 4 (Layer Name, M, N, K)"},
      {"g, 4, 4, x,", "layer \"g\": K = \"x\" is not an integer"},
      {"g, 0, 4, 4,", "layer \"g\": M = 0 must be at least 1"},
  };
  for (const auto& [row, problem] : gemm_rows) {
    SCOPED_TRACE(row);
    const std::string path = Write("gemm.csv", "Layer Name, M, N, K,\n" + row + "\n");
    ExpectError([&] { LoadTopology(path, 1); }, path + ":2:", problem);
  }
}

TEST_F(TopologyTest, CsvFileErrorsNameTheFile) {
  const std::string unknown = Write("unknown.csv", "\nname, rows, cols,\nc1, 1, 1,\n");
  ExpectError([&] { LoadTopology(unknown, 1); }, unknown + ":2:", "unknown header \"name, rows, cols\"");
  const std::string empty = Write("empty.csv", "\r\n , ,\r\n");
  ExpectError([&] { LoadTopology(empty, 1); }, empty, "empty: expected a SCALE-Sim topology header");
  const std::string header_only = Write("header.csv", std::string(kConvHeader) + "\n\n");
  ExpectError([&] { LoadTopology(header_only, 1); }, header_only, "no layers: the file has only its header");
}

TEST_F(TopologyTest, UnknownTopologyAndBadBatchAreErrors) {
  const std::string absent = Path("absent.csv");
  ExpectError([&] { LoadTopology(absent, 1); }, absent, "not a built-in network (");
  ExpectError([] { LoadTopology("small-resnet", 0); }, "", "batch size must be at least 1, got 0");
  // A batch that makes a built-in's counts overflow names the network and the layer.
  ExpectError([] { LoadTopology("resnet18", int64_t{1} << 50); }, "built-in network resnet18", "layer stem at batch");
}

TEST(TopologyFormat, Names) {
  EXPECT_STREQ(TopologyFormatName(TopologyFormat::kNetSpec), "net-spec");
  EXPECT_STREQ(TopologyFormatName(TopologyFormat::kScaleSimConv), "scalesim-conv");
  EXPECT_STREQ(TopologyFormatName(TopologyFormat::kScaleSimGemm), "scalesim-gemm");
}

}  // namespace
}  // namespace octet
