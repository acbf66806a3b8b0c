#include "sim/io/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "golden/core/error.h"
#include "tests/common/scratch_dir_test.h"

namespace octet::idx {
namespace {

namespace fs = std::filesystem;

using IdxTest = ScratchDirTest;

// IDX bytes: 0, 0, type code, number of dims, big-endian uint32 dims, then the data.
std::string IdxBytes(const Shape& shape, const std::vector<uint8_t>& data, uint8_t type_code = 0x08) {
  std::string bytes = {'\0', '\0', static_cast<char>(type_code), static_cast<char>(shape.size())};
  for (const int64_t dim : shape) {
    for (const int shift : {24, 16, 8, 0}) bytes += static_cast<char>(dim >> shift & 0xff);
  }
  return bytes + std::string(data.begin(), data.end());
}

// Writes through zlib: gzip-compressed, or plain with mode "T" (transparent).
void WriteFile(const std::string& path, const std::string& bytes, bool gzip) {
  gzFile f = gzopen(path.c_str(), gzip ? "wb" : "wbT");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), bytes.size()), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::vector<uint8_t> Iota(size_t n, uint32_t multiplier = 1) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * multiplier + 3);
  return v;
}


// Writes a tiny Fashion-MNIST-like directory: n_train/n_test images of 2x3.
void WriteFashionDir(const fs::path& dir, int64_t n_train, int64_t n_test, int64_t train_labels) {
  const auto labels = [](int64_t n) {
    std::vector<uint8_t> v = Iota(n);
    for (uint8_t& label : v) label %= 10;
    return v;
  };
  WriteFile((dir / "train-images-idx3-ubyte.gz").string(), IdxBytes({n_train, 2, 3}, Iota(n_train * 6)), true);
  WriteFile((dir / "train-labels-idx1-ubyte.gz").string(), IdxBytes({train_labels}, labels(train_labels)), true);
  WriteFile((dir / "t10k-images-idx3-ubyte").string(), IdxBytes({n_test, 2, 3}, Iota(n_test * 6)), false);
  WriteFile((dir / "t10k-labels-idx1-ubyte.gz").string(), IdxBytes({n_test}, labels(n_test)), true);
}

TEST_F(IdxTest, ReadsGzipAndPlain) {
  const std::vector<uint8_t> data = Iota(2 * 3 * 4);
  for (const bool gzip : {true, false}) {
    const std::string path = Path(gzip ? "a.gz" : "a");
    WriteFile(path, IdxBytes({2, 3, 4}, data), gzip);
    const Tensor<uint8_t> t = LoadUInt8(path);
    EXPECT_EQ(t.shape, (Shape{2, 3, 4}));
    EXPECT_EQ(t.data, data);
  }
  EXPECT_NE(ReadBytes(Path("a.gz")), ReadBytes(Path("a")));  // really compressed
}

TEST_F(IdxTest, LargeDimsAndEmpty) {
  const std::string path = Path("big.gz");
  const std::vector<uint8_t> data = Iota(70000, 13);
  WriteFile(path, IdxBytes({70000}, data), true);
  EXPECT_EQ(LoadUInt8(path).data, data);
  WriteFile(path, IdxBytes({0, 28}, {}), true);
  EXPECT_EQ(LoadUInt8(path).shape, (Shape{0, 28}));
}

TEST_F(IdxTest, Truncated) {
  for (const bool gzip : {true, false}) {
    const std::string path = Path(gzip ? "t.gz" : "t");
    WriteFile(path, IdxBytes({2, 3, 3}, Iota(10)), gzip);
    ExpectError([&] { LoadUInt8(path); }, path, "truncated: header says 18 bytes of data, file has 10");
    WriteFile(path, IdxBytes({2, 3, 3}, {}).substr(0, 9), gzip);
    ExpectError([&] { LoadUInt8(path); }, path, "truncated header");
  }
}

TEST_F(IdxTest, TrailingBytes) {
  const std::string path = Path("x.gz");
  WriteFile(path, IdxBytes({4}, Iota(5)), true);
  ExpectError([&] { LoadUInt8(path); }, path, "trailing bytes after the 4 bytes of data");
}

TEST_F(IdxTest, BadMagic) {
  const std::string path = Path("m.gz");
  std::string bytes = IdxBytes({4}, Iota(4));
  bytes[0] = '\x01';
  WriteFile(path, bytes, true);
  ExpectError([&] { LoadUInt8(path); }, path, "not an IDX file (bad magic)");
  WriteFile(path, "", true);
  ExpectError([&] { LoadUInt8(path); }, path, "not an IDX file (bad magic)");
}

TEST_F(IdxTest, UnsupportedTypeCode) {
  const std::string path = Path("f.gz");
  WriteFile(path, IdxBytes({1}, Iota(4), 0x0d), true);
  ExpectError([&] { LoadUInt8(path); }, path, "unsupported IDX type code 0x0d");
}

TEST_F(IdxTest, CorruptGzip) {
  const std::string path = Path("c.gz");
  WriteFile(path, IdxBytes({4000}, Iota(4000, 31)), true);
  const std::string good = ReadBytes(path);
  std::string flipped = good;
  flipped[good.size() - 6] ^= 0x55;  // inside the CRC-32 trailer
  WriteBytes(path, flipped);
  ExpectError([&] { LoadUInt8(path); }, path, "corrupt gzip data");
  for (size_t i = 12; i < good.size() - 8; ++i) flipped[i] = static_cast<char>(good[i] ^ 0xff);  // deflate stream
  WriteBytes(path, flipped);
  ExpectError([&] { LoadUInt8(path); }, path, "corrupt gzip data");
  WriteBytes(path, good.substr(0, good.size() - 4));  // stream cut inside the trailer
  ExpectError([&] { LoadUInt8(path); }, path, "corrupt gzip data");
}

TEST_F(IdxTest, MissingFile) {
  const std::string path = Path("none.gz");
  ExpectError([&] { LoadUInt8(path); }, path, "cannot open: No such file or directory");
}

TEST_F(IdxTest, FashionMnistLayout) {
  WriteFashionDir(dir_, 5, 3, 5);
  const FashionMnist fm = LoadFashionMnist(dir_.string());
  EXPECT_EQ(fm.train.images.shape, (Shape{5, 1, 2, 3}));
  EXPECT_EQ(fm.train.images.data, Iota(30));
  EXPECT_EQ(fm.train.labels.shape, Shape{5});
  EXPECT_EQ(fm.test.images.shape, (Shape{3, 1, 2, 3}));  // read from the uncompressed file
  EXPECT_EQ(fm.test.labels.data, (std::vector<uint8_t>{3, 4, 5}));
}

TEST_F(IdxTest, FashionMnistCountMismatch) {
  WriteFashionDir(dir_, 5, 3, 4);
  ExpectError([&] { LoadFashionMnist(dir_.string()); }, Path("train-images-idx3-ubyte.gz"),
              "5 images, but " + Path("train-labels-idx1-ubyte.gz") + " has 4 labels");
}

TEST_F(IdxTest, FashionMnistLabelOutOfRange) {
  WriteFashionDir(dir_, 5, 3, 5);
  const std::string labels = Path("train-labels-idx1-ubyte.gz");
  WriteFile(labels, IdxBytes({5}, {0, 9, 10, 1, 2}), true);
  ExpectError([&] { LoadFashionMnist(dir_.string()); }, labels, "label 10 at index 2 is outside 0..9");
}

TEST_F(IdxTest, FashionMnistMissing) {
  const std::string path = Path("train-images-idx3-ubyte.gz");
  ExpectError([&] { LoadFashionMnist(dir_.string()); }, path,
              ": not found (install the Debian package dataset-fashion-mnist, or pass --data DIR)");
}

TEST(IdxRealDataTest, LoadsFashionMnist) {
  if (!fs::is_directory(kFashionMnistDir)) GTEST_SKIP() << kFashionMnistDir << " is not installed";
  const auto start = std::chrono::steady_clock::now();
  const FashionMnist fm = LoadFashionMnist();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("load_seconds", std::to_string(seconds));
  EXPECT_EQ(fm.train.images.shape, (Shape{60000, 1, 28, 28}));
  EXPECT_EQ(fm.train.labels.shape, Shape{60000});
  EXPECT_EQ(fm.test.images.shape, (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(fm.test.labels.shape, Shape{10000});
  // Both splits are balanced: 6000 and 1000 of each of the 10 classes.
  for (const auto& [labels, per_class] : {std::pair{&fm.train.labels, 6000}, std::pair{&fm.test.labels, 1000}}) {
    std::array<int, 10> counts{};
    for (const uint8_t label : labels->data) ++counts.at(label);
    for (const int count : counts) EXPECT_EQ(count, per_class);
  }
}

}  // namespace
}  // namespace octet::idx
