# fleetsim_area(NAME DIR DEPS...): the library fleetsim_NAME from DIR/*.cpp, or a header-only
# INTERFACE library while the area has no sources yet. Globs keep adding a file a one-step change.
#
# The library is also fleetsim::NAME (an alias here, the exported name in the installed package), and
# its headers are found as "DIR/x.hpp" from the source tree or from <prefix>/include/fleetsim once
# installed. Warning flags stay PRIVATE; C++20, the include path, JSON_DIAGNOSTICS and FLEETSIM_VERSION
# are PUBLIC.
function(fleetsim_area name dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp)
  if(srcs)
    add_library(fleetsim_${name} STATIC ${srcs})
    set(scope PUBLIC)
    target_link_libraries(fleetsim_${name} PRIVATE $<BUILD_INTERFACE:fleetsim_options>)
  else()
    add_library(fleetsim_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_link_libraries(fleetsim_${name} ${scope} ${ARGN})
  target_compile_features(fleetsim_${name} ${scope} cxx_std_20)
  target_compile_definitions(fleetsim_${name} ${scope} JSON_DIAGNOSTICS=1 FLEETSIM_VERSION="${PROJECT_VERSION}")
  target_include_directories(fleetsim_${name} ${scope} $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                                     $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/fleetsim>)
  set_target_properties(fleetsim_${name} PROPERTIES EXPORT_NAME ${name})
  add_library(fleetsim::${name} ALIAS fleetsim_${name})
  set_property(GLOBAL APPEND PROPERTY FLEETSIM_LIBRARIES fleetsim_${name})
  set_property(GLOBAL APPEND PROPERTY FLEETSIM_HEADER_DIRS ${dir})
endfunction()

# fleetsim_tests(NAME DIR LIB): the Catch2 executable tests_NAME from DIR/*.cpp, registered with CTest
# one test per TEST_CASE. Areas without tests yet get no executable.
function(fleetsim_tests name dir lib)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp)
  if(srcs)
    add_executable(tests_${name} ${srcs})
    target_link_libraries(tests_${name} PRIVATE ${lib} fleetsim_test_main)
    target_compile_definitions(tests_${name} PRIVATE FLEETSIM_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data")
    catch_discover_tests(tests_${name} TEST_PREFIX "${name}: " PROPERTIES LABELS ${name})
  endif()
endfunction()
