# credchain-config-version.cmake answers as SameMajorVersion: a request for
# the installed version or an older one of the same major is met, a newer
# one or another major is not. Fails the configuration otherwise.
set(_installed "${credchain_VERSION}")
math(EXPR _next_minor "${credchain_VERSION_MINOR} + 1")
math(EXPR _next_major "${credchain_VERSION_MAJOR} + 1")
set(_major "${credchain_VERSION_MAJOR}")
set(_minor "${credchain_VERSION_MINOR}")
foreach(_case
    "${_installed}=TRUE"
    "${_major}.${_minor}=TRUE"
    "${_major}=TRUE"
    "${_major}.${_next_minor}=FALSE"
    "${_next_major}.0=FALSE"
    "${_major}.${_minor}...<${_next_major}=TRUE"
    "${_major}.${_minor}...${_next_major}.0=FALSE")
  string(REPLACE "=" ";" _case "${_case}")
  list(GET _case 0 _request)
  list(GET _case 1 _expected)
  find_package(credchain "${_request}" QUIET)
  if(credchain_FOUND)
    set(_found TRUE)
  else()
    set(_found FALSE)
  endif()
  if(NOT _found STREQUAL _expected)
    message(FATAL_ERROR "find_package(credchain ${_request}): found ${_found}, expected ${_expected} (installed ${_installed})")
  endif()
  message(STATUS "find_package(credchain ${_request}): found ${_found}")
endforeach()
find_package(credchain EXACT "${_installed}" REQUIRED)
