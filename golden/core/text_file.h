// Reading and writing whole text files (JSON specs, manifests, reports) with a one-line
// error on failure.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "golden/core/error.h"

namespace octet {

// The file's contents; `what` describes it in the error ("not a trace directory?").
inline std::string ReadTextFile(const std::string& path, const std::string& what = "") {
  std::ifstream in(path);
  if (!in) Fail("{}: cannot open: {}{}", path, std::strerror(errno), what.empty() ? "" : " (" + what + ")");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) Fail("{}: read error", path);
  return text.str();
}

// Writes path + ".partial" and renames it over path, so a reader never finds a partial
// report under the final name.
inline void WriteTextFileAtomically(const std::string& path, const std::string& text) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) Fail("{}: cannot write: {}", path, std::strerror(errno));
    out << text;
    out.flush();
    if (!out) {
      std::remove(partial.c_str());
      Fail("{}: write error", path);
    }
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(partial.c_str());
    Fail("{}: cannot write: {}", path, reason);
  }
}

}  // namespace octet
