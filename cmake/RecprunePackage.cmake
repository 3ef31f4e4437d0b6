# Install rules of the recprune package and the CMake package files, for an install prefix and
# for the build tree:
# - bin/recprune, include/recprune/ (rules in framework/CMakeLists.txt), the plugins in
#   lib/recprune/plugins (rules in recprune_add_plugin);
# - lib/cmake/recprune/: recprune-config.cmake, its version file, the exported targets
#   recprune::sdk, recprune::nn and recprune::recprune, and RecprunePlugin.cmake;
# - share/recprune/experiments/: the quickstart grid and its data; share/recprune/templates/:
#   what `recprune new-plugin` copies; share/recprune/tools/plot_results.py;
#   share/doc/recprune/: the docs folder.
# The build tree gets the same package under <build>/lib/cmake/recprune, so a plugin can be
# built against a build tree with -DCMAKE_PREFIX_PATH=<build>.
include(CMakePackageConfigHelpers)

set(RECPRUNE_PACKAGE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/recprune)
set(RECPRUNE_PACKAGE_SHARE_DIR ${CMAKE_INSTALL_DATADIR}/recprune)

install(TARGETS recprune_sdk recprune_nn EXPORT recprune-targets)
install(EXPORT recprune-targets
    NAMESPACE recprune::
    FILE recprune-targets.cmake
    DESTINATION ${RECPRUNE_PACKAGE_CMAKE_DIR})

# Install tree: paths relative to the prefix, so the installed package can be moved.
set(RECPRUNE_PACKAGE_PLUGIN_DIR ${RECPRUNE_INSTALL_PLUGIN_DIR})
set(RECPRUNE_PACKAGE_EXPERIMENTS_DIR ${RECPRUNE_PACKAGE_SHARE_DIR}/experiments)
configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/recprune-config.cmake.in
    ${PROJECT_BINARY_DIR}/package/install/recprune-config.cmake
    INSTALL_DESTINATION ${RECPRUNE_PACKAGE_CMAKE_DIR}
    PATH_VARS RECPRUNE_PACKAGE_PLUGIN_DIR RECPRUNE_PACKAGE_EXPERIMENTS_DIR)
write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/lib/cmake/recprune/recprune-config-version.cmake
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMinorVersion)
install(FILES
    ${PROJECT_BINARY_DIR}/package/install/recprune-config.cmake
    ${PROJECT_BINARY_DIR}/lib/cmake/recprune/recprune-config-version.cmake
    ${PROJECT_SOURCE_DIR}/cmake/RecprunePlugin.cmake
    DESTINATION ${RECPRUNE_PACKAGE_CMAKE_DIR})

# The quickstart grid names its output folder relative to the source tree ("../results/..."),
# which in an install tree would point inside the prefix; the installed copy leaves "output"
# out, so `recprune run` writes results/quickstart under the working folder.
file(READ ${PROJECT_SOURCE_DIR}/experiments/quickstart.json RECPRUNE_QUICKSTART_TEXT)
string(REGEX REPLACE ",[ \t\r\n]*\"output\"[ \t]*:[ \t]*\"[^\"]*\"" ""
       RECPRUNE_QUICKSTART_TEXT "${RECPRUNE_QUICKSTART_TEXT}")
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/package/install/quickstart.json
     CONTENT "${RECPRUNE_QUICKSTART_TEXT}")
install(FILES ${PROJECT_BINARY_DIR}/package/install/quickstart.json
    DESTINATION ${RECPRUNE_PACKAGE_SHARE_DIR}/experiments)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/experiments/data
    DESTINATION ${RECPRUNE_PACKAGE_SHARE_DIR}/experiments)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/framework/cli/templates/
    DESTINATION ${RECPRUNE_PACKAGE_SHARE_DIR}/templates)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tools/plot_results.py
    DESTINATION ${RECPRUNE_PACKAGE_SHARE_DIR}/tools)

# Build tree: the same package pointing at the build and source folders.
export(EXPORT recprune-targets
    NAMESPACE recprune::
    FILE ${PROJECT_BINARY_DIR}/lib/cmake/recprune/recprune-targets.cmake)
set(RECPRUNE_PACKAGE_PLUGIN_DIR ${RECPRUNE_PLUGIN_OUTPUT_DIR})
set(RECPRUNE_PACKAGE_EXPERIMENTS_DIR ${PROJECT_SOURCE_DIR}/experiments)
file(MAKE_DIRECTORY ${RECPRUNE_PLUGIN_OUTPUT_DIR})
configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/recprune-config.cmake.in
    ${PROJECT_BINARY_DIR}/lib/cmake/recprune/recprune-config.cmake
    INSTALL_DESTINATION ${PROJECT_BINARY_DIR}/lib/cmake/recprune
    INSTALL_PREFIX ${PROJECT_BINARY_DIR}
    PATH_VARS RECPRUNE_PACKAGE_PLUGIN_DIR RECPRUNE_PACKAGE_EXPERIMENTS_DIR)
configure_file(${PROJECT_SOURCE_DIR}/cmake/RecprunePlugin.cmake
    ${PROJECT_BINARY_DIR}/lib/cmake/recprune/RecprunePlugin.cmake COPYONLY)
