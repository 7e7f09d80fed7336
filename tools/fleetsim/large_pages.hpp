// SPDX-License-Identifier: Apache-2.0
// Large pages for the simulation's heap. A flagship run keeps about 2 GiB of fabric, routing and
// ledger arrays and re-allocates multi-megabyte link vectors at every re-registration; with 4 KiB
// pages it took half a million page faults and much of its time in TLB misses. glibc can back its
// heap with 2 MiB transparent huge pages, but only when told by the GLIBC_TUNABLES environment
// variable, which it reads once at start-up; so the program re-executes itself once with it set
// (docs/PERFORMANCE.md, "Large pages"). Nothing the simulation computes depends on it: outputs are
// byte-identical either way.
//
//   int main(int argc, char** argv) { fleetsim::cli::use_large_pages(argv); ... }
//
// Not done when GLIBC_TUNABLES already names glibc.malloc.hugetlb (the user's setting stands), when
// FLEETSIM_LARGE_PAGES=0, under valgrind, in AddressSanitizer builds, or off glibc; when the exec
// fails the program goes on as it is.
#pragma once

namespace fleetsim::cli {

void use_large_pages(char** argv);

}  // namespace fleetsim::cli
