# recprune_add_plugin(<kind> <name> SOURCES <files...> [LIBRARIES <targets...>])
#
# Builds one plugin as a MODULE library named librecprune_<kind>_<name>.so with hidden
# visibility, linked only against the public SDK, so that in-tree plugins build exactly like
# out-of-tree ones. <kind> is dataset, model or pruner.
function(recprune_add_plugin kind name)
    cmake_parse_arguments(PLUGIN "" "" "SOURCES;LIBRARIES" ${ARGN})
    set(target recprune_${kind}_${name})
    add_library(${target} MODULE ${PLUGIN_SOURCES})
    target_link_libraries(${target} PRIVATE recprune::sdk ${PLUGIN_LIBRARIES})
    set_target_properties(${target} PROPERTIES
        PREFIX "lib"
        CXX_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON)
    if(DEFINED RECPRUNE_PLUGIN_OUTPUT_DIR)
        set_target_properties(${target} PROPERTIES
            LIBRARY_OUTPUT_DIRECTORY ${RECPRUNE_PLUGIN_OUTPUT_DIR})
    endif()
    if(DEFINED RECPRUNE_INSTALL_PLUGIN_DIR)
        install(TARGETS ${target} LIBRARY DESTINATION ${RECPRUNE_INSTALL_PLUGIN_DIR})
    endif()
endfunction()
