// Log lines: every non-empty line of a log call starts with the UTC time;
// blank lines stay blank, so tables and spacing survive.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "job/Log.hpp"

namespace flowlat {
namespace {

TEST(Log, EveryNonEmptyLineStartsWithTheUtcTime) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  log_to(file, "\nmodel: %s\nhistory: %s\n", "a.pt", "h.csv");
  std::rewind(file);
  char buffer[512] = {};
  const size_t n = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  const std::string text(buffer, n);
  const std::string stamp = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z  ";
  EXPECT_TRUE(std::regex_match(text, std::regex("\n" + stamp + "model: a\\.pt\n" + stamp + "history: h\\.csv\n")))
      << text;
  EXPECT_TRUE(std::regex_match(utc_timestamp(), std::regex(stamp.substr(0, stamp.size() - 2))));
}

}  // namespace
}  // namespace flowlat
