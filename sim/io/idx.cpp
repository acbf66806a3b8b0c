#include "sim/io/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "golden/core/error.h"

namespace octet::idx {
namespace {

constexpr uint8_t kUInt8TypeCode = 0x08;
// Bytes per read and per buffer growth: one step holds a whole Fashion-MNIST file, yet
// a corrupt header claiming terabytes fails at end of data instead of allocating them.
constexpr size_t kChunk = size_t{64} << 20;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Throws if zlib has recorded an error (I/O, corrupt or truncated gzip stream).
void CheckGzError(const std::string& path, gzFile f) {
  int errnum = Z_OK;
  std::string_view message = gzerror(f, &errnum);
  if (errnum == Z_OK) return;
  // zlib prefixes its message with "<path>: "; the path is already in ours.
  if (message.starts_with(path + ": ")) message.remove_prefix(path.size() + 2);
  Fail("{}: {}: {}", path, errnum == Z_ERRNO ? "read error" : "corrupt gzip data", message);
}

// Reads up to `bytes` bytes, fewer only at the end of the data.
size_t Read(const std::string& path, gzFile f, uint8_t* out, size_t bytes) {
  size_t total = 0;
  while (total < bytes) {
    const int n = gzread(f, out + total, static_cast<unsigned>(std::min(bytes - total, kChunk)));
    if (n <= 0) {
      CheckGzError(path, f);
      break;
    }
    total += n;
  }
  return total;
}

// Header: two zero bytes, the type code, the number of dims, then each dim as a
// big-endian uint32.
Shape ReadShape(const std::string& path, gzFile f) {
  uint8_t magic[4];
  if (Read(path, f, magic, sizeof(magic)) < sizeof(magic) || magic[0] != 0 || magic[1] != 0) {
    Fail("{}: not an IDX file (bad magic)", path);
  }
  if (magic[2] != kUInt8TypeCode) {
    Fail("{}: unsupported IDX type code 0x{:02x} (only unsigned byte, 0x08, is supported)", path, magic[2]);
  }
  std::vector<uint8_t> dims(4 * size_t{magic[3]});
  if (dims.empty()) Fail("{}: IDX header has no dimensions", path);
  if (Read(path, f, dims.data(), dims.size()) < dims.size()) Fail("{}: truncated header", path);
  Shape shape;
  for (size_t i = 0; i < dims.size(); i += 4) {
    shape.push_back(int64_t{dims[i]} << 24 | int64_t{dims[i + 1]} << 16 | int64_t{dims[i + 2]} << 8 | dims[i + 3]);
  }
  int64_t count = 1;
  for (const int64_t dim : shape) {
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      Fail("{}: shape {} is too large", path, ShapeString(shape));
    }
    count *= dim;
  }
  return shape;
}

// Finds <dir>/<stem>.gz, or the uncompressed <dir>/<stem>.
std::string FindFile(const std::string& dir, const std::string& stem) {
  const std::filesystem::path plain = std::filesystem::path(dir) / stem;
  const std::string gz = plain.string() + ".gz";
  if (std::filesystem::exists(gz)) return gz;
  if (std::filesystem::exists(plain)) return plain.string();
  Fail("{}: not found (install the Debian package dataset-fashion-mnist, or pass --data DIR)", gz);
}

// One split, e.g. "train": images become [N, 1, H, W].
Dataset LoadSplit(const std::string& dir, const std::string& split) {
  const std::string images_path = FindFile(dir, split + "-images-idx3-ubyte");
  const std::string labels_path = FindFile(dir, split + "-labels-idx1-ubyte");
  Dataset ds{LoadUInt8(images_path), LoadUInt8(labels_path)};
  if (ds.images.shape.size() != 3) {
    Fail("{}: images have shape {}, expected [N, H, W]", images_path, ShapeString(ds.images.shape));
  }
  if (ds.labels.shape.size() != 1) {
    Fail("{}: labels have shape {}, expected [N]", labels_path, ShapeString(ds.labels.shape));
  }
  if (ds.images.dim(0) != ds.labels.dim(0)) {
    Fail("{}: {} images, but {} has {} labels", images_path, ds.images.dim(0), labels_path, ds.labels.dim(0));
  }
  const auto bad = std::ranges::find_if(ds.labels.data, [](uint8_t label) { return label > 9; });
  if (bad != ds.labels.data.end()) {
    Fail("{}: label {} at index {} is outside 0..9", labels_path, *bad, bad - ds.labels.data.begin());
  }
  ds.images.shape = {ds.images.dim(0), 1, ds.images.dim(1), ds.images.dim(2)};
  return ds;
}

}  // namespace

Tensor<uint8_t> LoadUInt8(const std::string& path) {
  // gzread passes plain (uncompressed) files through unchanged.
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) Fail("{}: cannot open: {}", path, std::strerror(errno));
  gzbuffer(f.get(), 1 << 20);
  Shape shape = ReadShape(path, f.get());
  const size_t count = NumElements(shape);

  std::vector<uint8_t> data;
  while (data.size() < count) {
    const size_t done = data.size();
    data.resize(std::min(count, done + kChunk));
    const size_t got = Read(path, f.get(), data.data() + done, data.size() - done);
    if (got < data.size() - done) {
      Fail("{}: truncated: header says {} bytes of data, file has {}", path, count, done + got);
    }
  }
  // Reading past the data also makes zlib verify the gzip trailer (CRC and length).
  uint8_t extra;
  if (Read(path, f.get(), &extra, 1) != 0) Fail("{}: trailing bytes after the {} bytes of data", path, count);
  return Tensor<uint8_t>(std::move(shape), std::move(data));
}

FashionMnist LoadFashionMnist(const std::string& dir) { return {LoadSplit(dir, "train"), LoadSplit(dir, "t10k")}; }

}  // namespace octet::idx
