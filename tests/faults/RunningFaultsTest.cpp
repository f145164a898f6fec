// Faults while a command runs: full disks and file-size limits, signals
// and killed ranks in every long-running command, and a second writer or a
// reader beside a running writer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "faults/FaultHarness.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {

// Shell: waits (up to 60 s) until `log` contains `marker`.
std::string wait_for(const std::string& marker, const std::string& log = "log") {
  return "i=0; until grep -q '" + marker + "' " + log + " 2>/dev/null; do i=$((i+1)); [ $i -gt 600 ] && break; "
         "sleep 0.1; done; ";
}

// Starts `command` in the background, sends `signal` once `marker` shows in
// its log, prints the log and the exit code, then runs `then` (the resume).
std::string signalled(const std::string& command, const std::string& marker, const std::string& signal,
                      const std::string& then) {
  return command + " > log 2>&1 & pid=$!; " + wait_for(marker) + "kill -" + signal + " $pid; wait $pid; rc=$?; " +
         "cat log; echo \"first run ended with exit $rc\"; " + then;
}

// The same under mpirun with 2 ranks, killing one rank (SIGKILL).
std::string rank_killed(const std::string& arguments, const std::string& marker, const std::string& then) {
  return "{mpirun} -np 2 {bin} " + arguments + " > log 2>&1 & pid=$!; " + wait_for(marker) +
         // A child of mpirun (a rank), found in /proc (pgrep is not always installed).
         "kill -KILL $(grep -l \"^PPid:[[:space:]]*$pid$\" /proc/[0-9]*/status 2>/dev/null | tail -1 | cut -d/ -f3); "
         "wait $pid; rc=$?; cat log; echo \"first run ended with exit $rc\"; " +
         then;
}

// Runs `command` with a fresh tmpfs of `size` mounted at ./full.
std::string on_small_disk(const std::string& size, const std::string& command) {
  return "mkdir -p full && unshare -m sh -c 'mount -t tmpfs -o size=" + size + " tmpfs full && " + command + "'";
}

const std::string kLongTrain =
    "train tiny.yaml --set run.output_dir=run2 --set train.steps=1000000 --set train.log_every=20 "
    "--set train.checkpoint_every=50";
const std::string kLongSample =
    "sample tiny.yaml --output run2.h5 --set sample.n_configs=400000 --set sample.batch_size=100";
const std::string kLongHmc =
    "hmc tiny.yaml --output run2.h5 --set hmc.n_trajectories=20000 --set hmc.n_thermalization=10";
const std::string kThermalisingHmc =
    "hmc tiny.yaml --output run2.h5 --set hmc.n_trajectories=20 --set hmc.n_thermalization=8000";
// Continues a stopped job for a second (run.max_walltime may change on
// every resume), enough to see it take up where it stopped.
const std::string kBriefly = " --resume --set run.max_walltime=1";

const std::vector<Fault>& disk_faults() {
  static const std::vector<Fault> faults = {
      {"SampleOntoAFullDisk", on_small_disk("1m", "{bin} sample tiny.yaml --output full/e.h5 --set "
                                                 "sample.n_configs=100000"),
       2, "full/e\\.h5: the ensemble needs [0-9.]+ MB on disk.*only [0-9.]+ MB are free.*nothing was written",
       nullptr, {"full"}},
      {"HmcOntoAFullDisk", on_small_disk("1m", "{bin} hmc tiny.yaml --output full/h.h5 --set "
                                              "hmc.n_trajectories=100000"),
       2, "full/h\\.h5: the ensemble needs .* on disk", nullptr, {"full"}},
      {"TrainOntoAFullDisk", on_small_disk("64k", "{bin} train tiny.yaml --set run.output_dir=full/run"), 1,
       "full/run.*(No space left|disk)", nullptr, {"full"}},
      {"SamplePastTheFileSizeLimitOnTwoRanks",
       "ulimit -f 20000; {mpirun} -np 2 {bin} sample tiny.yaml --output big.h5 --set sample.n_configs=400000 "
       "--set sample.batch_size=4000",
       1, "cannot create dataset '/configs' in file 'big\\.h5'[\\s\\S]*ending without MPI_Finalize"},
  };
  return faults;
}

const std::vector<Fault>& signal_faults() {
  static const std::vector<Fault> faults = {
      // The resume runs for a second from wherever the signal stopped the
      // first run (a fixed train.steps could lie behind it on a fast machine).
      {"TrainStoppedBySigtermResumes", signalled("{bin} " + kLongTrain, "step ", "TERM", "{bin} " + kLongTrain + kBriefly),
       3,
       "stopped by signal[\\s\\S]*continue with: .*--resume[\\s\\S]*first run ended with exit 3[\\s\\S]*"
       "checkpoint\\.ckpt at step [1-9][0-9]* of 1000000[\\s\\S]*stopped by run\\.max_walltime",
       nullptr, {"run2", "log"}},
      {"SampleStoppedBySigintResumes",
       signalled("{bin} " + kLongSample, "sampled ", "INT", "{bin} " + kLongSample + kBriefly),
       3,
       "stopped by signal SIGINT[\\s\\S]*first run ended with exit 3[\\s\\S]*resuming run2\\.h5 at row [1-9]"
       "[\\s\\S]*stopped by run\\.max_walltime",
       nullptr, {"run2.h5", "log"}},
      // Signalled once rows are committed ("kept trajectory" progress), so the
      // resume must take up past the first of them.
      {"HmcStoppedBySigusr1Resumes",
       signalled("{bin} " + kLongHmc, "kept trajectory", "USR1", "{bin} " + kLongHmc + kBriefly),
       3,
       "stopped by signal SIGUSR1[\\s\\S]*first run ended with exit 3[\\s\\S]*resuming run2\\.h5 at kept "
       "trajectory [1-9][\\s\\S]*stopped by run\\.max_walltime",
       nullptr, {"run2.h5", "log"}},
      {"RunStoppedBySigtermWhileTraining",
       signalled("{bin} run tiny.yaml --force --set run.output_dir=run2 --set train.steps=1000000 --set "
                 "train.log_every=20",
                 "step ", "TERM", "true"),
       0, "stopped by signal[\\s\\S]*continue with: .*flowlat run .*--resume[\\s\\S]*first run ended with exit 3",
       nullptr, {"run2", "log"}},
      {"TrainRankKilledEndsTheJobAndResumes",
       rank_killed(kLongTrain, "step  *[1-9][0-9][0-9]/", "{bin} " + kLongTrain + kBriefly), 3,
       "first run ended with exit [1-9][0-9]*[\\s\\S]*resuming from run2/checkpoint\\.ckpt at step [1-9][0-9]*"
       "[\\s\\S]*stopped by run\\.max_walltime",
       nullptr, {"run2", "log"}},
      {"SampleRankKilledEndsTheJobAndResumes", rank_killed(kLongSample, "sampled ", "{bin} " + kLongSample + kBriefly),
       3, "first run ended with exit [1-9][0-9]*[\\s\\S]*resuming run2\\.h5 at row [1-9]", nullptr,
       {"run2.h5", "log"}},
      {"HmcRankKilledEndsTheJobAndResumes", rank_killed(kLongHmc, "thermalised", "{mpirun} -np 2 {bin} " + kLongHmc + kBriefly), 3,
       "first run ended with exit [1-9][0-9]*[\\s\\S]*resuming run2\\.h5 at kept trajectory [0-9]", nullptr,
       {"run2.h5", "log"}},
      // Killed while thermalising, before the first round is committed: the
      // file holds no chain state, and --resume starts the chains again from
      // their seeds (as the first run did) and finishes.
      {"HmcRankKilledWhileThermalisingResumesFromTheSeeds",
       rank_killed(kThermalisingHmc, "thermalising:", "{mpirun} -np 2 {bin} " + kThermalisingHmc + " --resume"), 0,
       "first run ended with exit [1-9][0-9]*[\\s\\S]*resuming run2\\.h5 at kept trajectory 0 of 20 per chain "
       "\\(stopped before its first round[\\s\\S]*hmc: acceptance",
       nullptr, {"run2.h5", "log"}},
  };
  return faults;
}

const std::vector<Fault>& concurrency_faults() {
  static const std::vector<Fault> faults = {
      {"StoreIntoAnEnsembleBeingWritten",
       "{bin} " + kLongSample + " > log 2>&1 & pid=$!; " + wait_for("sampled ") +
           "{bin} analyze run2.h5 --store; rc=$?; kill -TERM $pid; wait $pid; exit $rc",
       2, "run2\\.h5' is being written by another process.*nothing was changed", nullptr, {"run2.h5", "log"}},
      {"SecondWriterOfAnEnsembleBeingWritten",
       "{bin} " + kLongSample + " > log 2>&1 & pid=$!; " + wait_for("sampled ") + "{bin} " + kLongSample +
           " --force; rc=$?; kill -TERM $pid; wait $pid; exit $rc",
       2, "run2\\.h5' is being written by another process", nullptr, {"run2.h5", "log"}},
      {"SecondHmcOnAFileBeingWritten",
       "{bin} " + kLongHmc + " > log 2>&1 & pid=$!; " + wait_for("thermalised") + "{bin} " + kLongHmc +
           " --force; rc=$?; kill -TERM $pid; wait $pid; exit $rc",
       2, "run2\\.h5' is being written by another process", nullptr, {"run2.h5", "log"}},
      {"ReaderBesideAWriterReadsTheCommittedRows",
       "{bin} " + kLongSample + " > log 2>&1 & pid=$!; " + wait_for("sampled ") +
           "{bin} analyze run2.h5; rc=$?; kill -TERM $pid; wait $pid; exit $rc",
       0, "N = [1-9][0-9]*", nullptr, {"run2.h5", "log"}},
  };
  return faults;
}

INSTANTIATE_TEST_SUITE_P(Disk, FaultTest, ::testing::ValuesIn(disk_faults()), fault_name);
INSTANTIATE_TEST_SUITE_P(Signal, FaultTest, ::testing::ValuesIn(signal_faults()), fault_name);
INSTANTIATE_TEST_SUITE_P(Concurrency, FaultTest, ::testing::ValuesIn(concurrency_faults()), fault_name);

}  // namespace
}  // namespace flowlat::testing
