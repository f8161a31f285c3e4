# cmake -DREADELF=readelf -DFILE=binary -DALLOWED="regex" -P check_needed.cmake
# Fails unless every DT_NEEDED entry of FILE matches ALLOWED. What a binary
# links is loaded into every login (the module) or runs with root's
# privileges (the setuid tool): libpq in particular must stay out, it is
# loaded at run time only for store = postgresql (common/pg/libpq.hpp).
execute_process(COMMAND ${READELF} -d ${FILE} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf failed on ${FILE}")
endif()
string(REGEX MATCHALL "Shared library: \\[[^]]*\\]" entries "${out}")
set(needed "")
set(unexpected "")
foreach(entry IN LISTS entries)
  string(REGEX REPLACE "Shared library: \\[(.*)\\]" "\\1" name "${entry}")
  list(APPEND needed "${name}")
  if(NOT name MATCHES "^(${ALLOWED})$")
    list(APPEND unexpected "${name}")
  endif()
endforeach()
if(needed STREQUAL "")
  message(FATAL_ERROR "no DT_NEEDED entries found in ${FILE}: readelf output not understood")
endif()
if(unexpected)
  message(FATAL_ERROR "${FILE} links ${unexpected}, which it must not (allowed: ${ALLOWED})")
endif()
message(STATUS "${FILE}: ${needed}")
