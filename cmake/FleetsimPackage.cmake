# The fleetsim CMake package: installs the libraries (fleetsim::sim ... fleetsim::planner), their headers
# under <prefix>/include/fleetsim, and fleetsimConfig.cmake with its version file, so that another
# project can write
#
#   find_package(fleetsim 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE fleetsim::run)   # simulate() and everything below it
#
# Included from CMakeLists.txt when FLEETSIM_INSTALL is on (the default for a top-level build).
include(CMakePackageConfigHelpers)

get_property(fleetsim_libraries GLOBAL PROPERTY FLEETSIM_LIBRARIES)
get_property(fleetsim_header_dirs GLOBAL PROPERTY FLEETSIM_HEADER_DIRS)
set(fleetsim_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/fleetsim)

install(TARGETS ${fleetsim_libraries} EXPORT fleetsimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fleetsim)
foreach(dir IN LISTS fleetsim_header_dirs)
  get_filename_component(parent ${dir} DIRECTORY)
  # models/inference/service.hpp and models/training/training_impl.hpp are the models' internal
  # layouts, not API.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fleetsim/${parent}
          FILES_MATCHING PATTERN "*.hpp"
          REGEX "/models/inference/service\\.hpp$" EXCLUDE
          REGEX "/models/training/training_impl\\.hpp$" EXCLUDE)
endforeach()
install(EXPORT fleetsimTargets NAMESPACE fleetsim:: DESTINATION ${fleetsim_cmake_dir})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/fleetsimConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/fleetsimConfig.cmake INSTALL_DESTINATION ${fleetsim_cmake_dir})
# 0.x: a minor version may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fleetsimConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fleetsimConfig.cmake ${PROJECT_BINARY_DIR}/fleetsimConfigVersion.cmake
        DESTINATION ${fleetsim_cmake_dir})
