// Network spec files (docs/network-spec.md): a ResNet described as a stem, a list of
// basic blocks and a classifier. Built-in specs are golden/nets/*.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace octet {

struct PoolSpec {
  int64_t kernel = 3, stride = 2, pad = 1;
};

struct StemSpec {
  int64_t out = 16, kernel = 3, stride = 1, pad = 1;
  std::optional<PoolSpec> maxpool;
};

struct BlockSpec {
  int64_t out = 16, stride = 1;
};

struct NetSpec {
  std::string name;
  int64_t in_channels = 1, in_height = 28, in_width = 28;
  int64_t classes = 10;
  StemSpec stem;
  std::vector<BlockSpec> blocks;
};

NetSpec ParseNetSpec(const std::string& json_text, const std::string& origin);
// A built-in name (small-resnet, resnet18) or a path to a JSON file.
NetSpec LoadNetSpec(const std::string& name_or_path);
std::vector<std::string> BuiltinNetNames();
std::string NetSpecToJson(const NetSpec& spec);

}  // namespace octet
