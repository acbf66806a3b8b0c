#include "sim/io/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "golden/core/error.h"
#include "tests/common/scratch_dir_test.h"

namespace octet::npy {
namespace {

namespace fs = std::filesystem;

using NpyTest = ScratchDirTest;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// A .npy file laid out exactly as numpy writes one: magic, version 1.0, little-endian
// uint16 header length, the dict padded with spaces to a multiple of 64 bytes and "\n".
std::string NumpyFile(const std::string& dict, const std::string& payload) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  const uint16_t len = static_cast<uint16_t>(header.size());
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(len & 0xff) + static_cast<char>(len >> 8) + header +
         payload;
}

template <typename T>
std::string PayloadOf(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}


template <typename T>
class NpyRoundTripTest : public NpyTest {};

using ElementTypes = testing::Types<int8_t, uint8_t, int16_t, uint16_t, int32_t, int64_t, float, double>;
TYPED_TEST_SUITE(NpyRoundTripTest, ElementTypes);

TYPED_TEST(NpyRoundTripTest, EveryShapeRoundTrips) {
  using T = TypeParam;
  for (const Shape& shape : {Shape{2, 3, 4}, Shape{}, Shape{0, 5}, Shape{7}, Shape{1, 1, 2, 3}}) {
    Tensor<T> t(shape);
    for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<T>(i * 37 - 50);
    if (t.size() >= 2) {
      t[0] = std::numeric_limits<T>::lowest();
      t[1] = std::numeric_limits<T>::max();
    }
    const std::string path = this->Path("a.npy");
    Save(path, t);
    const Header header = ReadHeader(path);
    EXPECT_EQ(header.dtype, DTypeOf<T>());
    EXPECT_EQ(header.shape, shape);
    EXPECT_EQ(Load<T>(path), t) << ShapeString(shape);
    EXPECT_EQ(Load<T>(path, shape), t) << ShapeString(shape);
    // numpy's layout: the payload starts 64-byte aligned right after a '\n'.
    const std::string bytes = ReadBytes(path);
    const size_t payload_start = bytes.size() - t.size() * sizeof(T);
    EXPECT_EQ(payload_start % 64, 0u);
    EXPECT_EQ(bytes[payload_start - 1], '\n');
  }
}

TEST(NpyDTypeTest, NamesAndDescrs) {
  EXPECT_EQ(DescrOf(DType::kInt8), "|i1");
  EXPECT_EQ(DescrOf(DType::kUInt8), "|u1");
  EXPECT_EQ(DescrOf(DType::kInt16), "<i2");
  EXPECT_EQ(DescrOf(DType::kUInt16), "<u2");
  EXPECT_EQ(DescrOf(DType::kInt32), "<i4");
  EXPECT_EQ(DescrOf(DType::kInt64), "<i8");
  EXPECT_EQ(DescrOf(DType::kFloat32), "<f4");
  EXPECT_EQ(DescrOf(DType::kFloat64), "<f8");
  EXPECT_EQ(NameOf(DType::kInt8), "int8");
  EXPECT_EQ(NameOf(DType::kUInt16), "uint16");
  EXPECT_EQ(NameOf(DType::kFloat64), "float64");
  static_assert(DTypeOf<int8_t>() == DType::kInt8);
  static_assert(DTypeOf<uint16_t>() == DType::kUInt16);
  static_assert(DTypeOf<double>() == DType::kFloat64);
}

TEST_F(NpyTest, WritesNumpyHeaderBytes) {
  const std::string path = Path("w.npy");
  Save(path, Tensor<int16_t>({3, 4}, int16_t{-2}));
  const std::string bytes = ReadBytes(path);
  // numpy >= 1.23 adds 21 - len("3") spaces after the dict so shape[0] can grow in place;
  // the total still pads to 128 bytes here.
  const std::string dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (3, 4), }";
  ASSERT_EQ(bytes.size(), 128u + 24);
  EXPECT_EQ(bytes.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes.substr(10 + dict.size(), 128 - 11 - dict.size()), std::string(128 - 11 - dict.size(), ' '));
  EXPECT_EQ(bytes[127], '\n');
  EXPECT_EQ(bytes.substr(128, 2), "\xfe\xff");
}

TEST_F(NpyTest, ScalarAndOneDimHeaders) {
  Save(Path("s.npy"), Tensor<double>({}, 2.5));
  EXPECT_NE(ReadBytes(Path("s.npy")).find("'shape': (), }"), std::string::npos);
  Save(Path("v.npy"), Tensor<int32_t>({5}, 1));
  EXPECT_NE(ReadBytes(Path("v.npy")).find("'shape': (5,), }"), std::string::npos);
  EXPECT_EQ(Load<double>(Path("s.npy")).data, std::vector<double>{2.5});
}

TEST_F(NpyTest, LoadsNumpyLayout) {
  const std::string path = Path("np.npy");
  const std::vector<int32_t> values = {1, -2, 3, 400000, -500000, 6};
  WriteBytes(path, NumpyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", PayloadOf(values)));
  const Tensor<int32_t> t = Load<int32_t>(path, {2, 3});
  EXPECT_EQ(t.shape, (Shape{2, 3}));
  EXPECT_EQ(t.data, values);
}

TEST_F(NpyTest, ParsesDictRobustly) {
  const std::string path = Path("d.npy");
  const std::vector<uint8_t> values = {1, 2, 3};
  for (const std::string dict : {
           "{'shape': (3,), 'fortran_order': False, 'descr': '|u1'}",
           "{ \"descr\" : \"|u1\" , \"fortran_order\":False,\"shape\":( 3 , ) , }",
           "{'descr': '<u1', 'fortran_order': False, 'shape': (3L,), }",
       }) {
    WriteBytes(path, NumpyFile(dict, PayloadOf(values)));
    EXPECT_EQ(Load<uint8_t>(path).data, values) << dict;
  }
  WriteBytes(path, NumpyFile("{'fortran_order': False, 'descr': '<f8', 'shape': ()}", PayloadOf(std::vector{-1.5})));
  const Tensor<double> scalar = Load<double>(path);
  EXPECT_EQ(scalar.shape, Shape{});
  EXPECT_EQ(scalar.data, std::vector{-1.5});
}

TEST_F(NpyTest, ReadsVersion2And3Headers) {
  const std::string path = Path("v2.npy");
  const std::vector<int16_t> values = {7, -8};
  for (const char major : {'\x02', '\x03'}) {
    std::string header = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }";
    while ((12 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    const uint32_t len = header.size();
    WriteBytes(path, std::string("\x93NUMPY", 6) + major + '\0' + std::string(reinterpret_cast<const char*>(&len), 4) +
                         header + PayloadOf(values));
    EXPECT_EQ(Load<int16_t>(path).data, values);
  }
}

TEST_F(NpyTest, TruncatedPayload) {
  const std::string path = Path("e3.npy");
  WriteBytes(path, NumpyFile("{'descr': '<i2', 'fortran_order': False, 'shape': (64, 32), }", std::string(1000, 'x')));
  ExpectError([&] { Load<int16_t>(path); }, path, "truncated: header says 4096 bytes of int16 data, file has 1000");
  ExpectError([&] { ReadHeader(path); }, path, "truncated");
}

TEST_F(NpyTest, TruncatedHeader) {
  const std::string path = Path("h.npy");
  const std::string full = NumpyFile("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", "abcd");
  for (const size_t keep : {size_t{7}, size_t{9}, size_t{40}}) {
    WriteBytes(path, full.substr(0, keep));
    ExpectError([&] { ReadHeader(path); }, path, "truncated header");
  }
}

TEST_F(NpyTest, WrongDType) {
  const std::string path = Path("w.npy");
  Save(path, Tensor<int32_t>({2}, 1));
  ExpectError([&] { Load<int8_t>(path); }, path, "dtype is int32 ('<i4'), expected int8 ('|i1')");
}

TEST_F(NpyTest, WrongShape) {
  const std::string path = Path("s.npy");
  Save(path, Tensor<float>({3, 4}, 1.f));
  ExpectError([&] { Load<float>(path, {3, 5}); }, path, "shape is [3, 4], expected [3, 5]");
}

TEST_F(NpyTest, BadMagic) {
  const std::string path = Path("m.npy");
  WriteBytes(path, "PK\x03\x04 this is a zip file, not npy");
  ExpectError([&] { ReadHeader(path); }, path, "not a NumPy .npy file (bad magic)");
  WriteBytes(path, "");
  ExpectError([&] { ReadHeader(path); }, path, "not a NumPy .npy file (bad magic)");
}

TEST_F(NpyTest, UnsupportedVersion) {
  const std::string path = Path("v.npy");
  std::string bytes = NumpyFile("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", "ab");
  bytes[6] = '\x04';
  WriteBytes(path, bytes);
  ExpectError([&] { ReadHeader(path); }, path, "unsupported .npy format version 4.0");
}

TEST_F(NpyTest, FortranOrder) {
  const std::string path = Path("f.npy");
  WriteBytes(path, NumpyFile("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 2), }", std::string(8, '\0')));
  ExpectError([&] { Load<int16_t>(path); }, path, "fortran_order arrays are not supported");
}

TEST_F(NpyTest, BigEndian) {
  const std::string path = Path("b.npy");
  WriteBytes(path, NumpyFile("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0')));
  ExpectError([&] { Load<int32_t>(path); }, path, "big-endian dtype '>i4' is not supported");
}

TEST_F(NpyTest, UnsupportedDType) {
  const std::string path = Path("c.npy");
  WriteBytes(path, NumpyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')));
  ExpectError([&] { ReadHeader(path); }, path, "unsupported dtype '<c8'");
}

TEST_F(NpyTest, MalformedDict) {
  const std::string path = Path("d.npy");
  for (const std::string dict : {
           "{'descr': '<i2', 'shape': (1,), }",
           "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), 'extra': 1, }",
           "{'descr': '<i2', 'descr': '<i2', 'fortran_order': False, 'shape': (1,)}",
           "{'descr': '<i2', 'fortran_order': false, 'shape': (1,), }",
           "{'descr': '<i2', 'fortran_order': False, 'shape': (-1,), }",
           "{'descr': '<i2', 'fortran_order': False, 'shape': [1], }",
           "{'descr': '<i2', 'fortran_order': False, 'shape': (1,) ",
           "{'descr': '<i2', 'fortran_order': False, 'shape': (1,)} x",
       }) {
    WriteBytes(path, NumpyFile(dict, "ab"));
    ExpectError([&] { ReadHeader(path); }, path, "malformed .npy header");
  }
}

TEST_F(NpyTest, TrailingBytes) {
  const std::string path = Path("t.npy");
  WriteBytes(path, NumpyFile("{'descr': '|i1', 'fortran_order': False, 'shape': (4,), }", "abcdef"));
  ExpectError([&] { Load<int8_t>(path); }, path, "trailing bytes: header says 4 bytes of int8 data, file has 6");
}

TEST_F(NpyTest, MissingFile) {
  const std::string path = Path("nope.npy");
  ExpectError([&] { Load<int8_t>(path); }, path, "cannot open: No such file or directory");
  ExpectError([&] { ReadHeader(path); }, path, "cannot open: No such file or directory");
}

TEST_F(NpyTest, AtomicSaveLeavesNoTempFile) {
  const std::string path = Path("a.npy");
  Save(path, Tensor<int64_t>({3}, int64_t{1}));
  Save(path, Tensor<int64_t>({2}, int64_t{9}));  // replaces the old file
  EXPECT_EQ(Load<int64_t>(path).data, (std::vector<int64_t>{9, 9}));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(NpyTest, SaveErrors) {
  const std::string path = Path("missing_dir/x.npy");
  ExpectError([&] { Save(path, Tensor<int8_t>({1})); }, path, "cannot create: No such file or directory");
  Tensor<int8_t> inconsistent({2, 2});
  inconsistent.data.pop_back();
  ExpectError([&] { Save(Path("y.npy"), inconsistent); }, Path("y.npy"),
              "tensor has 3 elements but shape [2, 2] needs 4");
  EXPECT_FALSE(fs::exists(Path("y.npy")));
}

}  // namespace
}  // namespace octet::npy
