# cmake/package.cmake -- documentation install and a Debian package
#
#   cmake -S . -B build-deb -DKAR_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build build-deb --target package
#
# builds baresip-keepalive-responder_<version>_<arch>.deb with CPack: the
# module in KAR_MODULE_DIR (/usr/lib/baresip/modules), an example config
# snippet and the documentation in KAR_DOC_DIR, and a dependency on the
# baresip-core version the module was built for.  That version is the
# real baresip.h's BARESIP_VERSION when KAR_BARESIP_INCLUDE_DIR is set,
# else the installed baresip-core's (the project's baresip_abi.h is the
# 1.0 ABI: a module built on it is for that baresip alone).
# KAR_DEB_BARESIP_VERSION overrides it.

set(KAR_DOC_DIR
  ${CMAKE_INSTALL_DATAROOTDIR}/doc/baresip-keepalive-responder
  CACHE PATH "Folder of the documentation and examples")

file(GLOB kar_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${kar_docs}
  DESTINATION ${KAR_DOC_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/package/config
  DESTINATION ${KAR_DOC_DIR}/examples)

# The baresip version the module is built for
if(NOT KAR_DEB_BARESIP_VERSION)
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
  set(KAR_DEB_BARESIP_VERSION "${kar_bv}" CACHE STRING
    "baresip-core version the package depends on (x.y.z)")
endif()

if(KAR_DEB_BARESIP_VERSION MATCHES "^([0-9]+)\\.([0-9]+)\\.([0-9]+)$")
  math(EXPR kar_next "${CMAKE_MATCH_3} + 1")
  set(kar_upper "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}.${kar_next}~")
  # Any Debian revision of that upstream version, nothing newer: the
  # module is built against one baresip's ABI
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "baresip-core (>= ${KAR_DEB_BARESIP_VERSION}), baresip-core (<< ${kar_upper})")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "baresip-core")
  message(WARNING "baresip version unknown (no baresip.h version, no "
    "baresip-core installed): the package depends on any baresip-core; "
    "set KAR_DEB_BARESIP_VERSION=x.y.z")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME baresip-keepalive-responder)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "keepalive_responder maintainers <root@localhost>"
  CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "baresip module answering SIP keep-alive probes with 200 OK")
# Summary line first, then this as the extended description
set(CPACK_PACKAGE_DESCRIPTION "Proxies, PBXs and SBCs probe their endpoints with OPTIONS and
out-of-dialog NOTIFY and drop endpoints that do not answer 200 OK.
keepalive_responder puts a listener in front of baresip's core
listeners and answers what stock baresip would reject.")
set(CPACK_DEBIAN_PACKAGE_SECTION comm)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
# The module needs only libc, and takes every baresip and libre symbol
# from the baresip executable (as Debian's own modules do)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
set(CPACK_OUTPUT_CONFIG_FILE ${PROJECT_BINARY_DIR}/CPackConfig.cmake)
include(CPack)
