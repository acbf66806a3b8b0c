// Files embedded into the binary at build time (see the top-level CMakeLists.txt).
#pragma once

#include <string>
#include <vector>

namespace octet {

struct EmbeddedFile {
  std::string name;     // file stem, e.g. "wageubn8"
  std::string content;  // the JSON text
};

const std::vector<EmbeddedFile>& Embedded_schemes();
const std::vector<EmbeddedFile>& Embedded_nets();
const std::vector<EmbeddedFile>& Embedded_configs();  // model/configs, in octet_model
const std::vector<EmbeddedFile>& Embedded_tech();     // sim/report/tech, in octet_report

}  // namespace octet

#include <filesystem>

#include "golden/core/error.h"
#include "golden/core/text_file.h"

namespace octet {

// The names of a set of built-in files, in order.
inline std::vector<std::string> EmbeddedNames(const std::vector<EmbeddedFile>& files) {
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.name);
  return names;
}

// A built-in's text or a file's: `kind` ("scheme", "network") names it in messages and in
// *origin, which receives what parse errors should cite.
inline std::string BuiltinOrFileText(const std::vector<EmbeddedFile>& builtins, const std::string& kind,
                                     const std::string& name_or_path, std::string* origin) {
  for (const auto& f : builtins) {
    if (f.name == name_or_path) {
      *origin = kind + " " + f.name;
      return f.content;
    }
  }
  if (!std::filesystem::is_regular_file(name_or_path)) {
    std::string names;
    for (const auto& n : EmbeddedNames(builtins)) names += (names.empty() ? "" : ", ") + n;
    Fail("unknown {} \"{}\": not a built-in ({}) and no such file", kind, name_or_path, names);
  }
  *origin = name_or_path;
  return ReadTextFile(name_or_path);
}

}  // namespace octet
