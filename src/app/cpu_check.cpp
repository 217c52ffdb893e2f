// The program refuses, with one line saying why and what to do, to run on a CPU below the
// instruction set its core was built for (meson option cpu_baseline, x86-64-v3 by default):
// without this check such a CPU would die of SIGILL somewhere in start-up. The check runs as a
// constructor ahead of the program's others and is built for plain x86-64, so it cannot trip
// first. (This file gets DPDK's -march, so meson says what the core needs.)
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) && defined(SYNWAVE_NEEDS_X86_64_V3)
namespace {

[[gnu::constructor(101), gnu::target("arch=x86-64")]] void refuse_older_cpu() {
  __builtin_cpu_init();  // constructors may run before libgcc's own
  const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
                  __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx");
  if (ok) return;
  std::fputs("synwave: this CPU lacks AVX2/BMI2, which this build needs (built for x86-64-v3: Intel Haswell, "
             "AMD Zen or later); rebuild for it: meson setup --reconfigure build -Dcpu_baseline=x86-64-v2\n",
             stderr);
  std::_Exit(2);
}

}  // namespace
#endif
