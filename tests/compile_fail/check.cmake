# SPDX-License-Identifier: Apache-2.0
# A compile-fail test (tests/compile_fail/*.cpp): the file must not compile, with an error matching
# EXPECT, while the same file with FLEETSIM_COMPILE_FAIL_CONTROL defined compiles, so the failure is
# the one the test is about and not a missing header.
#   cmake -DCXX=g++ -DROOT=<source dir> -DSRC=<file> -DEXPECT=<regex> -P check.cmake
set(flags -std=c++20 -fsyntax-only -I${ROOT} "-DFLEETSIM_VERSION=\"compile-fail\"" -DJSON_DIAGNOSTICS=1)
execute_process(COMMAND ${CXX} ${flags} -DFLEETSIM_COMPILE_FAIL_CONTROL ${SRC}
                RESULT_VARIABLE control_rc ERROR_VARIABLE control_err)
if(NOT control_rc EQUAL 0)
  message(FATAL_ERROR "the control (FLEETSIM_COMPILE_FAIL_CONTROL) of ${SRC} does not compile:\n${control_err}")
endif()
execute_process(COMMAND ${CXX} ${flags} ${SRC} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled; it must not")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "${SRC} failed, but not with \"${EXPECT}\":\n${err}")
endif()
message(STATUS "${SRC}: does not compile, as expected")
