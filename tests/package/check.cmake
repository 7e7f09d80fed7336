# The CMake package end to end (CTest "package:find-package-consumer"):
#   1. installs the already built tree into a fresh prefix (cmake --install: nothing is rebuilt);
#   2. configures and builds tests/package/consumer with find_package(fleetsim) against that prefix,
#      and runs it;
#   3. configures (only) tests/package/parent, which add_subdirectory()s fleetsim as a dependency.
# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -DGENERATOR=... -P check.cmake
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run("install into ${WORK_DIR}/prefix" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
foreach(f lib/cmake/fleetsim/fleetsimConfig.cmake lib/cmake/fleetsim/fleetsimConfigVersion.cmake
          include/fleetsim/sim/engine.hpp include/fleetsim/tools/sweep/stats.hpp lib/libfleetsim_sim.a)
  if(NOT EXISTS ${WORK_DIR}/prefix/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

run("configure the consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/consumer
    -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run("run the consumer" ${WORK_DIR}/consumer/consumer)
if(NOT last_output MATCHES "^ok 3 1h30m")
  message(FATAL_ERROR "the consumer printed '${last_output}', expected 'ok 3 1h30m'")
endif()

run("configure a parent project with add_subdirectory" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package/parent
    -B ${WORK_DIR}/parent -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DFLEETSIM_SOURCE=${SOURCE_DIR})
file(REMOVE_RECURSE ${WORK_DIR})
