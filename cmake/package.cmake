# cmake/package.cmake -- documentation install, and the baresip version
# the Debian package pins (debian/rules reads it from CMakeCache.txt)
#
# "cmake --install" puts README.md, NEWS.md, docs/*.md and the example
# config snippet into KAR_DOC_DIR.  The .deb itself is built by
# dpkg-buildpackage from debian/ (docs/packaging.md).

set(KAR_DOC_DIR
  ${CMAKE_INSTALL_DATAROOTDIR}/doc/baresip-keepalive-responder
  CACHE PATH "Folder of the documentation and examples")

file(GLOB kar_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/NEWS.md
  ${kar_docs} DESTINATION ${KAR_DOC_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/package/config
  DESTINATION ${KAR_DOC_DIR}/examples)

# KAR_BARESIP_VERSION (x.y.z): the baresip the module is compiled for.
# The real baresip.h's BARESIP_VERSION when KAR_BARESIP_INCLUDE_DIR is
# set, else the installed baresip-core's upstream version (the project's
# baresip_abi.h declares that one ABI).  Computed here only when the
# top-level CMakeLists.txt has not set it.
if(NOT KAR_BARESIP_VERSION)
  set(kar_bv "")
  if(KAR_BARESIP_INCLUDE_DIR AND EXISTS ${KAR_BARESIP_INCLUDE_DIR}/baresip.h)
    file(STRINGS ${KAR_BARESIP_INCLUDE_DIR}/baresip.h kar_line
      REGEX "#define BARESIP_VERSION")
    if(kar_line MATCHES "\"([0-9]+\\.[0-9]+\\.[0-9]+)")
      set(kar_bv ${CMAKE_MATCH_1})
    endif()
  else()
    find_program(KAR_DPKG_QUERY dpkg-query)
    if(KAR_DPKG_QUERY)
      execute_process(COMMAND ${KAR_DPKG_QUERY} -W -f=\${Version}
        baresip-core OUTPUT_VARIABLE kar_out RESULT_VARIABLE kar_rc
        ERROR_QUIET)
      # epoch:upstream-revision -> upstream
      if(kar_rc EQUAL 0 AND kar_out MATCHES
          "^([0-9]+:)?([0-9]+\\.[0-9]+\\.[0-9]+)")
        set(kar_bv ${CMAKE_MATCH_2})
      endif()
    endif()
  endif()
  set(KAR_BARESIP_VERSION "${kar_bv}" CACHE STRING
    "baresip version the module is compiled for (x.y.z)")
endif()
message(STATUS "baresip version: ${KAR_BARESIP_VERSION}")
