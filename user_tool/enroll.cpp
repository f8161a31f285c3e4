// twofactor enroll: after re-authentication, a new random TOTP secret is
// shown (otpauth URI, QR code, base32 text) and stored only once the user
// has typed a current code from the app; until then the old secret, if any,
// keeps working. Backup codes are kept.
#include "self_service.hpp"

#include "otpauth.hpp"
#include "output.hpp"
#include "qr.hpp"
#include "terminal.hpp"

#include "crypto.hpp"
#include "totp.hpp"
#include "verifier.hpp"

#include <unistd.h>

namespace twofactor::self_service {
namespace {

// A person typing gets a few tries before the new secret is thrown away;
// piped input gets one.
constexpr int kConfirmAttemptsOnTerminal = 3;

void show(const std::string& user, const std::string& issuer, const TotpState& totp, cli::QrStyle style)
{
    const SecureChars uri = cli::otpauth_uri(issuer, user, totp.secret, totp.params);
    const SecureChars secret = base32_encode(totp.secret);
    cli::OutputBuffer out;
    out << "Scan this QR code with your authenticator app, or type in the secret by hand.\n\n";
    out << cli::render_qr(uri, style);
    out << '\n' << uri << "\n\n";
    out << "Secret:    ";
    for (std::size_t i = 0; i < secret.size(); ++i) {
        if (i > 0 && i % 4 == 0)
            out << ' ';
        out << secret[i];
    }
    out << "\nType:      time-based (TOTP), " << cli::uri_algorithm(totp.params.algorithm) << ", " << totp.params.digits
        << " digits, every " << totp.params.period << " s\n";
    out << "Issuer:    " << issuer << "\nAccount:   " << user << "\n\n";
    out.flush();
}

// The step of the code typed, which becomes the last used step: that code
// was on the screen, so it must not open a login afterwards.
std::uint64_t confirm(const TotpState& totp, const Clock& clock)
{
    const int attempts = ::isatty(STDIN_FILENO) == 1 ? kConfirmAttemptsOnTerminal : 1;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        const std::optional<SecureChars> line
            = cli::read_line("Code from the app to confirm: ", cli::Prompt::always, false);
        if (!line)
            break;
        if (const auto step = totp_verify(totp.secret, totp.params, clock.now(), 1, trim_code(view(*line))))
            return *step;
        if (attempt < attempts)
            cli::notice("that code does not match the new secret; try again");
    }
    throw Refused("reason=confirmation_failed",
                  "the code does not match the new secret; nothing changed, your previous app setup (if any)"
                  " still works (check the phone's clock, then run 'twofactor enroll' again)");
}

} // namespace

ExitCode run_enroll(Session& session)
{
    require_allowed(session, Operation::enroll);
    const Config& config = session.config;
    if (config.no_totp)
        throw Refused("reason=totp_disabled", "authenticator app codes are not accepted on this host (no_totp)");
    const std::optional<UserState> before = load_own_state(session);
    require_reauthentication(session, before);

    TotpState totp;
    totp.params = config.totp;
    totp.secret = random_bytes(totp_secret_length(totp.params.algorithm));
    totp.enrolled_at = session.clock.now();
    const std::string issuer = config.issuer.empty() ? cli::host_name() : config.issuer;
    show(session.subject.user, issuer, totp, session.command_line.qr);
    totp.last_step = confirm(totp, session.clock);

    bool replaced = false, has_codes = false;
    update_own_state(session, before, [&](std::optional<UserState>& state) {
        if (!state) {
            state.emplace();
            state->user = session.subject.user;
        }
        replaced = state->totp.has_value();
        has_codes = state->codes && state->codes->remaining() > 0;
        state->totp = std::move(totp);
    });
    session.privileges.drop_permanently();
    audit(session.subject, "enroll", Outcome::success,
          std::string("replaced=") + (replaced ? "yes" : "no") + " algorithm=" + to_string(config.totp.algorithm)
              + " digits=" + std::to_string(config.totp.digits) + " period=" + std::to_string(config.totp.period));

    cli::OutputBuffer out;
    out << "Your authenticator app is set up for " << session.subject.user << ".\n";
    if (replaced)
        out << "The previous app setup no longer works: delete its entry from the old app.\n";
    if (!has_codes)
        out << "You have no unused backup codes: make a set with 'twofactor new-codes'.\n";
    out.flush();
    return ExitCode::ok;
}

} // namespace twofactor::self_service
