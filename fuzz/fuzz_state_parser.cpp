// libFuzzer target: the state-file parser. Any input either parses or is
// refused with a StateFormatError (any other exception, a crash or a
// sanitizer report is a bug); what parses must keep the documented ranges
// and survive serialize -> parse unchanged, and serializing that again must
// give the same bytes.
#include "errors.hpp"
#include "fuzz_support.hpp"
#include "sealed_secret.hpp"
#include "user_state.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace twofactor;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    UserState parsed;
    try {
        parsed = parse_user_state(text);
    } catch (const StateFormatError&) {
        return 0; // refused: the normal outcome for junk
    }

    // What docs/state-format.md promises about anything that parses.
    FUZZ_CHECK(!parsed.user.empty() && parsed.failures <= 1000000);
    FUZZ_CHECK(parsed.authenticators.size() <= kMaxAuthenticators);
    for (const Authenticator& a : parsed.authenticators) {
        // A secret in clear, or (version 3) a sealed token left unopened.
        FUZZ_CHECK(a.sealed.empty() ? a.secret.size() >= 10 && a.secret.size() <= 128
                                    : a.secret.empty() && valid_sealed_token(a.sealed));
        FUZZ_CHECK(a.params.digits >= 6 && a.params.digits <= 8);
        FUZZ_CHECK(a.params.period >= 1 && a.params.period <= 3600);
        FUZZ_CHECK(valid_authenticator_name(a.name) && parsed.find(a.name) == &a);
    }
    if (parsed.codes) {
        const BackupCodeSet& c = *parsed.codes;
        FUZZ_CHECK(c.slots.size() >= 1 && c.slots.size() <= kMaxBackupCodes);
        FUZZ_CHECK(c.length >= kMinBackupCodeLength && c.length <= kMaxBackupCodeLength);
        FUZZ_CHECK(c.params.log2_n >= 10 && c.params.log2_n <= 20 && c.params.r >= 1 && c.params.r <= 32
                   && c.params.p >= 1 && c.params.p <= 16);
    }

    const SecureChars written = serialize_user_state(parsed);
    FUZZ_CHECK(written.size() <= kMaxStateBytes);
    UserState reread;
    try {
        reread = parse_user_state(view(written));
    } catch (const StateFormatError& e) {
        // The writer produced a file its own parser refuses: a user whose
        // state is rewritten would be locked out of the second factor.
        std::fprintf(stderr, "serialized state does not parse: %s\n", e.what());
        std::abort();
    }
    FUZZ_CHECK(fuzz::same_state(parsed, reread));
    FUZZ_CHECK(serialize_user_state(reread) == written);
    return 0;
}
