#include "sim/io/npy.h"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "golden/core/error.h"

namespace octet::npy {

// Payloads are copied straight between memory and disk; .npy data here is little-endian.
static_assert(std::endian::native == std::endian::little, "octet::npy assumes a little-endian host");

namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);
constexpr size_t kAlign = 64;                // numpy aligns the payload to 64 bytes
constexpr size_t kGrowthAxisMaxDigits = 21;  // numpy's spare room to grow shape[0] in place

struct TypeInfo {
  char kind;  // 'i', 'u' or 'f' as in the descr
  int size;
  const char* name;
};

// Indexed by DType.
constexpr TypeInfo kTypes[] = {{'i', 1, "int8"},  {'u', 1, "uint8"}, {'i', 2, "int16"},   {'u', 2, "uint16"},
                               {'i', 4, "int32"}, {'i', 8, "int64"}, {'f', 4, "float32"}, {'f', 8, "float64"}};
constexpr int kNumTypes = sizeof(kTypes) / sizeof(kTypes[0]);

const TypeInfo& Info(DType dtype) { return kTypes[static_cast<int>(dtype)]; }

std::string Describe(DType dtype) { return fmt::format("{} ('{}')", NameOf(dtype), DescrOf(dtype)); }

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

struct OpenFile {
  File file;
  int64_t size;
};

OpenFile OpenForRead(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  struct stat st;
  if (!file || fstat(fileno(file.get()), &st) != 0) Fail("{}: cannot open: {}", path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) Fail("{}: cannot open: {}", path, std::strerror(EISDIR));
  return {std::move(file), static_cast<int64_t>(st.st_size)};
}

DType ParseDescr(const std::string& path, const std::string& descr) {
  std::optional<DType> match;
  if (descr.size() >= 3 && std::string_view("<>|=").find(descr[0]) != std::string_view::npos) {
    for (int i = 0; i < kNumTypes; ++i) {
      if (kTypes[i].kind == descr[1] && descr.substr(2) == std::to_string(kTypes[i].size)) match = DType(i);
    }
  }
  if (!match) {
    Fail("{}: unsupported dtype '{}' (supported: int8, uint8, int16, uint16, int32, int64, float32, float64)", path,
         descr);
  }
  if (descr[0] == '>' && Info(*match).size > 1) {
    Fail("{}: big-endian dtype '{}' is not supported (expected little-endian '{}')", path, descr, DescrOf(*match));
  }
  return *match;
}

// Parses the header, a Python dict literal such as
// {'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(const std::string& path, std::string_view text) : path_(path), text_(text) {}

  Header Parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<Shape> shape;
    Expect('{');
    while (!Consume('}')) {
      const std::string key = ParseString();
      Expect(':');
      if (key == "descr" && !descr) {
        descr = ParseString();
      } else if (key == "fortran_order" && !fortran_order) {
        fortran_order = ParseBool();
      } else if (key == "shape" && !shape) {
        shape = ParseShape();
      } else {
        Malformed(fmt::format("unexpected or repeated key {:?}", key));
      }
      if (!Consume(',')) {
        Expect('}');
        break;
      }
    }
    SkipSpace();
    if (pos_ != text_.size()) Malformed("text after the dict");
    if (!descr || !fortran_order || !shape) Malformed("it needs the keys 'descr', 'fortran_order' and 'shape'");
    if (*fortran_order) Fail("{}: fortran_order arrays are not supported", path_);
    return {ParseDescr(path_, *descr), *shape};
  }

 private:
  [[noreturn]] void Malformed(std::string_view problem) const {
    Fail("{}: malformed .npy header: {}: {:?}", path_, problem, text_.substr(0, text_.find_last_not_of(" \n") + 1));
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n')) ++pos_;
  }

  // Skips whitespace, then consumes c if it comes next.
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void Expect(char c) {
    if (!Consume(c)) Malformed(fmt::format("expected '{}' at offset {}", c, pos_));
  }

  std::string ParseString() {
    SkipSpace();
    const char quote = pos_ < text_.size() ? text_[pos_] : '\0';
    const size_t end = quote == '\'' || quote == '"' ? text_.find(quote, pos_ + 1) : std::string_view::npos;
    if (end == std::string_view::npos) Malformed(fmt::format("expected a quoted string at offset {}", pos_));
    std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return s;
  }

  bool ParseBool() {
    SkipSpace();
    for (const bool value : {false, true}) {
      const std::string_view word = value ? "True" : "False";
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    Malformed("fortran_order must be True or False");
  }

  // A tuple of non-negative ints: (), (3,), (3, 4). Python 2's long suffix (3L,) is accepted.
  Shape ParseShape() {
    Shape shape;
    Expect('(');
    while (!Consume(')')) {
      SkipSpace();
      int64_t dim = -1;
      const auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), dim);
      if (ec != std::errc() || dim < 0) Malformed(fmt::format("bad shape entry at offset {}", pos_));
      pos_ = end - text_.data();
      Consume('L');
      shape.push_back(dim);
      if (!Consume(',')) {
        Expect(')');
        break;
      }
    }
    return shape;
  }

  const std::string& path_;
  std::string_view text_;
  size_t pos_ = 0;
};

int64_t PayloadBytes(const std::string& path, const Header& header) {
  if (std::ranges::find(header.shape, 0) != header.shape.end()) return 0;
  int64_t bytes = Info(header.dtype).size;
  for (const int64_t dim : header.shape) {
    if (bytes > std::numeric_limits<int64_t>::max() / dim) {
      Fail("{}: shape {} is too large", path, ShapeString(header.shape));
    }
    bytes *= dim;
  }
  return bytes;
}

[[noreturn]] void TruncatedHeader(const std::string& path) { Fail("{}: truncated header", path); }

// Reads and validates everything before the payload and checks the file length; leaves
// the file positioned at the payload. Returns the header and the payload size in bytes.
std::pair<Header, int64_t> ReadPreamble(const std::string& path, const OpenFile& in) {
  FILE* f = in.file.get();
  char prefix[8];
  const size_t got = std::fread(prefix, 1, sizeof(prefix), f);
  const size_t magic_got = std::min(got, kMagic.size());
  if (got == 0 || std::string_view(prefix, magic_got) != kMagic.substr(0, magic_got)) {
    Fail("{}: not a NumPy .npy file (bad magic)", path);
  }
  if (got < sizeof(prefix)) TruncatedHeader(path);
  const int major = static_cast<uint8_t>(prefix[6]), minor = static_cast<uint8_t>(prefix[7]);
  if (major < 1 || major > 3 || minor != 0) Fail("{}: unsupported .npy format version {}.{}", path, major, minor);

  // Version 1.0 stores the header length as uint16, 2.0 and 3.0 as uint32.
  uint32_t header_len = 0;
  const size_t len_size = major == 1 ? 2 : 4;
  if (std::fread(&header_len, 1, len_size, f) != len_size) TruncatedHeader(path);
  const int64_t after_len = in.size - static_cast<int64_t>(sizeof(prefix) + len_size);
  if (header_len > after_len) {  // checked before allocating: the field may be garbage
    Fail("{}: truncated header: header length field says {} bytes, file has {}", path, header_len, after_len);
  }
  std::string text(header_len, '\0');
  if (std::fread(text.data(), 1, header_len, f) != header_len) TruncatedHeader(path);

  const Header header = HeaderParser(path, text).Parse();
  const int64_t payload = PayloadBytes(path, header);
  const int64_t have = in.size - static_cast<int64_t>(sizeof(prefix) + len_size + header_len);
  if (have != payload) {
    Fail("{}: {}: header says {} bytes of {} data, file has {}", path, have < payload ? "truncated" : "trailing bytes",
         payload, NameOf(header.dtype), have);
  }
  return {header, payload};
}

template <typename T>
Tensor<T> LoadChecked(const std::string& path, const Shape* expected_shape) {
  const OpenFile in = OpenForRead(path);
  const auto [header, payload] = ReadPreamble(path, in);
  if (header.dtype != DTypeOf<T>()) {
    Fail("{}: dtype is {}, expected {}", path, Describe(header.dtype), Describe(DTypeOf<T>()));
  }
  if (expected_shape && header.shape != *expected_shape) {
    Fail("{}: shape is {}, expected {}", path, ShapeString(header.shape), ShapeString(*expected_shape));
  }
  Tensor<T> t(header.shape);
  if (payload > 0 && std::fread(t.ptr(), 1, payload, in.file.get()) != static_cast<size_t>(payload)) {
    Fail("{}: read error: {}", path, std::strerror(errno));
  }
  return t;
}

// The exact bytes numpy.save writes before the payload (format 1.0 unless the header
// needs more than 64 KiB).
std::string EncodePreamble(DType dtype, const Shape& shape) {
  std::string dims = fmt::format("{}", fmt::join(shape, ", "));
  if (shape.size() == 1) dims += ',';
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", DescrOf(dtype), dims);
  if (!shape.empty()) dict.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');

  const auto preamble = [&](int major, size_t len_size) {
    const size_t unpadded = kMagic.size() + 2 + len_size + dict.size() + 1;
    const size_t header_len = dict.size() + kAlign - unpadded % kAlign + 1;  // numpy pads 1..64 spaces
    std::string out(kMagic);
    out += static_cast<char>(major);
    out += '\0';
    out.append(reinterpret_cast<const char*>(&header_len), len_size);
    out += dict;
    out.append(header_len - dict.size() - 1, ' ');
    out += '\n';
    return std::pair(out, header_len);
  };
  auto [v1, v1_len] = preamble(1, 2);
  return v1_len <= std::numeric_limits<uint16_t>::max() ? v1 : preamble(2, 4).first;
}

[[noreturn]] void FailWrite(const std::string& tmp, std::string_view what) {
  const int err = errno;
  std::remove(tmp.c_str());
  Fail("{}: {}: {}", tmp, what, std::strerror(err));
}

void WriteAtomically(const std::string& path, std::string_view preamble, const void* data, size_t bytes) {
  const std::string tmp = path + ".tmp";
  File f(std::fopen(tmp.c_str(), "wb"));
  if (!f) Fail("{}: cannot create: {}", tmp, std::strerror(errno));
  const bool written = std::fwrite(preamble.data(), 1, preamble.size(), f.get()) == preamble.size() &&
                       (bytes == 0 || std::fwrite(data, 1, bytes, f.get()) == bytes);  // data may be null
  const bool closed = std::fclose(f.release()) == 0;
  if (!written || !closed) FailWrite(tmp, "write failed");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) FailWrite(tmp, fmt::format("cannot rename to {}", path));
}

}  // namespace

std::string DescrOf(DType dtype) {
  const TypeInfo& info = Info(dtype);
  return fmt::format("{}{}{}", info.size == 1 ? '|' : '<', info.kind, info.size);
}

std::string NameOf(DType dtype) { return Info(dtype).name; }

Header ReadHeader(const std::string& path) { return ReadPreamble(path, OpenForRead(path)).first; }

template <typename T>
Tensor<T> Load(const std::string& path) {
  return LoadChecked<T>(path, nullptr);
}

template <typename T>
Tensor<T> Load(const std::string& path, const Shape& expected_shape) {
  return LoadChecked<T>(path, &expected_shape);
}

template <typename T>
void Save(const std::string& path, const Tensor<T>& t) {
  if (t.size() != NumElements(t.shape)) {
    Fail("{}: cannot save: tensor has {} elements but shape {} needs {}", path, t.size(), ShapeString(t.shape),
         NumElements(t.shape));
  }
  WriteAtomically(path, EncodePreamble(DTypeOf<T>(), t.shape), t.ptr(), t.size() * sizeof(T));
}

#define OCTET_NPY_INSTANTIATE(T)                                \
  template Tensor<T> Load<T>(const std::string&);               \
  template Tensor<T> Load<T>(const std::string&, const Shape&); \
  template void Save<T>(const std::string&, const Tensor<T>&);
OCTET_NPY_INSTANTIATE(int8_t)
OCTET_NPY_INSTANTIATE(uint8_t)
OCTET_NPY_INSTANTIATE(int16_t)
OCTET_NPY_INSTANTIATE(uint16_t)
OCTET_NPY_INSTANTIATE(int32_t)
OCTET_NPY_INSTANTIATE(int64_t)
OCTET_NPY_INSTANTIATE(float)
OCTET_NPY_INSTANTIATE(double)
#undef OCTET_NPY_INSTANTIATE

}  // namespace octet::npy
