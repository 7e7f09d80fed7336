# One golden run (CTest golden:<name>): runs the scenario, then
#   fleetsim compare tests/golden/<name>/summary.json <run> --rel-tol 0
# (every numeric value exactly as committed) and checks the fingerprint (the executed event sequence),
# which compare does not see since it is a string.
# cmake -DFLEETSIM=... -DSCENARIO=... -DOPTIONS=... -DGOLDEN=.../summary.json -DWORK_DIR=... -P check.cmake
file(REMOVE_RECURSE ${WORK_DIR})
separate_arguments(options UNIX_COMMAND "${OPTIONS}")
execute_process(COMMAND ${FLEETSIM} run ${SCENARIO} ${options} -o ${WORK_DIR} -q --no-report RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fleetsim run ${SCENARIO} exited ${rc}")
endif()
execute_process(COMMAND ${FLEETSIM} compare ${GOLDEN} ${WORK_DIR} --rel-tol 0 --quiet RESULT_VARIABLE rc)
file(READ ${GOLDEN} expected)
file(READ ${WORK_DIR}/summary.json actual)
string(JSON expected_fp GET "${expected}" fingerprint)
string(JSON actual_fp GET "${actual}" fingerprint)
if(NOT rc EQUAL 0 OR NOT expected_fp STREQUAL actual_fp)
  execute_process(COMMAND ${FLEETSIM} compare ${GOLDEN} ${WORK_DIR} --rel-tol 0)
  message(FATAL_ERROR "the run differs from ${GOLDEN} (compare exit ${rc}; fingerprint ${actual_fp}, "
                      "expected ${expected_fp}). If the change is intended, regenerate the goldens with "
                      "tools/golden/regenerate.sh and commit them (docs/ci-compare.md).")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
