// enroll USER: a new random TOTP secret, shown once as an otpauth URI, a QR
// code and base32 text, activated only after the user proves (with a code
// from the app) that the app has it.
#include "commands.hpp"

#include "../json.hpp"

#include "enrolment.hpp"
#include "otpauth.hpp"
#include "output.hpp"
#include "qr.hpp"

#include "codec.hpp"
#include "crypto.hpp"

namespace twofactor::admin {
namespace {

class EnrollCommand final : public Command {
public:
    const char* name() const override { return "enroll"; }
    const char* synopsis() const override
    {
        return "USER [--algorithm sha1|sha256|sha512] [--digits N] [--period S] [--issuer NAME]\n"
               "       [--qr utf8|ansi|none] [--no-confirm] [--force] [--json]";
    }
    const char* summary() const override { return "create a TOTP secret for USER (URI and QR code)"; }
    const char* details() const override
    {
        return "USER must be an account in the passwd database. The secret is shown on standard\n"
               "output only, then a current code from the app is read from standard input and the\n"
               "secret is stored only if that code is right (that code's time step then counts as\n"
               "used). Backup codes are kept. Defaults come from the totp_* and issuer keys of\n"
               "twofactor.conf; the issuer defaults to the host name. --qr utf8 suits light-on-dark\n"
               "terminals, ansi any terminal. --json prints no QR code.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        declare_user(hidden, positional);
        // Config-key flags are strings: the config parser checks them.
        auto add = shown.add_options();
        add("algorithm", po::value<std::string>()->value_name("ALG"), "sha1, sha256 or sha512 (totp_algorithm)");
        add("digits", po::value<std::string>()->value_name("N"), "code length, 6-8 (totp_digits)");
        add("period", po::value<std::string>()->value_name("S"), "time step in seconds, 15-300 (totp_period)");
        add("issuer", po::value<std::string>()->value_name("NAME"), "issuer shown by the app (issuer)");
        add("qr", po::value<std::string>()->value_name("STYLE"), "utf8 (default), ansi or none");
        add("no-confirm", po::bool_switch(), "store the secret without asking for a code");
        add("force", po::bool_switch(), "replace an existing TOTP secret");
        add("json", po::bool_switch(), "print the enrolment as JSON (docs/json.md)");
    }

    std::vector<ConfigFlag> config_flags() const override
    {
        return {{"algorithm", "totp_algorithm"},
                {"digits", "totp_digits"},
                {"period", "totp_period"},
                {"issuer", "issuer"}};
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string user = required_user(ctx.options);
        const bool json = flag(ctx.options, "json");
        const bool force = flag(ctx.options, "force");
        const cli::QrStyle style = qr_style(ctx.options, json);
        require_account(user);

        // Checked now so nobody scans a code that cannot be stored; checked
        // again under the lock in case another enrolment raced us.
        const std::optional<UserState> existing = ctx.store.load(user);
        if (existing && existing->totp && !force)
            throw OperationFailed(user + " already has a TOTP secret; use --force to replace it");

        cli::Enrolment enrolment = cli::new_enrolment(user, ctx.config, ctx.clock.now());
        show(enrolment, style, json);
        if (!flag(ctx.options, "no-confirm"))
            enrolment.totp.last_step = confirm(enrolment, ctx.clock);

        bool replaced = false;
        const bool stored = ctx.store.update(user, [&](std::optional<UserState>& state) {
            if (state && state->totp && !force)
                return false;
            UserState& target = cli::state_to_enrol(state, user);
            replaced = target.totp.has_value();
            target.totp = std::move(enrolment.totp);
            target.devices.clear(); // a new secret: every device proves itself again
            return true;
        });
        if (!stored)
            throw OperationFailed(user + " was enrolled by someone else meanwhile; nothing stored (use --force)");
        cli::notice(std::string(replaced ? "replaced the TOTP secret of " : "enrolled ") + user + " ("
                    + to_string(ctx.config.totp.algorithm) + ", " + std::to_string(ctx.config.totp.digits) + " digits, "
                    + std::to_string(ctx.config.totp.period) + " s)");
        return ExitCode::ok;
    }

private:
    static cli::QrStyle qr_style(const po::variables_map& options, bool json)
    {
        if (!options.count("qr"))
            return json ? cli::QrStyle::none : cli::QrStyle::utf8;
        const std::string name = options["qr"].as<std::string>();
        const std::optional<cli::QrStyle> style = cli::parse_qr_style(name);
        if (!style)
            throw UsageError("--qr: expected utf8, ansi or none, got '" + name + "'");
        if (json && *style != cli::QrStyle::none)
            throw UsageError("--json prints no QR code; drop --qr");
        return *style;
    }

    static void show(const cli::Enrolment& enrolment, cli::QrStyle style, bool json)
    {
        cli::OutputBuffer out;
        if (json) {
            const TotpState& totp = enrolment.totp;
            JsonWriter w(out);
            w.begin_object()
                .field("version", 1u)
                .field("user", enrolment.account)
                .field("uri", cli::otpauth_uri(enrolment.issuer, enrolment.account, totp.secret, totp.params))
                .field("secret", base32_encode(totp.secret))
                .field("algorithm", to_string(totp.params.algorithm))
                .field("digits", totp.params.digits)
                .field("period", totp.params.period)
                .field("issuer", enrolment.issuer)
                .end_object();
            out << '\n';
        } else {
            out << "Scan this QR code with the authenticator app of " << enrolment.account
                << ", or enter the secret by hand.\n\n";
            cli::print_enrolment(out, enrolment, style);
        }
        out.flush();
    }

    // The step of the code the user typed, which becomes the last used step
    // (that code was shown to whoever watched the enrolment).
    static std::uint64_t confirm(const cli::Enrolment& enrolment, const Clock& clock)
    {
        const cli::Confirmation confirmation = cli::confirm_enrolment(enrolment, clock);
        switch (confirmation.result) {
        case cli::Confirmation::Result::confirmed:
            return confirmation.step;
        case cli::Confirmation::Result::no_input:
            throw OperationFailed("no confirmation code on standard input; nothing stored (or use --no-confirm)");
        case cli::Confirmation::Result::no_match:
            break;
        }
        throw OperationFailed("the code does not match the new secret; nothing stored (check the phone's clock)");
    }
};

} // namespace

std::unique_ptr<Command> make_enroll_command() { return std::make_unique<EnrollCommand>(); }

} // namespace twofactor::admin
