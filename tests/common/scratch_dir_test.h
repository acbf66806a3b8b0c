// Support for tests that write files: a fixture with a fresh scratch directory per test and
// process (ctest runs tests of one binary in parallel processes, so the name includes the
// pid), and the check of a one-line error.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "golden/core/error.h"

namespace octet {

class ScratchDirTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(testing::TempDir()) / "octet_test" /
           (std::string(info->test_suite_name()) + "." + info->name() + "." + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

// Expects fn to throw octet::Error whose one-line message names path and the problem.
template <typename Fn>
void ExpectError(Fn&& fn, const std::string& path, const std::string& problem) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown; expected: " << problem;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(problem), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace octet
