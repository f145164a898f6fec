#pragma once
// Error in user input (YAML file, --set override, command line). Its message
// is complete: file, key, line and what is allowed. main() exits with 2.
#include <stdexcept>
#include <string>

namespace flowlat {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace flowlat
