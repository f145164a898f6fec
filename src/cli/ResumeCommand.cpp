#include "cli/ResumeCommand.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "job/ShellWord.hpp"
#include "parallel/MpiSession.hpp"

namespace flowlat {
namespace {

// The words of the parent process's command line (Linux /proc). Local.
std::vector<std::string> parent_command_line() {
  std::ifstream file("/proc/" + std::to_string(getppid()) + "/cmdline", std::ios::binary);
  std::vector<std::string> words;
  for (std::string word; std::getline(file, word, '\0');) words.push_back(word);
  return words;
}

// mpirun's command line up to `binary`, quoted and followed by a space,
// when the parent process is mpirun (or mpiexec, orterun) running it; "". Local.
std::string parent_launcher(const std::string& binary) {
  const std::vector<std::string> parent = parent_command_line();
  if (parent.empty()) return "";
  const std::string name = std::filesystem::path(parent.front()).filename().string();
  if (name.rfind("mpirun", 0) != 0 && name.rfind("mpiexec", 0) != 0 && name.rfind("orterun", 0) != 0) return "";
  const auto at = std::find(parent.begin() + 1, parent.end(), binary);
  if (at == parent.end()) return "";
  std::string command;
  for (auto word = parent.begin(); word != at; ++word) command += shell_word(*word) + " ";
  return command;
}

std::string launcher(int n_ranks, const std::string& binary) {
  if (n_ranks > 1 || MpiSession::launcher() == MpiSession::Launcher::OpenMpi) {
    if (const std::string parent = parent_launcher(binary); !parent.empty()) return parent;
  }
  const std::string n = std::to_string(n_ranks);
  switch (MpiSession::launcher()) {
    case MpiSession::Launcher::OpenMpi: return "mpirun -np " + n + " ";
    case MpiSession::Launcher::Srun: return "srun -n " + n + " ";
    case MpiSession::Launcher::OtherMpi: return "mpiexec -n " + n + " ";
    case MpiSession::Launcher::None: break;
  }
  return n_ranks > 1 ? "mpiexec -n " + n + " " : "";
}

}  // namespace

std::string resume_command(const std::vector<std::string>& arguments, int n_ranks) {
  std::string command = launcher(n_ranks, arguments.empty() ? "" : arguments.front());
  bool resume = false;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == "--force") continue;
    if (arguments[i] == "--resume") resume = true;
    command += (i > 0 ? " " : "") + shell_word(arguments[i]);
  }
  return resume ? command : command + " --resume";
}

}  // namespace flowlat
