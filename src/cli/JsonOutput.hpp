#pragma once
// The --json PATH|- option of every command: the command's
// results as one JSON document (the job's summary with its provenance),
// written by rank 0 when the command has finished. PATH is written
// atomically and never replaces an existing file without --force; "-"
// writes the JSON alone to stdout, everything else rank 0 prints going to
// stderr for the whole command, so that `flowlat sample ... --json - | jq`
// works.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "parallel/Communicator.hpp"

namespace flowlat {

class JsonOutput {
 public:
  JsonOutput() = default;
  JsonOutput(const JsonOutput&) = delete;
  JsonOutput& operator=(const JsonOutput&) = delete;
  ~JsonOutput();

  // Refuses, before any work is done, a PATH that names one of the
  // command's own files (`own_files`: its inputs and outputs, even with
  // `force`), an existing PATH unless `force`, and a PATH in a missing
  // directory; for "-", points rank 0's stdout at stderr until finish().
  // No-op without --json. Collective.
  void begin(const std::string& target, bool force, const std::vector<std::string>& own_files,
             const Communicator& comm);
  // Writes `result` (meaningful on rank 0) to the target and restores
  // stdout. Collective.
  void finish(const nlohmann::json& result, const Communicator& comm);

 private:
  void restore_stdout();
  std::string target_;
  bool force_ = false;
  int saved_stdout_ = -1;
};

}  // namespace flowlat
