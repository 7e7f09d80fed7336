// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/large_pages.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <unistd.h>

namespace fleetsim::cli {

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)  // (AddressSanitizer has its own allocator)
namespace {

// glibc 2.35+ malloc tunables (https://www.gnu.org/software/libc/manual/html_node/Memory-Allocation-Tunables.html):
// - hugetlb=1: malloc advises the kernel (madvise MADV_HUGEPAGE) to back its heap and its large
//   mappings with 2 MiB transparent huge pages, where the kernel's THP mode is "madvise" (Debian's
//   default) or "always";
// - trim_threshold: freed memory at the heap's top stays mapped instead of going back to the kernel,
//   so a large registration freed and allocated again is not faulted in again page by page;
// - mmap_threshold: glibc's largest allowed (32 MiB), fixed, so blocks up to it come from the heap.
constexpr std::string_view kTunables =
    "glibc.malloc.hugetlb=1:glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432";

bool contains(const char* haystack, const char* needle) { return haystack != nullptr && std::strstr(haystack, needle) != nullptr; }

}  // namespace
#endif

void use_large_pages(char** argv) {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  const char* opt_out = std::getenv("FLEETSIM_LARGE_PAGES");
  if (opt_out != nullptr && std::string_view(opt_out) == "0") return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  // Set already (by this function before the exec, or by the user, whose choice stands).
  if (contains(tunables, "glibc.malloc.hugetlb")) return;
  // Under valgrind the exec would leave the tool and run the program natively.
  if (contains(std::getenv("LD_PRELOAD"), "vgpreload")) return;
  const std::string before = tunables != nullptr ? tunables : "";
  const std::string value = before.empty() ? std::string(kTunables) : before + ":" + std::string(kTunables);
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // No exec (no /proc): this process goes on with the allocator as it is, the environment as it was.
  if (tunables != nullptr) {
    ::setenv("GLIBC_TUNABLES", before.c_str(), 1);
  } else {
    ::unsetenv("GLIBC_TUNABLES");
  }
#else
  (void)argv;
#endif
}

}  // namespace fleetsim::cli
