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

}  // namespace octet
