# The core (common/) has no database client: no libpq function and no
# dlopen in any of its objects. The PostgreSQL store, which loads libpq at
# run time, is common/pg/ (twofactor_pg). Usage:
#   cmake -DNM=nm -DARCHIVE=libtwofactor_core.a -P check_core_archive.cmake
execute_process(COMMAND ${NM} -u ${ARCHIVE} OUTPUT_VARIABLE undefined RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${ARCHIVE} failed (${rc})")
endif()
string(REGEX MATCHALL "[ \t](PQ[A-Za-z_]+|dlopen|dlsym|dlclose)\n" found "${undefined}")
if(found)
  string(REPLACE "\n" "" found "${found}")
  message(FATAL_ERROR "${ARCHIVE} uses ${found}: database code belongs in common/pg/")
endif()
message(STATUS "${ARCHIVE}: no libpq and no dlopen")
