// Stop requests: SIGTERM, SIGINT and SIGUSR1 only set the flag; a second
// SIGINT kills the process at once; the wall-time limit counts the margin
// for the next step. Signals are raised in forked children, so this test
// process keeps its own handlers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "job/StopMonitor.hpp"

namespace flowlat {
namespace {

// Runs `body` in a child process; returns its wait status.
template <typename Body>
int in_child(Body body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(StopMonitor, EachStopSignalSetsTheFlagAndNothingElse) {
  for (int signal_number : {SIGTERM, SIGINT, SIGUSR1}) {
    const int status = in_child([signal_number] {
      const StopMonitor monitor(0.0);
      if (monitor.stop_request(0) != StopRequest::None) return 10;
      raise(signal_number);
      if (monitor.stop_request(0) != StopRequest::Signal) return 11;
      const std::string expected = signal_number == SIGTERM ? "SIGTERM" : signal_number == SIGINT ? "SIGINT" : "SIGUSR1";
      return StopMonitor::caught_signal_name() == expected ? 0 : 12;
    });
    ASSERT_TRUE(WIFEXITED(status)) << signal_number;
    EXPECT_EQ(WEXITSTATUS(status), 0) << signal_number;
  }
}

TEST(StopMonitor, SecondSigintKillsAtOnceButRepeatedSigtermDoesNot) {
  const int sigint = in_child([] {
    const StopMonitor monitor(0.0);
    raise(SIGINT);
    raise(SIGINT);  // default action: the process ends here
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(sigint));
  EXPECT_EQ(WTERMSIG(sigint), SIGINT);
  const int sigterm = in_child([] {
    const StopMonitor monitor(0.0);
    raise(SIGTERM);
    raise(SIGTERM);
    return monitor.stop_request(0) == StopRequest::Signal ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(sigterm));
  EXPECT_EQ(WEXITSTATUS(sigterm), 0);
}

TEST(StopMonitor, WallTimeCountsTheMarginForTheNextStep) {
  const StopMonitor monitor(3600.0);
  EXPECT_EQ(monitor.stop_request(1.0), StopRequest::None);
  EXPECT_EQ(monitor.stop_request(3600.0), StopRequest::WallTime);
  const StopMonitor short_limit(0.05);
  EXPECT_EQ(short_limit.stop_request(0.0), StopRequest::None);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  EXPECT_EQ(short_limit.stop_request(0.0), StopRequest::WallTime);
  const StopMonitor unlimited(0.0);
  EXPECT_EQ(unlimited.stop_request(1e9), StopRequest::None);
  EXPECT_EQ(describe_stop(StopRequest::WallTime, 120.0), "run.max_walltime (120 s)");
}

}  // namespace
}  // namespace flowlat
