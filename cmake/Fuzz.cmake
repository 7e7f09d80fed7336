# FLEETSIM_FUZZ: the libFuzzer targets in tools/fuzz/ (docs/fuzzing.md), built by the `fuzz` preset.
# clang only: libFuzzer ships with clang (Debian: clang-14, libclang-rt-14-dev). Every fleetsim
# library is compiled with coverage instrumentation (fuzzer-no-link) and ASan+UBSan, so a finding
# anywhere below the loader is caught where it happens; only the fuzz executables link libFuzzer.
option(FLEETSIM_FUZZ "Build the libFuzzer targets in tools/fuzz (clang only)" OFF)
if(FLEETSIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FLEETSIM_FUZZ needs clang (libFuzzer); use the `fuzz` preset (clang++-14)")
  endif()
  target_compile_options(fleetsim_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(fleetsim_options INTERFACE -fsanitize=address,undefined)
  file(GLOB fleetsim_fuzz_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tools/fuzz/*.cpp)
  foreach(src IN LISTS fleetsim_fuzz_sources)
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE fleetsim_run fleetsim_options)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
  # fuzz_cli drives `run` and `validate` through their command functions (tools/fleetsim/commands.hpp):
  # every CLI source but main.cpp (its main() would clash with libFuzzer's) and the commands it does not
  # call (sweep, compare, validation, plan), which would pull in tools/sweep and tools/planner for nothing.
  file(GLOB fleetsim_fuzz_cli_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tools/fleetsim/*.cpp)
  foreach(unused main cmd_sweep cmd_compare cmd_validation cmd_plan validation_board sweep_ranks)
    list(REMOVE_ITEM fleetsim_fuzz_cli_sources ${PROJECT_SOURCE_DIR}/tools/fleetsim/${unused}.cpp)
  endforeach()
  target_sources(fuzz_cli PRIVATE ${fleetsim_fuzz_cli_sources})
  target_link_libraries(fuzz_cli PRIVATE Boost::program_options)
endif()
