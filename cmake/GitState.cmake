# cmake -DSOURCE_DIR=<tree> -DOUTPUT=<GitState.hpp> -P GitState.cmake
#
# Run at every build (not at configure time): writes the commit of the
# source tree and whether tracked files differ from it, and touches OUTPUT
# only when that changed, so an unchanged tree recompiles nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD
                WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
set(dirty false)
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit "unknown")      # not a git checkout (a release archive), or no git
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no
                  WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE status ERROR_QUIET)
  if(status)
    set(dirty true)
  endif()
endif()
file(WRITE ${OUTPUT}.new
"#pragma once
// Generated at build time by cmake/GitState.cmake.
namespace flowlat::git_state {
inline constexpr const char* kCommit = \"${commit}\";
inline constexpr bool kDirty = ${dirty};
}  // namespace flowlat::git_state
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.new ${OUTPUT})
file(REMOVE ${OUTPUT}.new)
