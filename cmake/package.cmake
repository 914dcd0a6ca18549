# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# cmake/package.cmake -- documentation install
#
# "cmake --install" puts README.md, NEWS.md, docs/*.md and the example
# config snippet into KAR_DOC_DIR.  The .deb itself is built by
# dpkg-buildpackage from debian/ (docs/packaging.md); debian/rules
# pins baresip-core to the version CMakeLists.txt writes into
# ${PROJECT_BINARY_DIR}/baresip-version.

set(KAR_DOC_DIR
  ${CMAKE_INSTALL_DATAROOTDIR}/doc/baresip-keepalive-responder
  CACHE PATH "Folder of the documentation and examples")

file(GLOB kar_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/NEWS.md
  ${kar_docs} DESTINATION ${KAR_DOC_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/package/config
  DESTINATION ${KAR_DOC_DIR}/examples)
