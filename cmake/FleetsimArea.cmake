# fleetsim_area(NAME DIR DEPS...): the library fleetsim_NAME from DIR/*.cpp, or a header-only
# INTERFACE library while the area has no sources yet. Globs keep adding a file a one-step change.
function(fleetsim_area name dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp)
  if(srcs)
    add_library(fleetsim_${name} STATIC ${srcs})
    target_link_libraries(fleetsim_${name} PUBLIC ${ARGN} fleetsim_options)
  else()
    add_library(fleetsim_${name} INTERFACE)
    target_link_libraries(fleetsim_${name} INTERFACE ${ARGN} fleetsim_options)
  endif()
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
