# cmake -DNM=nm -DMODULE=pam_twofactor.so -P check_no_demangler.cmake
# In the module linked with the static C++ runtime, fails if libstdc++'s
# verbose terminate handler, and with it the C++ demangler, came back in
# (pam_module/cxx_runtime.cpp replaces the handler to keep them out).
execute_process(COMMAND ${NM} ${MODULE}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${MODULE} (stripped?)")
endif()
string(REGEX MATCHALL "[^\n]*(__verbose_terminate_handler|__cxa_demangle)[^\n]*" hits "${out}")
if(hits)
  message(FATAL_ERROR "the C++ demangler is linked into ${MODULE}: ${hits}")
endif()
string(FIND "${out}" "__terminate_handler" ours)
if(ours EQUAL -1)
  message(FATAL_ERROR "no __terminate_handler in ${MODULE}: not the static runtime?")
endif()
message(STATUS "no demangler in ${MODULE}")
