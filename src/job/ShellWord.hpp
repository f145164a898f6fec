#pragma once
// One argument as a POSIX sh word, for the commands flowlat prints (the
// "continue with:" command, how to make the plots) and runs (sh -c).
#include <string>

namespace flowlat {

// `text` bare when it holds only characters sh leaves alone, else in single
// quotes (a quote inside as '\''). Local.
std::string shell_word(const std::string& text);

}  // namespace flowlat
