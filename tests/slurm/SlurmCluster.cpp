#include "slurm/SlurmCluster.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace flowlat::testing {
namespace fs = std::filesystem;
namespace {

// A TCP port that is free now (bound to port 0, then released).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::string short_hostname() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  const std::string full(name);
  return full.substr(0, full.find('.'));
}

bool found(const char* program) {
  return run_command(std::string("command -v ") + program + " >/dev/null 2>&1 || test -x /usr/sbin/" + program)
             .exit_code == 0;
}

std::string slurm_conf(const std::string& d, const std::string& host) {
  const int controller_port = free_port(), node_port = free_port();
  // cred_expire=5: a requeued job may start again after 6 s instead of 121 s.
  // sched_interval=1: pending jobs are looked at every second.
  // config_overrides: the node may claim 4 CPUs on a smaller machine.
  return "ClusterName=flowlattest\nSlurmctldHost=" + host + "(127.0.0.1)\n"
         "SlurmctldPort=" + std::to_string(controller_port) + "\nSlurmdPort=" + std::to_string(node_port) + "\n"
         "SlurmUser=root\nSlurmdUser=root\nAuthType=auth/munge\nCredType=cred/munge\n"
         "AuthInfo=socket=" + d + "/munge.socket,cred_expire=5\n"
         "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nJobAcctGatherType=jobacct_gather/none\n"
         "AccountingStorageType=accounting_storage/none\nSchedulerType=sched/builtin\n"
         "SchedulerParameters=sched_interval=1\nSelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n"
         "SlurmdParameters=config_overrides\nMpiDefault=none\nReturnToService=2\nJobRequeue=1\nMinJobAge=600\n"
         "StateSaveLocation=" + d + "/state\nSlurmdSpoolDir=" + d + "/spool\n"
         "SlurmctldPidFile=" + d + "/slurmctld.pid\nSlurmdPidFile=" + d + "/slurmd.pid\n"
         "SlurmctldLogFile=" + d + "/slurmctld.log\nSlurmdLogFile=" + d + "/slurmd.log\n"
         "NodeName=" + host + " NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN\n"
         "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES\n";
}

}  // namespace

std::string SlurmCluster::unavailable_reason() {
  if (geteuid() != 0) return "the SLURM tests start slurmctld, slurmd and munged and need root";
  for (const char* program : {"munged", "slurmctld", "slurmd", "sbatch", "scontrol"}) {
    if (!found(program)) return std::string(program) + " not found (install slurm-wlm and munge: tools/install-deps.sh)";
  }
  return "";
}

SlurmCluster::SlurmCluster(const std::string& directory) : directory_(directory), conf_(directory + "/slurm.conf") {
  const std::string& d = directory_;
  fs::create_directories(d + "/state");
  fs::create_directories(d + "/spool");
  write_text(conf_, slurm_conf(d, short_hostname()));
  const CommandResult started = run_command(
      "cd " + d + " && dd if=/dev/urandom of=munge.key bs=1024 count=1 2>/dev/null && chmod 400 munge.key && "
      "PATH=$PATH:/usr/sbin && munged --force --socket=" + d + "/munge.socket --key-file=" + d + "/munge.key "
      "--pid-file=" + d + "/munged.pid --log-file=" + d + "/munged.log --seed-file=" + d + "/munge.seed && "
      "slurmctld -f " + conf_ + " -i && slurmd -f " + conf_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (started.exit_code == 0 && std::chrono::steady_clock::now() < deadline) {
    if (run("sinfo -h -o %T").output.find("idle") == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const std::string logs = run_command("tail -n 20 " + d + "/*.log").output;
  stop();
  throw std::runtime_error("single-node SLURM did not come up:\n" + started.output + logs);
}

SlurmCluster::~SlurmCluster() { stop(); }

void SlurmCluster::stop() {
  run("scancel --full $(squeue -h -o %i) 2>/dev/null; sleep 1");
  for (const char* daemon : {"slurmd", "slurmctld", "munged"}) {
    const std::string pid_file = directory_ + "/" + daemon + ".pid";
    run_command("test -f " + pid_file + " && pid=$(cat " + pid_file + ") && kill $pid 2>/dev/null && "
                "for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done; rm -f " + pid_file);
  }
}

CommandResult SlurmCluster::run(const std::string& command) const {
  return run_command("export SLURM_CONF=" + conf_ + " PATH=$PATH:/usr/sbin; " + command);
}

bool SlurmCluster::wait_until_idle(double timeout_seconds) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (run("squeue -h -o %i").output.empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

std::string SlurmCluster::job_field(const std::string& job_id, const std::string& field) const {
  const std::string text = run("scontrol show job " + job_id).output;
  const size_t at = text.find(" " + field + "=");
  if (at == std::string::npos) return "";
  const size_t begin = at + field.size() + 2;
  return text.substr(begin, text.find_first_of(" \n", begin) - begin);
}

}  // namespace flowlat::testing
