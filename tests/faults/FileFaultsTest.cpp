// Hostile files given to the commands that read them: ensembles (analyze,
// sample --resume, hmc --resume, run --hmc), models (sample --model) and
// checkpoints (train --resume). Each is refused naming the file, and the
// file itself, like every other, is left exactly as it was.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "faults/FaultHarness.hpp"
#include "io/H5File.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {
namespace fs = std::filesystem;

std::function<void(const std::string&)> truncated(const std::string& file, double fraction) {
  return [file, fraction](const std::string& dir) { truncate_file(dir + "/" + file, fraction); };
}
std::function<void(const std::string&)> flipped(const std::string& file, double position) {
  return [file, position](const std::string& dir) { flip_byte(dir + "/" + file, position); };
}
std::function<void(const std::string&)> text_in(const std::string& file) {
  return [file](const std::string& dir) { write_text(dir + "/" + file, "not an HDF5 file\n"); };
}
std::function<void(const std::string&)> attribute(const std::string& file, const std::string& name, long long value) {
  return [file, name, value](const std::string& dir) { set_root_attribute(dir + "/" + file, name, value); };
}
std::function<void(const std::string&)> without(const std::string& file, const std::string& object) {
  return [file, object](const std::string& dir) { remove_object(dir + "/" + file, object); };
}
// A model trained for 2 steps with `settings` (--set ...), saved as `file`.
std::function<void(const std::string&)> model_trained_with(const std::string& settings, const std::string& file) {
  return [settings, file](const std::string& dir) {
    const CommandResult made = run_command("cd " + dir + " && " +
                                           expand("{bin} train tiny.yaml " + settings +
                                                  " --set run.output_dir=other --set train.steps=2") +
                                           " && mv other/model.pt " + file + " && rm -r other");
    if (made.exit_code != 0) throw std::runtime_error(made.output);
  };
}
// An unfinished ensemble (the fixture's n_written lowered), to resume.
std::function<void(const std::string&)> unfinished_then(std::function<void(const std::string&)> also = nullptr) {
  return [also](const std::string& dir) {
    set_root_attribute(dir + "/run/ensemble.h5", "n_written", 64);
    if (also) also(dir);
  };
}

const std::vector<Fault>& ensemble_faults() {
  static const std::vector<Fault> faults = {
      {"AnalyzeTruncated", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5", truncated("run/ensemble.h5", 0.5)},
      {"AnalyzeZeroBytes", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5", truncated("run/ensemble.h5", 0)},
      {"AnalyzeTextFile", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5", text_in("run/ensemble.h5")},
      {"AnalyzeWithoutLogW", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5.*log_w",
       without("run/ensemble.h5", "/log_w")},
      {"AnalyzeWrittenPastTheEnd", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5.*n_written",
       attribute("run/ensemble.h5", "n_written", 1LL << 40)},
      {"AnalyzeNegativeWritten", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5.*n_written",
       attribute("run/ensemble.h5", "n_written", -5)},
      {"AnalyzeNewerFormat", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5.*newer",
       attribute("run/ensemble.h5", "format_version", 99)},
      {"AnalyzeTwoDimensionalLogW", "{bin} analyze run/ensemble.h5", 2,
       "ensemble\\.h5: /log_w must hold one value per row",
       [](const std::string& dir) { make_two_dimensional(dir + "/run/ensemble.h5", "/log_w"); }},
      {"AnalyzeUnknownSource", "{bin} analyze run/ensemble.h5", 2, "ensemble\\.h5: root attribute source is 'banana'",
       [](const std::string& dir) { set_root_attribute(dir + "/run/ensemble.h5", "source", std::string("banana")); }},
      {"AnalyzeHmcOfZeroChains", "{bin} analyze run/hmc.h5", 2, "hmc\\.h5: root attribute n_chains = 0 \\(must be >= 1\\)",
       attribute("run/hmc.h5", "n_chains", 0)},
      {"HmcResumeOfZeroChains", "{bin} hmc tiny.yaml --resume", 2, "hmc\\.h5: root attribute n_chains = 0",
       attribute("run/hmc.h5", "n_chains", 0)},
      {"AnalyzeStoreIntoTruncated", "{bin} analyze run/ensemble.h5 --store", 2, "ensemble\\.h5",
       truncated("run/ensemble.h5", 0.5)},
      {"AnalyzeVersusTruncated", "{bin} analyze run/ensemble.h5 --versus run/hmc.h5", 2, "hmc\\.h5",
       truncated("run/hmc.h5", 0.3)},
      {"SampleResumeTruncated", "{bin} sample tiny.yaml --resume", 2, "ensemble\\.h5",
       truncated("run/ensemble.h5", 0.5)},
      {"SampleResumePastTheEnd", "{bin} sample tiny.yaml --resume", 2, "ensemble\\.h5.*n_written",
       attribute("run/ensemble.h5", "n_written", 1LL << 40)},
      {"SampleResumeWithoutChainData", "{bin} sample tiny.yaml --resume", 2, "ensemble\\.h5: has no /mcmc/state.*cannot be continued",
       unfinished_then(without("run/ensemble.h5", "/mcmc"))},
      {"SampleResumeConfigurationsOfAnotherShape", "{bin} sample tiny.yaml --resume", 2,
       "ensemble\\.h5: /configs does not have the shape its attributes give",
       unfinished_then([](const std::string& dir) {
         const H5File file(dir + "/run/ensemble.h5", FileMode::ReadWrite);
         file.attributes().write_int64_vector("lattice_shape", {8, 8});
       })},
      {"SampleResumeNewerFormat", "{bin} sample tiny.yaml --resume", 2, "ensemble\\.h5.*newer",
       unfinished_then(attribute("run/ensemble.h5", "format_version", 99))},
      {"HmcResumeTextFile", "{bin} hmc tiny.yaml --resume", 2, "hmc\\.h5", text_in("run/hmc.h5")},
      {"HmcResumeWithoutChainFields", "{bin} hmc tiny.yaml --resume", 2, "hmc\\.h5.*chain_state.*cannot be continued",
       without("run/hmc.h5", "/chain_state")},
      {"RunHmcTextFile", "{bin} run tiny.yaml --force --hmc run/hmc.h5", 2, "--hmc run/hmc\\.h5.*not a readable",
       text_in("run/hmc.h5")},
      {"RunHmcIsAFlowEnsemble", "{bin} run tiny.yaml --force --hmc run/ensemble.h5", 2,
       "--hmc run/ensemble\\.h5.*flowlat flow, not flowlat hmc"},
      {"RunHmcOfAnotherLattice", "{bin} run tiny.yaml --force --hmc run/hmc.h5 --set lattice.shape=[6,6]", 2,
       "--hmc run/hmc\\.h5.*lattice\\.shape"},
      {"RunHmcOfAnotherCoupling", "{bin} run tiny.yaml --force --hmc run/hmc.h5 --set action.lambda=7", 2,
       "--hmc run/hmc\\.h5.*action\\.m2 / action\\.lambda"},
  };
  return faults;
}

const std::vector<Fault>& model_faults() {
  static const std::vector<Fault> faults = {
      {"SampleTruncatedModel", "{bin} sample tiny.yaml --force", 1, "model\\.pt", truncated("run/model.pt", 0.5)},
      {"SampleZeroByteModel", "{bin} sample tiny.yaml --force", 1, "model\\.pt", truncated("run/model.pt", 0)},
      {"SampleTextModel", "{bin} sample tiny.yaml --force", 1, "model\\.pt", text_in("run/model.pt")},
      {"SampleFlippedByteModel", "{bin} sample tiny.yaml --force", 1, "model\\.pt", flipped("run/model.pt", 0.6)},
      {"SampleMissingModel", "{bin} sample tiny.yaml --force --model nothere.pt", 1, "nothere\\.pt"},
      {"SampleModelOfAnotherArchitecture", "{bin} sample tiny.yaml --force --model other.pt", 2,
       "other\\.pt: model architecture differs from the configuration.*hidden_channels",
       model_trained_with("--set flow.hidden_channels=[8]", "other.pt")},
      {"SampleResumeWithAnotherModel", "{bin} sample tiny.yaml --resume --model same.pt", 2,
       "--resume needs the model.*same\\.pt", unfinished_then(model_trained_with("--set train.seed=99", "same.pt"))},
      {"TrainFromAModelOfAnotherNetwork", "{bin} train tiny.yaml --set run.output_dir=run2 --set train.init_from=other.pt",
       2, "train\\.init_from: other\\.pt: .*hidden_channels", model_trained_with("--set flow.hidden_channels=[8]", "other.pt")},
      {"TrainFromAModelOfAnotherDimension",
       "{bin} train tiny.yaml --set run.output_dir=run2 --set train.init_from=line.pt", 2,
       "train\\.init_from: line\\.pt: .*lattice dimension 1 vs 2", model_trained_with("--set lattice.shape=[16]", "line.pt")},
  };
  return faults;
}

// Both checkpoints (the newest and the one before it) damaged the same way.
std::function<void(const std::string&)> both_checkpoints(std::function<void(const std::string&, double)> damage,
                                                         double where) {
  return [damage, where](const std::string& dir) {
    damage(dir + "/run/checkpoint.ckpt", where);
    damage(dir + "/run/checkpoint.ckpt.prev", where);
  };
}

const std::vector<Fault>& checkpoint_faults() {
  static const std::vector<Fault> faults = {
      {"ResumeFallsBackPastADamagedCheckpoint", "{bin} train tiny.yaml --resume --set train.steps=20", 0,
       "run/checkpoint\\.ckpt: truncated[\\s\\S]*kept the unusable run/checkpoint\\.ckpt as "
       "run/checkpoint\\.ckpt\\.damaged[\\s\\S]*resuming from run/checkpoint\\.ckpt\\.prev at step 5",
       truncated("run/checkpoint.ckpt", 0.5), {"run"}},
      {"ResumeBothCheckpointsTruncated", "{bin} train tiny.yaml --resume --set train.steps=20", 1,
       "no usable checkpoint \\(nothing was changed\\)[\\s\\S]*checkpoint\\.ckpt: truncated",
       both_checkpoints(truncate_file, 0.5)},
      {"ResumeBothCheckpointsFlipped", "{bin} train tiny.yaml --resume --set train.steps=20", 1,
       "no usable checkpoint[\\s\\S]*checkpoint\\.ckpt\\.prev", both_checkpoints(flip_byte, 0.7)},
      {"ResumeBothCheckpointsEmpty", "{bin} train tiny.yaml --resume --set train.steps=20", 1,
       "no usable checkpoint[\\s\\S]*checkpoint\\.ckpt", both_checkpoints(truncate_file, 0)},
      {"ResumeWithAnotherLattice", "{bin} train tiny.yaml --resume --set train.steps=20 --set lattice.shape=[6,6]", 2,
       "lattice\\.shape"},
      {"ResumeWithoutAnyCheckpoint", "{bin} train tiny.yaml --resume", 2, "--resume: no checkpoint in run",
       [](const std::string& dir) {
         fs::remove(dir + "/run/checkpoint.ckpt");
         fs::remove(dir + "/run/checkpoint.ckpt.prev");
       }},
  };
  return faults;
}

INSTANTIATE_TEST_SUITE_P(Ensemble, FaultTest, ::testing::ValuesIn(ensemble_faults()), fault_name);
INSTANTIATE_TEST_SUITE_P(Model, FaultTest, ::testing::ValuesIn(model_faults()), fault_name);
INSTANTIATE_TEST_SUITE_P(Checkpoint, FaultTest, ::testing::ValuesIn(checkpoint_faults()), fault_name);

}  // namespace
}  // namespace flowlat::testing
