#include "cli/ResumeCommand.hpp"

#include "parallel/MpiSession.hpp"

namespace flowlat {
namespace {

// `text` as one sh word: bare when it holds only safe characters. Local.
std::string shell_word(const std::string& text) {
  const bool safe = !text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "0123456789_-./=:,+@%") == std::string::npos;
  if (safe) return text;
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string launcher(int n_ranks) {
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
  std::string command = launcher(n_ranks);
  bool resume = false;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == "--force") continue;
    if (arguments[i] == "--resume") resume = true;
    command += (i > 0 ? " " : "") + shell_word(arguments[i]);
  }
  return resume ? command : command + " --resume";
}

}  // namespace flowlat
