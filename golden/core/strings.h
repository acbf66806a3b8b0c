// Small string helpers shared by the text-format parsers (SCALE-Sim .cfg and CSV).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace octet {

// s without leading and trailing white space.
inline std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// s in lower case (ASCII).
inline std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace octet
