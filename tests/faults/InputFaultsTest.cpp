// Hostile configuration files, --set overrides and command lines, through
// all five commands: each is refused with exit 2, a message naming the
// file, key or line, and nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "faults/FaultHarness.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {

// A config file `name` in the case directory holding `text`.
std::function<void(const std::string&)> config_file(const std::string& name, const std::string& text) {
  return [name, text](const std::string& dir) { write_text(dir + "/" + name, text); };
}

// tiny.yaml with `from` replaced by `to`.
std::function<void(const std::string&)> edited_config(const std::string& from, const std::string& to) {
  return [from, to](const std::string& dir) {
    std::string text = read_text(dir + "/tiny.yaml");
    const size_t at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("tiny.yaml has no '" + from + "'");
    write_text(dir + "/tiny.yaml", text.replace(at, from.size(), to));
  };
}

std::string anchor_bomb() {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 9; ++level) {
    const std::string previous = "*a" + std::to_string(level - 1);
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) text += previous + (i < 9 ? ", " : "");
    text += "]\n";
  }
  return text;
}

std::string deep_nesting() {
  std::string text = "train: ";
  for (int i = 0; i < 2000; ++i) text += "{a: ";
  text += "1";
  for (int i = 0; i < 2000; ++i) text += "}";
  return text + "\n";
}

const std::vector<Fault>& yaml_faults() {
  static const std::vector<Fault> faults = {
      {"EmptyFile", "{bin} train empty.yaml", 2, "empty\\.yaml", config_file("empty.yaml", "")},
      {"BinaryGarbage", "{bin} train garbage.yaml", 2, "garbage\\.yaml",
       config_file("garbage.yaml", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe", 18))},
      {"TabIndentation", "{bin} train tabs.yaml", 2, "tabs\\.yaml:2: invalid YAML",
       config_file("tabs.yaml", "train:\n\tsteps: 10\n")},
      {"UnclosedBracket", "{bin} train bracket.yaml", 2, "bracket\\.yaml:1: invalid YAML",
       config_file("bracket.yaml", "lattice: {shape: [4, 4}\n")},
      {"AnchorBomb", "{bin} train bomb.yaml", 2, "bomb\\.yaml.*a0", config_file("bomb.yaml", anchor_bomb())},
      {"DeepNesting", "{bin} train deep.yaml", 2, "deep\\.yaml", config_file("deep.yaml", deep_nesting())},
      {"ScalarDocument", "{bin} train scalar.yaml", 2, "scalar\\.yaml", config_file("scalar.yaml", "hello\n")},
      {"ListDocument", "{bin} train list.yaml", 2, "list\\.yaml", config_file("list.yaml", "- train\n- run\n")},
      {"SectionIsAScalar", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: train: must be a mapping",
       edited_config("train:   {steps: 10, batch_size: 16, lr: 1.0e-3, seed: 7, log_every: 5, checkpoint_every: 5}",
                     "train: 5")},
      {"KeyTypo", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: unknown key 'train\\.stepz' \\(did you mean 'train\\.steps'", edited_config("steps: 10", "stepz: 10")},
      {"UnknownSection", "{bin} sample tiny.yaml", 2, "tiny\\.yaml:8: unknown key 'trian' \\(did you mean 'train'",
       [](const std::string& dir) { write_text(dir + "/tiny.yaml", read_text(dir + "/tiny.yaml") + "trian: {}\n"); }},
      {"StringForInteger", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: train\\.steps: must be an integer \\(got 'ten'\\)", edited_config("steps: 10", "steps: ten")},
      {"FractionForInteger", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: train\\.steps: must be an integer",
       edited_config("steps: 10", "steps: 2.5")},
      {"ListForScalar", "{bin} hmc tiny.yaml", 2, "tiny\\.yaml:6: hmc\\.n_chains: must be an integer",
       edited_config("n_chains: 4", "n_chains: [4, 4]")},
      {"NegativeBatch", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: train\\.batch_size: must be >= 1 \\(got -1\\)",
       edited_config("batch_size: 16", "batch_size: -1")},
      {"NotANumberRate", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: train\\.lr: must be > 0 \\(got nan\\)", edited_config("lr: 1.0e-3", "lr: .nan")},
      {"InfiniteMass", "{bin} hmc tiny.yaml", 2, "tiny\\.yaml:2: action\\.m2: must be finite", edited_config("m2: -4.0", "m2: .inf")},
      {"NegativeStepSize", "{bin} hmc tiny.yaml", 2, "tiny\\.yaml:6: hmc\\.step_size: must be > 0",
       edited_config("step_size: 0.2", "step_size: -0.2")},
      {"DuplicateKey", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: train\\.steps: given twice",
       edited_config("steps: 10,", "steps: 10, steps: 20,")},
      {"DuplicateSection", "{bin} run tiny.yaml", 2, "tiny\\.yaml:8: section 'train' appears twice",
       [](const std::string& dir) { write_text(dir + "/tiny.yaml", read_text(dir + "/tiny.yaml") + "train: {}\n"); }},
      {"EmptyValue", "{bin} train tiny.yaml", 2, "tiny\\.yaml:4: train\\.steps: empty value", edited_config("steps: 10", "steps: ")},
      {"NonUtf8Value", "{bin} train tiny.yaml", 2, "tiny\\.yaml",
       edited_config("output_dir: run", "output_dir: \"r\xff\xfeun\"")},
      {"OddLatticeExtent", "{bin} train tiny.yaml", 2, "tiny\\.yaml:1: lattice\\.shape: every extent must be even",
       edited_config("shape: [4, 4]", "shape: [5, 4]")},
      {"OverflowingVolume", "{bin} train tiny.yaml", 2, "lattice\\.shape.*2\\^30",
       edited_config("shape: [4, 4]", "shape: [4294967296, 4294967296]")},
      {"RateTooLargeForFloat32", "{bin} train tiny.yaml --set run.precision=float32", 2,
       "train\\.lr.*float32.*1e\\+300", edited_config("lr: 1.0e-3", "lr: 1.0e300")},
      {"CouplingTooLargeForFloat32", "{bin} sample tiny.yaml --set run.precision=float32 --set action.lambda=1e39", 2,
       "action\\.lambda.*float32"},
      {"SecondYamlDocument", "{bin} train tiny.yaml --force", 2, "tiny\\.yaml: holds 2 YAML documents",
       [](const std::string& dir) {
         write_text(dir + "/tiny.yaml", read_text(dir + "/tiny.yaml") + "---\ntrain: {steps: 99}\n");
       }},
      {"ConfigIsADirectory", "{bin} train run", 2, "run"},
      {"ConfigMissing", "{bin} hmc missing.yaml", 2, "missing\\.yaml"},
  };
  return faults;
}

const std::vector<Fault>& override_faults() {
  static const std::vector<Fault> faults = {
      {"SetWithoutEquals", "{bin} train tiny.yaml --set train.steps", 2, "train\\.steps"},
      {"SetUnknownKey", "{bin} sample tiny.yaml --set sample.n_config=5", 2, "sample\\.n_config.*n_configs"},
      {"SetEmptyValue", "{bin} train tiny.yaml --set train.lr=", 2, "train\\.lr.*empty"},
      {"SetASectionAsAKey", "{bin} train tiny.yaml --set train=5", 2, "--set train=5: name one key, section\\.key=value"},
      {"SetWrongType", "{bin} hmc tiny.yaml --set hmc.n_trajectories=many", 2, "hmc\\.n_trajectories"},
      {"EmptyOutputName", "{bin} sample tiny.yaml --output ''", 2, "--output"},
      {"SetTwice", "{bin} train tiny.yaml --set train.steps=3 --set train.steps=4", 2,
       "--set train\\.steps=4: train\\.steps given twice"},
      {"SetAdamBetaToOne", "{bin} train tiny.yaml --set train.adam_beta2=1", 2,
       "train\\.adam_beta2: must be in \\[0, 1\\) \\(got 1\\)"},
      {"SetFinalRateAboveTheRate", "{bin} train tiny.yaml --set train.lr_schedule=cosine --set train.lr_min=1e-2", 2,
       "train\\.lr_min: must be <= train\\.lr = 0\\.001 with the cosine schedule"},
      {"SetWarmupOfTheWholeRun", "{bin} train tiny.yaml --set train.warmup_steps=10", 2,
       "train\\.warmup_steps: must be < train\\.steps = 10"},
      {"SetMoreCouplingsThanLayers", "{bin} train tiny.yaml --set flow.coupling=[affine,spline,affine]", 2,
       "flow\\.coupling: has 3 entries, more than the flow\\.n_layers = 2 layers"},
      {"SetTuningTooShort", "{bin} hmc tiny.yaml --force --set hmc.tune=auto --set hmc.tune_trajectories=20", 2,
       "hmc\\.tune_trajectories: must be >= 80"},
      {"SetTrajectoryOfAMillionCorrelationLengths", "{bin} hmc tiny.yaml --force --set hmc.trajectory_length_xi=1e6",
       2, "hmc\\.trajectory_length_xi: must be in \\[0\\.01, 20\\]"},
      {"SetOddIntegrationNodes", "{bin} ti tiny.yaml --set hmc.step_jitter=0.2 --set ti.nodes=3", 2,
       "ti\\.nodes: must be even and >= 2 \\(.*\\) \\(got 3\\)"},
      {"SetIntegrationFromAMasslessField", "{bin} ti tiny.yaml --set hmc.step_jitter=0.2 --set ti.m2_start=0", 2,
       "ti\\.m2_start: must be > 0"},
      {"IntegrationWithAFixedTrajectoryLength", "{bin} ti tiny.yaml", 2, "flowlat ti needs hmc\\.step_jitter > 0"},
      {"IntegrationNodeOutOfRange", "{bin} ti tiny.yaml --set hmc.step_jitter=0.2 --set ti.nodes=2 --node 3", 2,
       "--node 3: the integration has nodes 0 to 2"},
      {"ResumeIntegrationWithANodeOfOtherSettings",
       "{bin} ti tiny.yaml --resume --set hmc.step_jitter=0.2 --set ti.nodes=2", 2,
       "run/ti/n2_k00\\.h5: this node of the integration was run with other settings \\(--force runs every node "
       "anew\\):\\n  action\\.lambda",
       [](const std::string& dir) {
         std::filesystem::create_directories(dir + "/run/ti");
         std::filesystem::copy_file(dir + "/run/hmc.h5", dir + "/run/ti/n2_k00.h5");
       }},
      {"SetNegativeAnnealingSteps", "{bin} sample tiny.yaml --set sample.anneal_steps=-1", 2,
       "sample\\.anneal_steps: must be in \\[0, 100000\\] \\(got -1\\)"},
      {"SetAnnealingStepOfZero", "{bin} sample tiny.yaml --set sample.anneal_steps=2 --set sample.anneal_step_size=0", 2,
       "sample\\.anneal_step_size: must be in \\[1e-06, 10\\] \\(got 0\\)"},
      {"SetAnnealingWithoutLeapfrogSteps", "{bin} sample tiny.yaml --set sample.anneal_steps=2 --set sample.anneal_md_steps=0",
       2, "sample\\.anneal_md_steps: must be in \\[1, 1000\\] \\(got 0\\)"},
      {"ResumeSampleWithOtherAnnealing", "{bin} sample tiny.yaml --resume --set sample.anneal_steps=2", 2,
       "ensemble\\.h5: --resume needs the configuration the file was started with .*:\\n  sample\\.anneal_steps: 0 "
       "in the file, 2 now"},
      {"ResumeWithAnotherEvaluationPeriod", "{bin} train tiny.yaml --resume --set train.steps=20 --set train.eval_every=5",
       2, "cannot resume with a changed configuration \\(only .*train\\.steps, .*\\):\\n  train\\.eval_every: 0 in the checkpoint, 5 now"},
      {"ResumeFromAnotherModel", "{bin} train tiny.yaml --resume --set train.steps=20 --set train.init_from=run/model.pt",
       2, "train\\.init_from: \\(absent\\)|train\\.init_from: .* in the checkpoint"},
  };
  return faults;
}

// Runs whose size cannot fit in memory: refused from the configuration
// before the run directory or any output exists (the fixtures' run/ is
// moved aside so that "nothing created" is seen).
std::function<void(const std::string&)> without_run_directory() {
  return [](const std::string& dir) { std::filesystem::rename(dir + "/run", dir + "/kept"); };
}

const std::vector<Fault>& size_faults() {
  static const std::vector<Fault> faults = {
      {"TrainLatticeTooLargeForMemory", "{bin} train tiny.yaml --set lattice.shape=[30000,30000]", 2,
       "needs at least .* of memory.*lattice\\.shape \\[30000, 30000\\].*nothing was created", without_run_directory()},
      {"TrainBatchTooLargeForMemory", "{bin} train tiny.yaml --set train.batch_size=1000000000", 2,
       "needs at least .* of memory.*train\\.batch_size 1000000000", without_run_directory()},
      {"SampleBatchTooLargeForMemory", "{bin} sample tiny.yaml --model kept/model.pt --set sample.batch_size=100000000000",
       2, "needs at least .* of memory.*sample\\.batch_size", without_run_directory()},
      {"HmcChainsTooManyForMemory", "{bin} hmc tiny.yaml --set hmc.n_chains=100000000000", 2,
       "needs at least .* of memory.*hmc\\.n_chains", without_run_directory()},
      {"BatchSmallerThanTheRanks", "{mpirun} -np 2 {bin} train tiny.yaml --set train.batch_size=1", 2,
       "train\\.batch_size \\(1\\) must be at least the number of ranks \\(2\\)", without_run_directory()},
      {"FlowWithoutLayers", "{bin} train tiny.yaml --set flow.n_layers=0", 2,
       "flow\\.n_layers: must be >= 1 unless flow\\.fourier_layer or flow\\.ode_layer is set", without_run_directory()},
      {"InitFromAnUnreadableModel", "{bin} train tiny.yaml --set train.init_from=tiny.yaml", 2,
       "train\\.init_from: tiny\\.yaml: not a readable flowlat model file", without_run_directory()},
      {"JsonIntoAMissingDirectory", "{bin} train tiny.yaml --json nodir/x.json", 2, "--json: nodir/x\\.json: no directory",
       without_run_directory()},
      {"RunLatticeTooLargeForMemory", "{bin} run tiny.yaml --set lattice.shape=[20000,20000]", 2,
       "needs at least .* of memory", without_run_directory()},
  };
  return faults;
}

const std::vector<Fault>& command_line_faults() {
  static const std::vector<Fault> faults = {
      {"UnknownCommand", "{bin} trian tiny.yaml", 2, "unknown command 'trian'.*train"},
      {"UnknownOption", "{bin} train tiny.yaml --steps 5", 2, "flowlat: error: .*--steps.*\\(flowlat train --help\\)"},
      {"MissingPositional", "{bin} sample", 2, "flowlat: error: config.*required"},
      {"TrainForceWithResume", "{bin} train tiny.yaml --force --resume", 2, "--force.*--resume|--resume.*--force"},
      {"SampleForceWithResume", "{bin} sample tiny.yaml --force --resume", 2, "--force.*--resume|--resume.*--force"},
      {"HmcForceWithResume", "{bin} hmc tiny.yaml --force --resume", 2, "--force.*--resume|--resume.*--force"},
      {"RunForceWithResume", "{bin} run tiny.yaml --force --resume", 2, "--force.*--resume|--resume.*--force"},
      {"TrainIntoExistingRun", "{bin} train tiny.yaml", 2, "run.*--force"},
      {"SampleOverExistingEnsemble", "{bin} sample tiny.yaml", 2, "ensemble\\.h5.*--force"},
      {"HmcOverExistingEnsemble", "{bin} hmc tiny.yaml", 2, "hmc\\.h5.*--force"},
      {"JsonOverExistingFile", "{bin} analyze run/ensemble.h5 --json tiny.yaml", 2, "tiny\\.yaml.*--force"},
      {"JsonOverTheEnsembleItself", "{bin} analyze run/ensemble.h5 --json run/ensemble.h5 --force", 2,
       "ensemble\\.h5"},
      {"HmcJsonOverItsEnsemble", "{bin} hmc tiny.yaml --force --json run/hmc.h5", 2,
       "--json: run/hmc\\.h5 is .*hmc\\.h5, a file this command reads or writes"},
      {"SampleJsonOverItsEnsemble", "{bin} sample tiny.yaml --force --json run/ensemble.h5", 2,
       "--json: run/ensemble\\.h5 is .*a file this command reads or writes"},
      {"SampleJsonOverItsModel", "{bin} sample tiny.yaml --force --json run/model.pt", 2,
       "--json: run/model\\.pt is .*a file this command reads or writes"},
      {"TrainJsonOverItsHistory", "{bin} train tiny.yaml --force --json run/history.csv", 2,
       "--json: run/history\\.csv is .*a file this command reads or writes"},
      {"RunJsonOverItsInput", "{bin} run tiny.yaml --force --json tiny.yaml", 2,
       "--json: tiny\\.yaml is tiny\\.yaml, a file this command reads or writes"},
      {"AnalyzeJsonIntoAMissingDirectory", "{bin} analyze run/ensemble.h5 --json nodir/x.json", 2,
       "--json: nodir/x\\.json: no directory"},
      {"AnalyzeModelWithoutVersus", "{bin} analyze run/ensemble.h5 --model run/model.pt", 2,
       "--model requires --versus"},
      {"AnalyzeVersusItself", "{bin} analyze run/ensemble.h5 --versus run/ensemble.h5", 2,
       "--versus run/ensemble\\.h5: names the ensemble itself"},
      {"AnalyzeVersusReversed", "{bin} analyze run/hmc.h5 --versus run/ensemble.h5", 2,
       "--versus: compares a flow ensemble with an HMC one, but run/hmc\\.h5 is a hmc ensemble"},
      {"AnalyzeVersusAnotherTheory", "{bin} analyze run/ensemble.h5 --versus run/hmc.h5", 2,
       "--versus: .*sample different theories",
       [](const std::string& dir) { set_root_attribute(dir + "/run/hmc.h5", "action", std::string("phi6")); }},
      {"AnalyzeReweightToAnUnknownCoupling", "{bin} analyze run/ensemble.h5 --reweight-to m3=1", 2,
       "--reweight-to m3=1: expected m2=NUMBER and/or lambda=NUMBER"},
      {"AnalyzeReweightToANegativeQuartic", "{bin} analyze run/ensemble.h5 --reweight-to m2=-4,lambda=-1", 2,
       "--reweight-to m2=-4,lambda=-1: lambda must be >= 0"},
      {"AnalyzeBlocksOutOfRange", "{bin} analyze run/ensemble.h5 --blocks 1", 2, "--blocks"},
      {"RunHmcMissingFile", "{bin} run tiny.yaml --force --hmc nothere.h5", 2, "nothere\\.h5"},
  };
  return faults;
}

INSTANTIATE_TEST_SUITE_P(Yaml, FaultTest, ::testing::ValuesIn(yaml_faults()), fault_name);
INSTANTIATE_TEST_SUITE_P(Override, FaultTest, ::testing::ValuesIn(override_faults()), fault_name);
INSTANTIATE_TEST_SUITE_P(Size, FaultTest, ::testing::ValuesIn(size_faults()), fault_name);
INSTANTIATE_TEST_SUITE_P(CommandLine, FaultTest, ::testing::ValuesIn(command_line_faults()), fault_name);

}  // namespace
}  // namespace flowlat::testing
