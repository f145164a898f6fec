#include "io/AtomicFile.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace flowlat {

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(temporary + ": write failed");
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace flowlat
