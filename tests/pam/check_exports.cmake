# cmake -DNM=nm -DMODULE=pam_twofactor.so -P check_exports.cmake
# Fails unless the module's dynamic symbol table defines exactly the two
# entry points libpam looks up (exports.map hides everything else).
execute_process(COMMAND ${NM} -D --defined-only ${MODULE}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${MODULE}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(found "")
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] " "" name "${line}")
  list(APPEND found "${name}")
endforeach()
list(SORT found)
if(NOT found STREQUAL "pam_sm_authenticate;pam_sm_setcred")
  message(FATAL_ERROR "unexpected dynamic symbols in ${MODULE}: ${found}")
endif()
message(STATUS "exports: ${found}")
