// Secrets sealed at rest (common/sealed_secret.hpp, common/secret_keys.hpp):
// a round trip; a token bound to its user, authenticator name and key id;
// every byte of a token altered, truncated or garbage refused without a
// crash; the key file's parser and its owner, mode and symlink checks; a
// file store with a key writes no secret in clear.
#include "codec.hpp"
#include "crypto.hpp"
#include "errors.hpp"
#include "file_state_store.hpp"
#include "sealed_secret.hpp"
#include "secret_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

SecretKeys two_keys()
{
    SecretKeys keys("/etc/security/twofactor.key", {});
    keys.keys().push_back(generate_secret_key(KeyRole::current, keys));
    keys.keys().push_back(generate_secret_key(KeyRole::old, keys));
    return keys;
}

bool opens(const SecretKeys& keys, const std::string& user, const std::string& name, const std::string& token,
           const SecureBytes& expected)
{
    try {
        const SecureBytes got = open_secret(&keys, user, name, token);
        assert_true(got == expected); // never another secret
        return true;
    } catch (const SecretError&) {
        return false;
    }
}

void round_trip(void** /*state*/)
{
    const SecretKeys keys = two_keys();
    for (const std::size_t n : {std::size_t{10}, std::size_t{20}, std::size_t{64}, std::size_t{128}}) {
        const SecureBytes secret = random_bytes(n);
        const std::string token = seal_secret(keys.current(), "alice", "phone", secret);
        assert_true(token.size() <= 256); // a state file's field
        assert_true(valid_sealed_token(token));
        assert_text(sealed_key_id(token), keys.current().id);
        assert_true(opens(keys, "alice", "phone", token, secret));
        // A fresh nonce every time.
        assert_true(seal_secret(keys.current(), "alice", "phone", secret) != token);
    }
    // The old key still opens what it sealed.
    const SecureBytes secret = random_bytes(20);
    assert_true(opens(keys, "bob", "default", seal_secret(keys.keys()[1], "bob", "default", secret), secret));
}

void bound_to_user_name_and_key(void** /*state*/)
{
    const SecretKeys keys = two_keys();
    const SecureBytes secret = random_bytes(20);
    const std::string token = seal_secret(keys.current(), "alice", "phone", secret);
    assert_false(opens(keys, "alicf", "phone", token, secret));
    assert_false(opens(keys, "alice", "phone2", token, secret));
    assert_false(opens(keys, "alic", "ephone", token, secret)); // lengths are part of the data
    // The same bytes claimed by the other key id.
    std::string other = token;
    other.replace(kSealedPrefix.size(), kSecretKeyIdLength, keys.keys()[1].id);
    assert_false(opens(keys, "alice", "phone", other, secret));
    // A key id the file does not hold: the message names it and the file.
    SecretKeys only_old("/etc/security/twofactor.key", {});
    only_old.keys().push_back(keys.keys()[1]);
    try {
        open_secret(&only_old, "alice", "phone", token);
        fail();
    } catch (const SecretError& e) {
        assert_text(e.what(),
                    "user alice: authenticator phone: secret sealed with key " + keys.current().id
                        + ", which /etc/security/twofactor.key does not hold");
    }
    // The wrong key under the right id.
    SecretKeys wrong("/k", {});
    SecretKey k = generate_secret_key(KeyRole::current, wrong);
    k.id = keys.current().id;
    wrong.keys().push_back(k);
    try {
        open_secret(&wrong, "alice", "phone", token);
        fail();
    } catch (const SecretError& e) {
        assert_text(e.what(),
                    "user alice: authenticator phone: secret sealed with key " + k.id
                        + " does not decrypt (wrong key or altered data)");
    }
    // No key file at all.
    try {
        open_secret(nullptr, "alice", "phone", token);
        fail();
    } catch (const SecretError&) {
    }
}

void every_byte_altered(void** /*state*/)
{
    const SecretKeys keys = two_keys();
    const SecureBytes secret = random_bytes(20);
    const std::string token = seal_secret(keys.current(), "alice", "phone", secret);
    for (std::size_t i = 0; i < token.size(); ++i) {
        for (const char c : {'A', 'z', '0', '-', '_', ':', 'f', ' '}) {
            if (token[i] == c)
                continue;
            std::string t = token;
            t[i] = c;
            assert_false(opens(keys, "alice", "phone", t, secret));
        }
    }
    // Truncated, extended, garbage.
    for (std::size_t n = 0; n < token.size(); ++n)
        assert_false(opens(keys, "alice", "phone", token.substr(0, n), secret));
    assert_false(opens(keys, "alice", "phone", token + "A", secret));
    assert_false(opens(keys, "alice", "phone", token + "AAAA", secret));
    for (const char* garbage :
         {"", "aes256gcm:", "aes256gcm:::", "aes256gcm:0000000g:AAAA", "JBSWY3DPEHPK3PXP", "aes256gcm:00000000:"}) {
        assert_false(valid_sealed_token(garbage));
        assert_false(opens(keys, "alice", "phone", garbage, secret));
    }
}

void base64url(void** /*state*/)
{
    for (std::size_t n = 0; n < 40; ++n) {
        const SecureBytes data = random_bytes(n);
        const SecureChars text = base64url_encode(data.data(), data.size());
        SecureBytes back;
        assert_true(base64url_decode(view(text), back));
        assert_true(back == data);
    }
    const SecureBytes f = {'f', 'o', 'o', 'b', 'a'};
    assert_text(view(base64url_encode(f.data(), f.size())), "Zm9vYmE");
    SecureBytes out;
    assert_false(base64url_decode("Zm9vYmF", out)); // unused bits set
    assert_false(base64url_decode("Zm9vY", out));   // one character left over
    assert_false(base64url_decode("Zm9v+mE", out)); // not the url alphabet
    assert_false(base64url_decode("Zm9vYmE=", out));
}

std::string key_line(const std::string& id, const char* role)
{
    const SecureBytes k = random_bytes(32);
    return "key " + id + " " + role + " " + std::string(view(base64url_encode(k.data(), k.size()))) + "\n";
}

void refused(const std::string& text, const std::string& expected_part)
{
    try {
        parse_secret_keys(text, "/etc/k");
        fail_msg("accepted: %s", expected_part.c_str());
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        if (what.find(expected_part) == std::string::npos)
            fail_msg("%s: does not say %s", what.c_str(), expected_part.c_str());
        assert_true(what.rfind("/etc/k: ", 0) == 0);
    }
}

void key_file_parser(void** /*state*/)
{
    const std::string header = "twofactor-keys 1\n";
    const SecretKeys keys = parse_secret_keys(header + key_line("0123abcd", "old") + "# a comment\n\n"
                                                  + key_line("5f3a9c21", "current") + key_line("ffffffff", "next"),
                                              "/etc/k");
    assert_int_equal(keys.keys().size(), 3);
    assert_text(keys.current().id, "5f3a9c21");
    assert_true(keys.find("0123abcd") != nullptr);
    // Written and read back the same.
    const SecretKeys again = parse_secret_keys(view(serialize_secret_keys(keys)), "/etc/k");
    assert_int_equal(again.keys().size(), 3);
    for (std::size_t i = 0; i < 3; ++i) {
        assert_text(again.keys()[i].id, keys.keys()[i].id);
        assert_true(again.keys()[i].key == keys.keys()[i].key);
        assert_true(again.keys()[i].role == keys.keys()[i].role);
    }

    refused("", "empty");
    refused("twofactor-keys 2\n" + key_line("5f3a9c21", "current"), "line 1: expected the header");
    refused(header + key_line("5f3a9c21", "current") + key_line("0123abcd", "current"), "more than one current");
    refused(header + key_line("0123abcd", "old"), "no current key");
    refused(header + key_line("5f3a9c21", "current") + key_line("5f3a9c21", "old"), "line 3: key id 5f3a9c21 repeated");
    refused(header + key_line("5F3A9C21", "current"), "line 2: key id must be 8 lower-case hex digits");
    refused(header + key_line("5f3a9c2", "current"), "key id must be");
    refused(header + key_line("5f3a9c21", "primary"), "role must be");
    refused(header + "key 5f3a9c21 current AAAA\n", "not 32 bytes");
    refused(header + "key 5f3a9c21 current\n", "expected 'key ID ROLE BASE64'");
    refused(header + " " + key_line("5f3a9c21", "current"), "expected 'key ID ROLE BASE64'");
    std::string unterminated = header + key_line("5f3a9c21", "current");
    unterminated.pop_back();
    refused(unterminated, "not terminated");
    // The key bytes never appear in a refusal.
    const std::string bad = header + "key 5f3a9c21 current c2VjcmV0LWtleS1ieXRlcw\n";
    try {
        parse_secret_keys(bad, "/etc/k");
        fail();
    } catch (const ConfigError& e) {
        assert_true(std::string(e.what()).find("c2VjcmV0") == std::string::npos);
    }
}

struct TempDir {
    std::string path;
    TempDir()
    {
        char t[] = "/tmp/twofactor-secrets-XXXXXX";
        assert_non_null(::mkdtemp(t));
        path = t;
    }
    ~TempDir()
    {
        if (std::system(("rm -rf '" + path + "'").c_str()) != 0)
            std::cerr << "could not remove " << path << "\n";
    }
};

std::string read_refusal(const std::string& path)
{
    try {
        read_secret_key_file(path, false);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "accepted";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void key_file_checks(void** /*state*/)
{
    const TempDir dir;
    const std::string path = dir.path + "/twofactor.key";
    assert_null(read_secret_key_file(path, true).get()); // missing, and allowed to be
    assert_true(contains(read_refusal(path), "does not exist"));

    SecretKeys keys(path, {});
    keys.keys().push_back(generate_secret_key(KeyRole::current, keys));
    write_secret_key_file(keys, true);
    struct stat st {};
    assert_int_equal(::stat(path.c_str(), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_text(read_secret_key_file(path, false)->current().id, keys.current().id);
    try { // key init never overwrites
        write_secret_key_file(keys, true);
        fail();
    } catch (const ConfigError& e) {
        assert_true(contains(e.what(), "already exists"));
    }

    assert_int_equal(::chmod(path.c_str(), 0400), 0);
    assert_text(read_refusal(path), "accepted");
    for (const mode_t mode : {0640, 0604, 0644, 0610, 0601}) {
        assert_int_equal(::chmod(path.c_str(), mode), 0);
        assert_true(contains(read_refusal(path), "unsafe: readable or writable by group or others"));
    }
    assert_int_equal(::chmod(path.c_str(), 0600), 0);

    const std::string link = dir.path + "/link.key";
    assert_int_equal(::symlink(path.c_str(), link.c_str()), 0);
    assert_true(contains(read_refusal(link), "unsafe: is a symlink"));
    assert_true(contains(read_refusal(dir.path + "/"), "not a regular file")
                || contains(read_refusal(dir.path + "/"), "cannot read"));
    assert_true(contains(read_refusal("relative.key"), "absolute path"));

    if (::geteuid() == 0) {
        assert_int_equal(::chown(path.c_str(), 65534, 0), 0);
        assert_true(contains(read_refusal(path), "unsafe: owned by uid 65534"));
        assert_int_equal(::chown(path.c_str(), 0, 0), 0);
        // A directory another user may write to.
        assert_int_equal(::chmod(dir.path.c_str(), 0777), 0);
        assert_true(contains(read_refusal(path), "unsafe directory"));
        assert_int_equal(::chmod(dir.path.c_str(), 0700), 0);
        assert_text(read_refusal(path), "accepted");
    }
}

std::string file_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void file_store_seals(void** /*state*/)
{
    const TempDir dir;
    assert_int_equal(::chmod(dir.path.c_str(), 0700), 0);
    const auto keys = std::make_shared<SecretKeys>(two_keys());
    const SecureBytes secret = random_bytes(20);
    const std::string b32(view(base32_encode(secret)));

    // Without a key: in clear, format 2, as before.
    FileStateStore clear(dir.path);
    clear.update("alice", [&](std::optional<UserState>& st) {
        st = UserState{};
        Authenticator a;
        a.secret = secret;
        a.name = "phone";
        st->authenticators.push_back(a);
        return true;
    });
    std::string text = file_text(dir.path + "/alice");
    assert_true(text.rfind("twofactor-state 2\n", 0) == 0);
    assert_true(contains(text, b32));

    // With one: read in clear, sealed (format 3) when next written.
    FileStateStore sealed(dir.path, keys);
    assert_true(sealed.load("alice")->authenticators[0].secret == secret);
    sealed.update("alice", [](std::optional<UserState>& st) { return st.has_value(); });
    text = file_text(dir.path + "/alice");
    assert_true(text.rfind("twofactor-state 3\n", 0) == 0);
    assert_false(contains(text, b32));
    assert_false(contains(text, to_hex(secret.data(), secret.size())));
    assert_true(contains(text, "aes256gcm:" + keys->current().id + ":"));
    assert_true(sealed.load("alice")->authenticators[0].secret == secret);
    // An unchanged secret keeps its token.
    sealed.update("alice", [](std::optional<UserState>& st) { return st.has_value(); });
    assert_text(file_text(dir.path + "/alice"), text);

    // Without the key: refused, never a state without a secret.
    try {
        clear.load("alice");
        fail();
    } catch (const SecretError& e) {
        assert_true(contains(e.what(), "user alice: authenticator phone: secret sealed with key"));
    }
}

// Format 3 takes a sealed token where format 2 takes base32; nothing else
// passes for either.
void state_format_3(void** /*state*/)
{
    const SecretKeys keys = two_keys();
    const SecureBytes secret = random_bytes(20);
    const std::string token = seal_secret(keys.current(), "alice", "phone", secret);
    const auto file = [&](int version, const std::string& s) {
        return "twofactor-state " + std::to_string(version) + "\nuser alice\nauth phone totp sha1 6 30 " + s
            + " 1700000000 - -\nfailures 0 0\nend\n";
    };
    UserState st = parse_user_state(file(3, token));
    assert_text(st.authenticators[0].sealed, token);
    assert_true(st.authenticators[0].secret.empty());
    assert_text(view(serialize_user_state(st)), file(3, token));
    open_secrets(st, &keys);
    assert_true(st.authenticators[0].secret == secret);
    // Format 3 still takes base32; format 2 never takes a token.
    const std::string b32(view(base32_encode(secret)));
    assert_true(parse_user_state(file(3, b32)).authenticators[0].secret == secret);
    const auto errc = [&](const std::string& text) {
        try {
            parse_user_state(text);
        } catch (const StateFormatError& e) {
            return e.errc();
        }
        return StateErrc::empty;
    };
    assert_int_equal(errc(file(2, token)), StateErrc::bad_base32);
    assert_int_equal(errc(file(3, token.substr(0, token.size() - 1) + "=")), StateErrc::bad_value);
    assert_int_equal(errc(file(3, "aes256gcm:5F3A9C21:" + token.substr(19))), StateErrc::bad_value);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),         cmocka_unit_test(bound_to_user_name_and_key),
        cmocka_unit_test(every_byte_altered), cmocka_unit_test(base64url),
        cmocka_unit_test(key_file_parser),    cmocka_unit_test(key_file_checks),
        cmocka_unit_test(file_store_seals),   cmocka_unit_test(state_format_3),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
