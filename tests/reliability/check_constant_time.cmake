# Checks in the sources that secrets are compared in constant time
# (docs/reliability.md, section 6): no memcmp/strcmp/strncmp/strcasecmp/bcmp call in the
# files that handle codes, hashes and TOTP secrets, and CRYPTO_memcmp where
# they are compared:
#   crypto.cpp        ct_equal() is CRYPTO_memcmp
#   backup_codes.cpp  match_backup_code() compares every slot with ct_equal
#   totp.cpp          liboath's validate callback compares with CRYPTO_memcmp
#   codec.cpp         hex and base32 without an alphabet table (a lookup
#                     indexed by a secret digit); that it also has no branch
#                     on one is tested under valgrind by ct_codecs.cpp
# (Other files compare only names, keys and keywords.)
# Usage: cmake -DCOMMON_DIR=.../common -P check_constant_time.cmake
if(NOT COMMON_DIR)
  message(FATAL_ERROR "COMMON_DIR not set")
endif()

set(secret_files backup_codes.cpp backup_codes.hpp codec.cpp codec.hpp crypto.cpp crypto.hpp totp.cpp totp.hpp
                 verifier.cpp verifier.hpp secure_memory.hpp)
set(sources)
foreach(f IN LISTS secret_files)
  if(NOT EXISTS ${COMMON_DIR}/${f})
    message(SEND_ERROR "${COMMON_DIR}/${f}: missing (update this list)")
  endif()
  list(APPEND sources ${COMMON_DIR}/${f})
endforeach()
foreach(f IN LISTS sources)
  file(STRINGS ${f} lines REGEX "(^|[^_A-Za-z0-9])(memcmp|strcmp|strncmp|bcmp|strcasecmp)[ \t]*\\(")
  foreach(l IN LISTS lines)
    message(SEND_ERROR "${f}: variable-time comparison: ${l}")
  endforeach()
endforeach()

function(require file pattern why)
  file(READ ${COMMON_DIR}/${file} text)
  string(REGEX MATCH "${pattern}" found "${text}")
  if(NOT found)
    message(SEND_ERROR "${file}: ${why} (pattern '${pattern}' not found)")
  endif()
endfunction()
require(crypto.cpp "ct_equal\\([^)]*\\)[^{]*{[^}]*CRYPTO_memcmp" "ct_equal must be CRYPTO_memcmp")
require(backup_codes.cpp "for \\(std::size_t i = 0; i < set\\.slots\\.size\\(\\); \\+\\+i\\)[^}]*ct_equal"
        "match_backup_code must compare every slot with ct_equal")
require(totp.cpp "CRYPTO_memcmp\\(candidate" "the TOTP callback must compare with CRYPTO_memcmp")
require(totp.cpp "oath_totp_validate[0-9]*_callback" "TOTP must be validated through liboath's callback variant")
file(STRINGS ${COMMON_DIR}/codec.cpp lines REGEX "\"[0-9A-Za-z]*(0123456789|ABCDEF|abcdef|234567)")
foreach(l IN LISTS lines)
  message(SEND_ERROR "codec.cpp: an alphabet table, looked up by secret digits: ${l}")
endforeach()

list(LENGTH sources n)
message(STATUS "constant-time sources: ${n} files of ${COMMON_DIR} checked: ${secret_files}")
