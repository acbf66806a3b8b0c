#include "sim/io/topology.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <sstream>
#include <string_view>

#include "golden/core/embedded.h"
#include "golden/core/error.h"
#include "golden/core/strings.h"
#include "golden/core/text_file.h"
#include "golden/kernels/float_layers.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

// The paper keeps the first and the last layer in float (the built-in wageubn schemes say
// so with fp32_first / fp32_last); a topology describes that scheme's machine.
constexpr bool kStemQuantized = false;
constexpr bool kClassifierQuantized = false;

// A layer's counts must fit int64 with room for the per-step sums made of them; 2^62
// leaves that room and is far beyond anything an array simulates in reasonable time.
constexpr __int128 kMaxCount = __int128{1} << 62;

// Whether the product of positive `factors` exceeds kMaxCount. Stopping at the first step
// past it keeps every partial product below 2^125, inside __int128.
bool ProductExceeds(std::initializer_list<int64_t> factors) {
  __int128 product = 1;
  for (int64_t f : factors) {
    product *= f;
    if (product > kMaxCount) return true;
  }
  return false;
}

// Empty when every count of `g` fits, else the count that does not.
std::string OverflowingCount(const ConvGeometry& g) {
  const int64_t oh = g.out_height(), ow = g.out_width();
  if (ProductExceeds({g.batch, g.in_channels, g.in_height, g.in_width})) return "input element count";
  if (ProductExceeds({g.batch, g.out_channels, oh, ow})) return "output element count";
  if (ProductExceeds({g.out_channels, g.in_channels, g.kernel, g.kernel})) return "weight count";
  if (ProductExceeds({g.batch, oh, ow, g.out_channels, g.in_channels, g.kernel, g.kernel})) return "MAC count";
  return {};
}

void CheckBatch(int64_t batch) {
  if (batch < 1) Fail("batch size must be at least 1, got {}", batch);
}

// --- SCALE-Sim CSV ----------------------------------------------------------------------

// Lower case with runs of whitespace folded to one space: headers are compared in this form.
std::string NormalizeHeaderCell(std::string_view cell) {
  std::string out;
  for (char c : cell) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

struct CsvRow {
  int line = 0;  // 1-based line number in the file
  std::vector<std::string> cells;
};

// SCALE-Sim ends every row with a comma, spreadsheets pad rows with empty cells: trailing
// empty cells are dropped, and lines left with none are skipped as blank.
std::vector<CsvRow> ReadCsvRows(const std::string& text) {
  std::vector<CsvRow> rows;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view view = line;
    if (number == 1 && view.starts_with("\xEF\xBB\xBF")) view.remove_prefix(3);  // a UTF-8 BOM from Excel
    CsvRow row{number, {}};
    size_t start = 0;
    while (true) {
      const size_t comma = view.find(',', start);
      row.cells.emplace_back(Trim(view.substr(start, comma == std::string_view::npos ? comma : comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    while (!row.cells.empty() && row.cells.back().empty()) row.cells.pop_back();
    if (!row.cells.empty()) rows.push_back(std::move(row));
  }
  return rows;
}

// The columns of each form, as SCALE-Sim writes them. The conv form may split Strides into
// a height and a width column (SCALE-Sim v2 writes that form itself).
const std::vector<std::string> kConvColumns = {"Layer name",   "IFMAP Height", "IFMAP Width", "Filter Height",
                                               "Filter Width", "Channels",     "Num Filter",  "Strides"};
const std::vector<std::string> kConvColumnsHw = {"Layer name",   "IFMAP Height", "IFMAP Width",   "Filter Height",
                                                 "Filter Width", "Channels",     "Num Filter",    "Stride Height",
                                                 "Stride Width"};
const std::vector<std::string> kGemmColumns = {"Layer Name", "M", "N", "K"};

std::string JoinColumns(const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + c;
  return out;
}

// SCALE-Sim's own GEMM files head the first column "Layer" alone; both spellings match.
bool HeaderMatches(const std::vector<std::string>& cells, const std::vector<std::string>& columns) {
  if (cells.size() != columns.size()) return false;
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string cell = NormalizeHeaderCell(cells[i]);
    if (cell != NormalizeHeaderCell(columns[i]) && !(i == 0 && cell == "layer")) return false;
  }
  return true;
}

// One data row with its place in the file, for messages "<path>:<line>: ...".
class RowReader {
 public:
  RowReader(const std::string& path, const CsvRow& row, const std::vector<std::string>& columns)
      : where_(fmt::format("{}:{}", path, row.line)), row_(row), columns_(columns) {
    if (row.cells.size() != columns.size())
      Fail("{}: {} columns, expected {} ({})", where_, row.cells.size(), columns.size(), JoinColumns(columns));
    if (row.cells[0].empty()) Fail("{}: the layer name is empty", where_);
  }

  const std::string& name() const { return row_.cells[0]; }

  // The positive integer in column `index`.
  int64_t Size(size_t index) const {
    const std::string& cell = row_.cells[index];
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (cell.empty()) Fail("{}: layer \"{}\": {} is empty", where_, name(), columns_[index]);
    if (ec != std::errc() || end != cell.data() + cell.size())
      Fail("{}: layer \"{}\": {} = \"{}\" is not an integer", where_, name(), columns_[index], cell);
    if (v < 1) Fail("{}: layer \"{}\": {} = {} must be at least 1", where_, name(), columns_[index], v);
    return v;
  }

  [[noreturn]] void FailRow(const std::string& problem) const { Fail("{}: layer \"{}\": {}", where_, name(), problem); }

  void CheckCounts(const ConvGeometry& g) const {
    const std::string count = OverflowingCount(g);
    if (!count.empty()) FailRow(fmt::format("too large: its {} exceeds 2^62", count));
  }

 private:
  std::string where_;
  const CsvRow& row_;
  const std::vector<std::string>& columns_;
};

// A conv row. Padding is not modelled by SCALE-Sim (its sizes are pre-padded), so pad = 0.
ConvGeometry ConvRowGeometry(const RowReader& r, bool split_strides, int64_t batch) {
  const int64_t h = r.Size(1), w = r.Size(2), fh = r.Size(3), fw = r.Size(4);
  const int64_t channels = r.Size(5), filters = r.Size(6);
  const int64_t stride = r.Size(7), stride_w = split_strides ? r.Size(8) : stride;
  if (fh != fw) r.FailRow(fmt::format("filter {}x{} is not square; Octet models square filters only", fh, fw));
  if (stride != stride_w)
    r.FailRow(fmt::format("strides {} and {} differ; Octet models one stride for both axes", stride, stride_w));
  if (fh > h || fw > w) r.FailRow(fmt::format("filter {}x{} is larger than the {}x{} ifmap", fh, fw, h, w));
  return ConvGeometry{batch, channels, h, w, filters, fh, stride, 0};
}

// A GEMM row (M, N, K). SCALE-Sim makes it the conv [M, K, 1, K, 1, N, 1]: an M x K ifmap,
// one channel, N filters of 1 x K. Octet's square-kernel equivalent has the same GEMM:
// K channels over an M x 1 map, N filters of 1 x 1 (lowered rows M, reduction K).
ConvGeometry GemmRowGeometry(const RowReader& r, int64_t batch) {
  const int64_t m = r.Size(1), n = r.Size(2), k = r.Size(3);
  return ConvGeometry{batch, k, m, 1, n, 1, 1, 0};
}

Topology ParseScaleSimCsv(const std::string& text, const std::string& path, int64_t batch) {
  const std::vector<CsvRow> rows = ReadCsvRows(text);
  if (rows.empty())
    Fail("{}: empty: expected a SCALE-Sim topology header ({}, or {})", path, JoinColumns(kConvColumns),
         JoinColumns(kGemmColumns));
  const CsvRow& header = rows.front();
  const std::vector<std::string>* columns = nullptr;
  Topology t;
  t.name = fs::path(path).stem().string();
  t.source = path;
  if (HeaderMatches(header.cells, kConvColumns)) {
    columns = &kConvColumns;
    t.format = TopologyFormat::kScaleSimConv;
  } else if (HeaderMatches(header.cells, kConvColumnsHw)) {
    columns = &kConvColumnsHw;
    t.format = TopologyFormat::kScaleSimConv;
  } else if (HeaderMatches(header.cells, kGemmColumns)) {
    columns = &kGemmColumns;
    t.format = TopologyFormat::kScaleSimGemm;
  } else {
    std::string found;
    for (const auto& c : header.cells) found += (found.empty() ? "" : ", ") + c;
    Fail("{}:{}: unknown header \"{}\": expected the SCALE-Sim conv header ({}) or the GEMM header ({})", path,
         header.line, found, JoinColumns(kConvColumns), JoinColumns(kGemmColumns));
  }
  if (rows.size() == 1) Fail("{}: no layers: the file has only its header", path);
  for (size_t i = 1; i < rows.size(); ++i) {
    const RowReader r(path, rows[i], *columns);
    const ConvGeometry g = t.format == TopologyFormat::kScaleSimGemm
                               ? GemmRowGeometry(r, batch)
                               : ConvRowGeometry(r, columns == &kConvColumnsHw, batch);
    r.CheckCounts(g);
    // Every row is a quantized conv with its ReLU; only the first takes data, not an error.
    t.layers.push_back({r.name(), g, /*relu=*/true, /*input_error=*/i > 1, /*residual_add=*/false, /*quantized=*/true});
  }
  return t;
}

bool LooksLikeJson(const std::string& path, const std::string& text) {
  if (fs::path(path).extension() == ".json") return true;
  const std::string_view body = Trim(text);
  return !body.empty() && body.front() == '{';
}

Topology FromNetSpec(const NetSpec& spec, const std::string& source, int64_t batch) {
  Topology t{spec.name, source, TopologyFormat::kNetSpec, ExpandNetSpecLayers(spec, batch)};
  for (const auto& layer : t.layers) {
    const std::string count = OverflowingCount(layer.geometry);
    if (!count.empty())
      Fail("{}: layer {} at batch {} is too large: its {} exceeds 2^62", source, layer.name, batch, count);
  }
  return t;
}

}  // namespace

const char* TopologyFormatName(TopologyFormat format) {
  switch (format) {
    case TopologyFormat::kNetSpec:
      return "net-spec";
    case TopologyFormat::kScaleSimConv:
      return "scalesim-conv";
    case TopologyFormat::kScaleSimGemm:
      return "scalesim-gemm";
  }
  return "?";
}

std::vector<TopologyLayer> ExpandNetSpecLayers(const NetSpec& spec, int64_t batch) {
  CheckBatch(batch);
  // Mirrors the Network constructor (golden/net/network.cpp): same order, names, shapes.
  std::vector<TopologyLayer> layers;
  const ConvGeometry stem{batch,          spec.in_channels, spec.in_height,   spec.in_width,
                          spec.stem.out,  spec.stem.kernel, spec.stem.stride, spec.stem.pad};
  layers.push_back({"stem", stem, /*relu=*/true, /*input_error=*/false, /*residual_add=*/false, kStemQuantized});
  int64_t channels = spec.stem.out, h = stem.out_height(), w = stem.out_width();
  if (spec.stem.maxpool) {
    // The max-pool is no array layer; it only shrinks the map block1 sees.
    const PoolSpec& p = *spec.stem.maxpool;
    const fl::PoolGeometry pool{batch, channels, h, w, p.kernel, p.stride, p.pad};
    h = pool.out_height();
    w = pool.out_width();
  }
  for (size_t b = 0; b < spec.blocks.size(); ++b) {
    const BlockSpec& block = spec.blocks[b];
    const std::string name = fmt::format("block{}", b + 1);
    const ConvGeometry g1{batch, channels, h, w, block.out, 3, block.stride, 1};
    const ConvGeometry g2{batch, block.out, g1.out_height(), g1.out_width(), block.out, 3, 1, 1};
    layers.push_back({name + ".conv1", g1, /*relu=*/true, /*input_error=*/true, /*residual_add=*/false, true});
    // conv2's ReLU comes after the residual add, so it has both.
    layers.push_back({name + ".conv2", g2, /*relu=*/true, /*input_error=*/true, /*residual_add=*/true, true});
    if (block.stride != 1 || block.out != channels) {
      const ConvGeometry shortcut{batch, channels, h, w, block.out, 1, block.stride, 0};
      layers.push_back({name + ".shortcut", shortcut, /*relu=*/false, /*input_error=*/true, /*residual_add=*/false, true});
    }
    channels = block.out;
    h = g1.out_height();
    w = g1.out_width();
  }
  // The classifier: global average pool, then a fully connected layer, which is a 1x1 conv
  // over the pooled 1x1 map (as LayerInfo describes the head).
  const ConvGeometry fc{batch, channels, 1, 1, spec.classes, 1, 1, 0};
  layers.push_back({"fc", fc, /*relu=*/false, /*input_error=*/true, /*residual_add=*/false, kClassifierQuantized});
  return layers;
}

Topology LoadTopology(const std::string& path_or_builtin_net, int64_t batch) {
  CheckBatch(batch);
  const std::vector<std::string> builtins = BuiltinNetNames();
  if (std::find(builtins.begin(), builtins.end(), path_or_builtin_net) != builtins.end())
    return FromNetSpec(LoadNetSpec(path_or_builtin_net), "built-in network " + path_or_builtin_net, batch);
  if (!fs::is_regular_file(path_or_builtin_net)) {
    std::string names;
    for (const auto& n : builtins) names += (names.empty() ? "" : ", ") + n;
    Fail("unknown topology \"{}\": not a built-in network ({}) and no such file", path_or_builtin_net, names);
  }
  const std::string text = ReadTextFile(path_or_builtin_net);
  if (LooksLikeJson(path_or_builtin_net, text))
    return FromNetSpec(ParseNetSpec(text, path_or_builtin_net), path_or_builtin_net, batch);
  return ParseScaleSimCsv(text, path_or_builtin_net, batch);
}

}  // namespace octet
