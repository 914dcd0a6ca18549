# cmake/compat.cmake -- which baresip API generation host.c builds for
#
# Included by the top-level CMakeLists.txt after the keepalive_responder
# target is defined.  With a real baresip.h (KAR_BARESIP_INCLUDE_DIR),
# each API difference host.c cares about is checked by compiling against
# that header and the libre headers found, and passed to the module as a
# KAR_HAVE_* define (plus KAR_COMPAT_CHECKED: "these are authoritative").
# Without a real header host.c uses baresip_abi.h, which is the baresip
# 1.0 ABI: nothing to check, but the installed baresip is compared with
# that, because a module built so only works with 1.0.x.
#
# The checks only compile (no link): baresip's symbols resolve from the
# baresip executable at load time.  The in-tree fragment
# modules/keepalive_responder/CMakeLists.txt runs the same checks inside
# a baresip tree.

include(CheckCSourceCompiles)
include(CMakePushCheckState)

# kar_api(<name> <body>): KAR_HAVE_<name> if <body> compiles after
# including re.h and baresip.h; appends to "found" in the caller
function(kar_api name body)
  unset(KAR_HAVE_${name} CACHE)
  check_c_source_compiles("${head}int kar_check(void);
int kar_check(void) { ${body} return 0; }
" KAR_HAVE_${name})
  if(KAR_HAVE_${name})
    set(found ${found} KAR_HAVE_${name} PARENT_SCOPE)
  endif()
endfunction()

# kar_check_baresip_api(<out-var> <include dirs> <definitions>)
#   sets <out-var> to the list of KAR_HAVE_* definitions found
function(kar_check_baresip_api out incdirs defs)
  cmake_push_check_state(RESET)
  set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
  set(CMAKE_REQUIRED_QUIET ON)
  set(CMAKE_REQUIRED_INCLUDES ${incdirs})
  set(CMAKE_REQUIRED_DEFINITIONS)
  foreach(d IN LISTS defs)
    list(APPEND CMAKE_REQUIRED_DEFINITIONS -D${d})
  endforeach()
  set(head "#include <stdarg.h>\n#include <re.h>\n#include <baresip.h>\n")

  # One check per API difference; each test compiles only where the
  # header has it
  set(found "")
  kar_api(MODULE_EVENT "void (*f)(const char *, const char *, struct ua *, struct call *, const char *, ...) = module_event; (void)f;")
  kar_api(UA_EVENT "void (*f)(struct ua *, enum ua_event, struct call *, const char *, ...) = ua_event; (void)f; (void)UA_EVENT_MWI_NOTIFY;")
  kar_api(BEVENT_EV "int (*f)(enum bevent_ev, struct ua *, const char *, ...) = bevent_ua_emit; enum bevent_ev e = BEVENT_MWI_NOTIFY; (void)f; (void)e;")
  kar_api(VLOG "void (*f)(enum log_level, const char *, va_list) = vlog; (void)f;")
  kar_api(LOGLV "void (*f)(bool, enum log_level, const char *, ...) = _loglv; (void)f;")
  kar_api(UAG_FIND "struct ua *(*f)(const struct pl *) = uag_find; (void)f;")
  kar_api(UAG_FIND_MSG "struct ua *(*f)(const struct sip_msg *) = uag_find_msg; (void)f;")
  kar_api(CMD_REGISTER "int (*f)(struct commands *, const struct cmd *, size_t) = cmd_register; struct cmd_arg a; a.prm = NULL; (void)f; (void)a;")
  cmake_pop_check_state()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

if(KAR_BARESIP_INCLUDE_DIR)
  set(kar_check_defs ${KAR_RE_DEFINES} _DEFAULT_SOURCE)
  kar_check_baresip_api(KAR_BARESIP_FEATURES
    "${KAR_BARESIP_INCLUDE_DIR};${LIBRE_INCLUDE_DIRS};${LIBREM_INCLUDE_DIRS}"
    "${kar_check_defs}")
  message(STATUS "baresip API: ${KAR_BARESIP_FEATURES}")
  if(NOT KAR_HAVE_CMD_REGISTER OR NOT KAR_HAVE_UAG_FIND)
    message(FATAL_ERROR "${KAR_BARESIP_INCLUDE_DIR}/baresip.h does not "
      "compile with the libre headers found, or lacks cmd_register/"
      "uag_find: see CMakeFiles/CMakeError.log (point pkg-config at the "
      "libre that baresip was built with)")
  endif()
  target_compile_definitions(keepalive_responder PRIVATE
    KAR_COMPAT_CHECKED ${KAR_BARESIP_FEATURES})
else()
  set(KAR_BARESIP_FEATURES KAR_HAVE_UA_EVENT KAR_HAVE_VLOG)
  # baresip_abi.h is the 1.0 ABI: say so when another baresip is here
  find_program(KAR_BARESIP_EXECUTABLE baresip)
  if(KAR_BARESIP_EXECUTABLE)
    execute_process(COMMAND ${KAR_BARESIP_EXECUTABLE} -h
      OUTPUT_VARIABLE kar_out ERROR_VARIABLE kar_out
      RESULT_VARIABLE kar_rc TIMEOUT 10)
    if(kar_out MATCHES "baresip v([0-9]+\\.[0-9]+\\.[0-9]+)")
      set(KAR_BARESIP_RUNTIME_VERSION ${CMAKE_MATCH_1} CACHE INTERNAL "")
      if(NOT KAR_BARESIP_RUNTIME_VERSION MATCHES "^1\\.0\\.")
        message(WARNING "${KAR_BARESIP_EXECUTABLE} is baresip "
          "${KAR_BARESIP_RUNTIME_VERSION}, but without a real baresip.h "
          "the module is built for the baresip 1.0 ABI "
          "(baresip_abi.h). Set KAR_BARESIP_INCLUDE_DIR to that "
          "baresip's include folder.")
      endif()
    endif()
  endif()
endif()

# libre 3.10 and later have only RE_ARRAY_SIZE; the module's sources use
# ARRAY_SIZE.  Every target built from them gets the alias.
cmake_push_check_state(RESET)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_REQUIRED_QUIET ON)
set(CMAKE_REQUIRED_INCLUDES ${LIBRE_INCLUDE_DIRS})
foreach(d IN LISTS KAR_RE_DEFINES)
  list(APPEND CMAKE_REQUIRED_DEFINITIONS -D${d})
endforeach()
unset(KAR_RE_HAS_ARRAY_SIZE CACHE)
check_c_source_compiles("#include <re.h>
#ifndef ARRAY_SIZE
#error no ARRAY_SIZE
#endif
int kar_check(void);
int kar_check(void) { return 0; }
" KAR_RE_HAS_ARRAY_SIZE)
cmake_pop_check_state()
if(NOT KAR_RE_HAS_ARRAY_SIZE)
  message(STATUS "libre has no ARRAY_SIZE: using RE_ARRAY_SIZE")
  # PUBLIC: the module and the unit tests link kar_core
  target_compile_definitions(kar_core PUBLIC ARRAY_SIZE=RE_ARRAY_SIZE)
endif()
