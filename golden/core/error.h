// One exception type for every user-facing failure (bad file, bad shape, bad config).
// The CLI catches it at the top and prints "octet: <what()>" on one line, exit 2.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace octet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error with a fmt-formatted one-line message.
template <typename... Args>
[[noreturn]] void Fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace octet
