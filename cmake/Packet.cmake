# The packet-level backend on ns-3 (tools/packet, docs/network-fidelity.md): the library
# fleetsim_packet, the program packet_crosscheck and their tests, built when ns-3's headers and
# libraries are found (Debian 12: libns3-dev, ns-3 3.37; tools/install-deps.sh installs it, so CI
# builds and tests it). Nothing else of fleetsim links it, and it is not part of the installed package.
#
# Found as plain headers and libraries rather than with find_package(ns3): Debian's ns3Config.cmake
# gives its imported targets /usr/include/libxml2, /usr/include/python3.11 and /usr/lib/.../libgsl.so,
# which come from libxml2-dev, libpython3.11-dev and libgsl-dev, none of which libns3-dev depends on,
# so on a machine without them the generate step or the link fails.
#
# Off under FLEETSIM_SANITIZE: ns-3's own libraries are not instrumented, so AddressSanitizer would see
# only the few hundred lines of glue (which the Release tests already run), LeakSanitizer would report
# ns-3's process-lifetime singletons, and the CI's sanitizer pass would pay the packet runs again.
option(FLEETSIM_PACKET "Build the ns-3 packet-level backend when ns-3 is found" ON)
if(NOT FLEETSIM_PACKET)
  message(STATUS "fleetsim: packet-level backend OFF (-DFLEETSIM_PACKET=OFF)")
  return()
endif()
if(FLEETSIM_SANITIZE)
  message(STATUS "fleetsim: packet-level backend OFF under FLEETSIM_SANITIZE (ns-3 is not instrumented)")
  return()
endif()
find_path(NS3_INCLUDE_DIR ns3/tcp-dctcp.h)
set(fleetsim_ns3_libraries)
foreach(module core network internet point-to-point traffic-control applications)
  find_library(NS3_${module}_LIBRARY NAMES ns3-${module} ns3.37-${module}-default ns3.37-${module})
  if(NOT NS3_${module}_LIBRARY)
    set(NS3_INCLUDE_DIR NS3_INCLUDE_DIR-NOTFOUND)
  endif()
  list(APPEND fleetsim_ns3_libraries ${NS3_${module}_LIBRARY})
endforeach()
if(NOT NS3_INCLUDE_DIR)
  message(STATUS "fleetsim: packet-level backend skipped (ns-3 not found; apt-get install libns3-dev)")
  return()
endif()
message(STATUS "fleetsim: packet-level backend ON (ns-3 in ${NS3_INCLUDE_DIR})")

add_library(fleetsim_packet STATIC tools/packet/packet_network.cpp tools/packet/crosscheck.cpp)
target_include_directories(fleetsim_packet SYSTEM PRIVATE ${NS3_INCLUDE_DIR})
target_link_libraries(fleetsim_packet PUBLIC fleetsim_network PRIVATE fleetsim_options ${fleetsim_ns3_libraries})
add_executable(packet_crosscheck tools/packet/crosscheck_main.cpp)
target_link_libraries(packet_crosscheck PRIVATE fleetsim_packet fleetsim_options)

if(FLEETSIM_TEST AND BUILD_TESTING)
  fleetsim_tests(packet tests/packet fleetsim_packet)
  # The program's table: a header and one row per workload and transport, ratios in range, and the
  # same bytes on a rerun (tests/packet/check_crosscheck.cmake).
  add_test(NAME packet:crosscheck-output
    COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:packet_crosscheck> -P ${PROJECT_SOURCE_DIR}/tests/packet/check_crosscheck.cmake)
  set_tests_properties(packet:crosscheck-output PROPERTIES LABELS packet TIMEOUT 120)
endif()
