#pragma once
// The checkpoint container (README: checkpoints and restart): a short text
// header followed by an opaque payload,
//   flowlat-checkpoint 1\n
//   bytes <payload size>\n
//   checksum fnv1a64:<16 hex digits of the payload>\n
//   \n<payload>
// so that a truncated or corrupted file is recognised before it is used.
#include <stdexcept>
#include <string>

namespace flowlat {

// A checkpoint that cannot be used (missing, truncated, bad checksum).
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `payload` to `path` atomically and durably: `path`.tmp is written
// and fsync'ed, an existing `path` becomes `path`.prev, the temporary is
// renamed to `path`, and the directory is fsync'ed. Local (call on one rank).
void write_checkpoint_file(const std::string& path, const std::string& payload);

// The verified payload of `path`; throws CheckpointError saying what is
// wrong with it (the file is left as it is). Local.
std::string read_checkpoint_file(const std::string& path);

// `path`.prev: where the previous checkpoint is kept.
inline std::string previous_checkpoint_path(const std::string& path) { return path + ".prev"; }

}  // namespace flowlat
