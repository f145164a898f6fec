#pragma once
// Which configuration changes a restart accepts (README: checkpoints and
// restart). The resolved configuration stored in the checkpoint is compared
// with the new one key by key; only the step budget, logging and checking
// periods, run.resume, run.max_walltime, run.output_dir and the sample.* and
// hmc.* sections (which do not affect training) may differ.
#include <string>
#include <vector>

namespace flowlat {

// One line per key that differs and must not: "train.lr: 0.001 in the
// checkpoint, 0.002 now". Empty when the restart may go on. Local.
std::vector<std::string> forbidden_config_changes(const std::string& checkpoint_yaml, const std::string& new_yaml);

// True for the keys a restart may change (see above). Local.
bool may_change_on_resume(const std::string& key);

// For `flowlat sample --resume`: the keys that do not change the ensemble's
// rows (run.resume, run.max_walltime, run.output_dir, the logging periods,
// hmc.*) may differ; everything else, the step budget included, must not.
// Lines as above, naming the file instead of the checkpoint. Local.
std::vector<std::string> forbidden_ensemble_changes(const std::string& file_yaml, const std::string& new_yaml);

}  // namespace flowlat
