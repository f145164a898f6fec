#include "job/Log.hpp"

#include <cstdarg>
#include <vector>

namespace flowlat {
namespace {

void vlog(std::FILE* out, const char* format, va_list arguments) {
  va_list copy;
  va_copy(copy, arguments);
  const int length = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (length < 0) return;
  std::vector<char> text(static_cast<size_t>(length) + 1);
  std::vsnprintf(text.data(), text.size(), format, arguments);
  const std::string stamp = utc_timestamp() + "  ";
  std::string lines;
  bool line_start = true;
  for (int i = 0; i < length; ++i) {
    const char c = text[static_cast<size_t>(i)];
    if (line_start && c != '\n') lines += stamp;
    lines += c;
    line_start = c == '\n';
  }
  std::fputs(lines.c_str(), out);
  std::fflush(out);
}

}  // namespace

void log_to(std::FILE* out, const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  vlog(out, format, arguments);
  va_end(arguments);
}

void log_line(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  vlog(stdout, format, arguments);
  va_end(arguments);
}

}  // namespace flowlat
