#include "eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace synwave::dpdk {

namespace {
// The file prefix synwave chose for this process ("synwave<PID>"), empty when the user gave one.
std::string g_own_prefix;
}  // namespace

void remove_own_runtime_dir() {
  if (g_own_prefix.empty()) return;
  const std::filesystem::path dir = rte_eal_get_runtime_dir();
  if (dir.filename() != g_own_prefix) return;  // only ever the directory named after our prefix
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

std::vector<std::string> default_eal_args() {
  return {"--no-huge", "-m", "1024", "--no-pci"};
}

std::string start_eal(const std::string& program, std::vector<std::string> eal_args) {
  if (eal_args.empty()) eal_args = default_eal_args();
  bool has_prefix = false;
  bool has_log_level = false;
  for (const auto& a : eal_args) {
    has_prefix |= a.rfind("--file-prefix", 0) == 0;
    has_log_level |= a.rfind("--log-level", 0) == 0;
  }
  // Several synwave processes (and tests) run side by side: each needs its own runtime files.
  if (!has_prefix) {
    g_own_prefix = "synwave" + std::to_string(getpid());
    eal_args.push_back("--file-prefix=" + g_own_prefix);
  }
  if (!has_log_level) eal_args.push_back("--log-level=*:warning");
  std::vector<std::string> storage;
  storage.reserve(eal_args.size() + 1);
  storage.push_back(program);
  for (auto& a : eal_args) storage.push_back(a);
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) {
    remove_own_runtime_dir();
    return std::string("DPDK EAL initialisation failed: ") + rte_strerror(rte_errno) +
           ". Check the EAL options before '--' (for example '--no-huge -m 1024 --no-pci', a valid '--vdev', "
           "'-l' naming existing cores).";
  }
  if (rc != static_cast<int>(storage.size()) - 1) {
    return "unexpected argument '" + storage[static_cast<std::size_t>(rc) + 1] +
           "' among the EAL options: put synwave's own options after '--'.";
  }
  return {};
}

void stop_eal() {
  rte_eal_cleanup();
  remove_own_runtime_dir();
}

}  // namespace synwave::dpdk
