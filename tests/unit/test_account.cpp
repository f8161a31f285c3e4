// The passwd lookup of the module and both tools (common/account.hpp),
// against a user database scripted here: the core's calls to getpwnam_r and
// getpwuid_r are linked to the __wrap_ functions below (-Wl,--wrap). What
// POSIX allows as "no such user" is not_found; any other error is failed,
// never not_found; a short buffer is grown, within a bound.
#include "account.hpp"

#include "cmocka_cxx.hpp"

#include <pwd.h>

#include <cerrno>
#include <cstring>
#include <vector>

using namespace twofactor;

namespace {

// What the next lookups answer: an error code, or the entry (rc 0) when
// name is set. Buffers smaller than min_buffer get ERANGE.
struct Script {
    int rc = 0;
    const char* name = nullptr;
    uid_t uid = 0;
    std::size_t min_buffer = 0;
    std::vector<std::size_t> sizes; // buffer size of each call
    std::string asked_name;
    uid_t asked_uid = 0;
} script;

int answer(passwd* pwd, char* buf, std::size_t buflen, passwd** result)
{
    script.sizes.push_back(buflen);
    *result = nullptr;
    if (buflen < script.min_buffer)
        return ERANGE;
    if (script.rc != 0 || script.name == nullptr)
        return script.rc;
    const std::size_t n = std::strlen(script.name) + 1;
    if (n > buflen)
        return ERANGE;
    std::memcpy(buf, script.name, n);
    *pwd = passwd{};
    pwd->pw_name = buf;
    pwd->pw_uid = script.uid;
    *result = pwd;
    return 0;
}

void reset(int rc, const char* name = nullptr, uid_t uid = 0, std::size_t min_buffer = 0)
{
    script = Script{};
    script.rc = rc;
    script.name = name;
    script.uid = uid;
    script.min_buffer = min_buffer;
}

} // namespace

extern "C" int __wrap_getpwnam_r(const char* name, passwd* pwd, char* buf, std::size_t buflen, passwd** result)
{
    script.asked_name = name;
    return answer(pwd, buf, buflen, result);
}

extern "C" int __wrap_getpwuid_r(uid_t uid, passwd* pwd, char* buf, std::size_t buflen, passwd** result)
{
    script.asked_uid = uid;
    return answer(pwd, buf, buflen, result);
}

namespace {

void found_by_name_and_by_uid(void** /*state*/)
{
    // The database's own spelling comes back, with the uid.
    reset(0, "alice", 1000);
    const Account by_name = look_up_account(std::string("ALICE"));
    assert_true(by_name.lookup == Account::Lookup::found);
    assert_string_equal(script.asked_name.c_str(), "ALICE");
    assert_string_equal(by_name.name.c_str(), "alice");
    assert_int_equal(by_name.uid, 1000);

    reset(0, "alice", 1000);
    const Account by_uid = look_up_account(uid_t{1000});
    assert_true(by_uid.lookup == Account::Lookup::found);
    assert_int_equal(script.asked_uid, 1000);
    assert_string_equal(by_uid.name.c_str(), "alice");
    assert_int_equal(by_uid.uid, 1000);
}

void no_such_user_in_every_form_posix_allows(void** /*state*/)
{
    for (int rc : {0, ENOENT, ESRCH, EBADF, EPERM}) {
        reset(rc);
        const Account by_name = look_up_account(std::string("nobody-here"));
        assert_true(by_name.lookup == Account::Lookup::not_found);
        assert_true(by_name.name.empty());
        reset(rc);
        assert_true(look_up_account(uid_t{4242}).lookup == Account::Lookup::not_found);
    }
}

void any_other_error_is_a_failure(void** /*state*/)
{
    for (int rc : {EIO, ENOMEM, EMFILE, ENFILE, EINTR, EAGAIN}) {
        reset(rc);
        const Account by_name = look_up_account(std::string("alice"));
        assert_true(by_name.lookup == Account::Lookup::failed);
        assert_int_equal(by_name.error, rc);
        reset(rc);
        const Account by_uid = look_up_account(uid_t{1000});
        assert_true(by_uid.lookup == Account::Lookup::failed);
        assert_int_equal(by_uid.error, rc);
    }
}

void a_short_buffer_grows(void** /*state*/)
{
    // An entry that needs 200 KiB (a group-heavy LDAP entry, say).
    reset(0, "alice", 1000, 200 * 1024);
    const Account by_uid = look_up_account(uid_t{1000});
    assert_true(by_uid.lookup == Account::Lookup::found);
    assert_true(script.sizes.size() >= 2);
    for (std::size_t i = 1; i < script.sizes.size(); ++i)
        assert_int_equal(script.sizes[i], 2 * script.sizes[i - 1]);

    // ERANGE for ever: it stops at 1 MiB and fails with ERANGE.
    reset(0, "alice", 1000, std::size_t{1} << 30);
    const Account too_big = look_up_account(std::string("alice"));
    assert_true(too_big.lookup == Account::Lookup::failed);
    assert_int_equal(too_big.error, ERANGE);
    assert_true(script.sizes.back() >= (std::size_t{1} << 20) && script.sizes.back() < (std::size_t{1} << 21));
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(found_by_name_and_by_uid),
        cmocka_unit_test(no_such_user_in_every_form_posix_allows),
        cmocka_unit_test(any_other_error_is_a_failure),
        cmocka_unit_test(a_short_buffer_grows),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
