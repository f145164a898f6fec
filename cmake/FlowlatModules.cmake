# flowlat_module(<folder> [TORCH] [DEPENDS <folder>...])
#
# One static library flowlat_<folder> from src/<folder>/*.cpp. The module is
# compiled against an include directory (build/layers/<folder>) that holds
# links to its own folder and to those of its dependencies and theirs, and
# nothing else: an #include of a module it does not depend on fails to
# compile. TORCH modules link LibTorch and reuse its precompiled header; the
# others never see a LibTorch header.
function(flowlat_module name)
  cmake_parse_arguments(M "TORCH" "" "DEPENDS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${name}/*.cpp)
  list(FILTER sources EXCLUDE REGEX ".*/src/cli/main\\.cpp$")
  add_library(flowlat_${name} STATIC ${sources})

  set(visible ${name})
  foreach(dep IN LISTS M_DEPENDS)
    if(NOT TARGET flowlat_${dep})
      message(FATAL_ERROR "flowlat_module(${name}): dependency '${dep}' must be declared before it (layering)")
    endif()
    get_property(closure GLOBAL PROPERTY FLOWLAT_VISIBLE_${dep})
    list(APPEND visible ${closure})
  endforeach()
  list(REMOVE_DUPLICATES visible)
  set_property(GLOBAL PROPERTY FLOWLAT_VISIBLE_${name} ${visible})
  set_property(GLOBAL APPEND PROPERTY FLOWLAT_MODULES ${name})

  set(farm ${CMAKE_BINARY_DIR}/layers/${name})
  file(REMOVE_RECURSE ${farm})
  file(MAKE_DIRECTORY ${farm})
  foreach(module IN LISTS visible)
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${module} ${farm}/${module} SYMBOLIC)
  endforeach()
  target_include_directories(flowlat_${name} PRIVATE ${farm} ${CMAKE_BINARY_DIR}/generated)
  target_compile_options(flowlat_${name} PRIVATE ${FLOWLAT_WARNINGS})
  foreach(dep IN LISTS M_DEPENDS)
    target_link_libraries(flowlat_${name} PUBLIC flowlat_${dep})
  endforeach()
  if(M_TORCH)
    target_link_libraries(flowlat_${name} PUBLIC ${TORCH_LIBRARIES})
    target_precompile_headers(flowlat_${name} REUSE_FROM flowlat_torch_pch)
  endif()
endfunction()
