// Reading a whole text file (JSON specs, manifests) with a one-line error on failure.
#pragma once

#include <cerrno>
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

}  // namespace octet
