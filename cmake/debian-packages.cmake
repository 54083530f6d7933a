# The Debian package list (debian-packages.txt, which the front door reads too) as CMake lists:
# SWAPBENCH_PACKAGES (every package) and SWAPBENCH_PACKAGES_<group>.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/debian-packages.txt" _swapbench_lines)
set(_group "")
foreach(_line IN LISTS _swapbench_lines)
  string(REGEX REPLACE "#.*" "" _line "${_line}")
  string(STRIP "${_line}" _line)
  if(_line MATCHES "^\\[([a-z0-9-]+)\\]$")
    set(_group "${CMAKE_MATCH_1}")
  elseif(NOT _line STREQUAL "")
    if(_group STREQUAL "")
      message(FATAL_ERROR "${CMAKE_CURRENT_LIST_DIR}/debian-packages.txt: '${_line}' comes before any [group]")
    endif()
    separate_arguments(_names UNIX_COMMAND "${_line}")
    list(APPEND SWAPBENCH_PACKAGES ${_names})
    list(APPEND SWAPBENCH_PACKAGES_${_group} ${_names})
  endif()
endforeach()

# swapbench_require(FOUND PACKAGE WHAT): stop naming the package when FOUND is false. A package that
# is not in the list stops the configure step too: the front door installs only what is listed, so
# a dependency added here alone would be missing on the next fresh machine.
function(swapbench_require found debian_package what)
  if(NOT "${debian_package}" IN_LIST SWAPBENCH_PACKAGES)
    message(FATAL_ERROR "${debian_package} (${what}) is not in cmake/debian-packages.txt: "
                        "add it to the group of the verbs that need it")
  endif()
  if(NOT ${found})
    message(FATAL_ERROR "swapbench needs ${what}: apt-get install ${debian_package}")
  endif()
endfunction()
