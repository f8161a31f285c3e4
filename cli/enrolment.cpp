#include "enrolment.hpp"

#include "operation_failed.hpp"
#include "otpauth.hpp"
#include "terminal.hpp"

#include "codec.hpp"
#include "crypto.hpp"
#include "hotp.hpp"
#include "totp.hpp"
#include "verifier.hpp"

#include <unistd.h>

#include <utility>

namespace twofactor::cli {
namespace {

// A person typing gets a few tries before the new secret is thrown away;
// piped input gets one.
constexpr int kConfirmAttemptsOnTerminal = 3;

} // namespace

Enrolment new_enrolment(const std::string& account, const Config& config, std::int64_t now, const std::string& name,
                        AuthenticatorType type)
{
    Enrolment enrolment;
    enrolment.totp.name = name;
    enrolment.totp.type = type;
    enrolment.account = account;
    enrolment.issuer = config.issuer.empty() ? host_name() : config.issuer;
    enrolment.totp.params = config.totp;
    enrolment.totp.secret = random_bytes(totp_secret_length(config.totp.algorithm));
    enrolment.totp.enrolled_at = now;
    return enrolment;
}

void print_enrolment(OutputBuffer& out, const Enrolment& enrolment, QrStyle style)
{
    const TotpState& totp = enrolment.totp;
    const SecureChars uri = enrolment_uri(enrolment);
    const SecureChars secret = base32_encode(totp.secret);
    out << render_qr(uri, style);
    out << '\n' << uri << "\n\n";
    out << "Secret:    ";
    // Groups of four, the way apps show and accept typed secrets.
    for (std::size_t i = 0; i < secret.size(); ++i) {
        if (i > 0 && i % 4 == 0)
            out << ' ';
        out << secret[i];
    }
    if (totp.type == AuthenticatorType::hotp)
        out << "\nType:      counter-based (HOTP), " << uri_algorithm(totp.params.algorithm) << ", "
            << totp.params.digits << " digits, counter " << totp.counter << "\n";
    else
        out << "\nType:      time-based (TOTP), " << uri_algorithm(totp.params.algorithm) << ", " << totp.params.digits
            << " digits, every " << totp.params.period << " s\n";
    out << "Name:      " << totp.name << "\n";
    out << "Issuer:    " << enrolment.issuer << "\nAccount:   " << enrolment.account << "\n";
}

Confirmation confirm_enrolment(const Enrolment& enrolment, const Clock& clock)
{
    const TotpState& totp = enrolment.totp;
    const int attempts = ::isatty(STDIN_FILENO) == 1 ? kConfirmAttemptsOnTerminal : 1;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        const std::optional<SecureChars> line = read_line("Code from the app to confirm: ", Prompt::always, false);
        if (!line)
            return Confirmation{attempt == 1 ? Confirmation::Result::no_input : Confirmation::Result::no_match, 0};
        const std::string_view code = trim_code(view(*line));
        const auto step = totp.type == AuthenticatorType::hotp
            ? hotp_find(totp.secret, totp.params, totp.counter, kHotpResyncWindow, code)
            : totp_verify(totp.secret, totp.params, clock.now(), 1, code);
        if (step)
            return Confirmation{Confirmation::Result::confirmed, *step};
        if (attempt < attempts)
            notice("that code does not match the new secret; try again");
    }
    return Confirmation{Confirmation::Result::no_match, 0};
}

void apply_confirmation(Authenticator& authenticator, const Confirmation& confirmation)
{
    if (authenticator.type == AuthenticatorType::hotp)
        authenticator.counter = confirmation.step + 1;
    else
        authenticator.last_step = confirmation.step;
}

SecureChars enrolment_uri(const Enrolment& enrolment)
{
    const TotpState& a = enrolment.totp;
    return otpauth_uri(enrolment.issuer, enrolment.account, a.secret, a.params,
                       a.type == AuthenticatorType::hotp ? std::optional<std::uint64_t>(a.counter) : std::nullopt);
}

void print_code_sheet(OutputBuffer& out, const std::string& account, const IssuedCodes& issued, std::string_view advice)
{
    const std::string rule(64, '-');
    out << rule << "\nBackup codes for " << account << " on " << host_name() << "\nIssued "
        << format_time_long(issued.set.issued_at) << "\n\n";
    const std::size_t n = issued.codes.size();
    for (std::size_t i = 0; i < n; ++i) {
        // "[ ]" to tick off on paper, right-aligned numbers for 10+ codes.
        out << (n >= 10 && i + 1 < 10 ? "   " : "  ") << static_cast<std::uint64_t>(i + 1) << ".  " << issued.codes[i]
            << "   [ ]\n";
    }
    out << '\n' << advice << rule << '\n';
}

void flush_new_codes(OutputBuffer& out, std::string_view again)
{
    try {
        out.flush();
    } catch (const OperationFailed& e) {
        throw OperationFailed(std::string(e.what())
                              + "; the new codes are stored but were not shown: " + std::string(again));
    }
}

UserState& state_to_enrol(std::optional<UserState>& state, const std::string& user)
{
    // A record of failed codes alone (an account that was never enrolled)
    // is not a second factor: the new one starts afresh.
    if (!state || !state->enrolled()) {
        state.emplace();
        state->user = user;
    }
    return *state;
}

} // namespace twofactor::cli
