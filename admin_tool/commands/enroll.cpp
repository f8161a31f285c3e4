// enroll USER [--name NAME] [--type totp|hotp]: a new random secret (or a
// token's own, --secret-stdin) for the authenticator NAME, shown once as an
// otpauth URI, a QR code and base32 text, activated only after the user
// proves (with a code from the app or token) that it has it. The user's
// other authenticators are left as they are.
#include "commands.hpp"

#include "../json.hpp"

#include "enrolment.hpp"
#include "otpauth.hpp"
#include "output.hpp"
#include "qr.hpp"
#include "secret_input.hpp"

#include "codec.hpp"
#include "crypto.hpp"

namespace twofactor::admin {
namespace {

class EnrollCommand final : public Command {
public:
    const char* name() const override { return "enroll"; }
    const char* synopsis() const override
    {
        return "USER [--name NAME] [--type totp|hotp] [--algorithm sha1|sha256|sha512] [--digits N]\n"
               "       [--period S] [--secret-stdin --secret-format hex|base32] [--issuer NAME]\n"
               "       [--qr utf8|ansi|none] [--no-confirm] [--force] [--json]";
    }
    const char* summary() const override { return "add a TOTP or HOTP authenticator for USER (URI and QR code)"; }
    const char* details() const override
    {
        return "USER must be an account in the passwd database. The secret is shown on standard\n"
               "output only, then a current code from the app is read from standard input and the\n"
               "secret is stored only if that code is right (that code's time step then counts as\n"
               "used). Backup codes and the user's other authenticators are kept. NAME (default\n"
               "'default') is 1-32 of a-z 0-9 . _ -; a user has at most max_authenticators.\n"
               "Defaults come from the totp_* and issuer keys of twofactor.conf; the issuer\n"
               "defaults to the host name. --qr utf8 suits light-on-dark terminals, ansi any\n"
               "terminal. --json prints no QR code. --secret-stdin reads an existing token's\n"
               "secret (one line, in --secret-format) before the confirmation code.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        declare_user(hidden, positional);
        // Config-key flags are strings: the config parser checks them.
        auto add = shown.add_options();
        add("name", po::value<std::string>()->value_name("NAME"), "the authenticator's name (default: default)");
        add("type", po::value<std::string>()->value_name("TYPE"), "totp (default) or hotp");
        add("secret-stdin", po::bool_switch(), "read the secret of an existing token from standard input");
        add("secret-format", po::value<std::string>()->value_name("FMT"), "hex or base32 (with --secret-stdin)");
        add("algorithm", po::value<std::string>()->value_name("ALG"), "sha1, sha256 or sha512 (totp_algorithm)");
        add("digits", po::value<std::string>()->value_name("N"), "code length, 6-8 (totp_digits)");
        add("period", po::value<std::string>()->value_name("S"), "time step in seconds, 15-300 (totp_period)");
        add("issuer", po::value<std::string>()->value_name("NAME"), "issuer shown by the app (issuer)");
        add("qr", po::value<std::string>()->value_name("STYLE"), "utf8 (default), ansi or none");
        add("no-confirm", po::bool_switch(), "store the secret without asking for a code");
        add("force", po::bool_switch(), "replace an existing authenticator of that name");
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
        const std::string name = authenticator_name(ctx.options);
        const AuthenticatorType type = authenticator_type(ctx.options);
        const std::optional<cli::SecretFormat> secret_format = secret_input(ctx.options);
        require_account(user);

        // Checked now so nobody scans a code that cannot be stored; checked
        // again under the lock in case another enrolment raced us.
        const std::optional<UserState> existing = ctx.store.load(user);
        if (const char* refusal = refused(existing, name, force, ctx.config.max_authenticators))
            throw OperationFailed(user + refusal);

        cli::Enrolment enrolment = cli::new_enrolment(user, ctx.config, ctx.clock.now(), name, type);
        if (secret_format)
            enrolment.totp.secret = cli::read_secret(*secret_format);
        show(enrolment, style, json);
        if (!flag(ctx.options, "no-confirm"))
            cli::apply_confirmation(enrolment.totp, confirm(enrolment, ctx.clock));

        bool replaced = false;
        const char* refusal = nullptr;
        ctx.store.update(user, [&](std::optional<UserState>& state) {
            refusal = refused(state, name, force, ctx.config.max_authenticators);
            if (refusal)
                return false;
            UserState& target = cli::state_to_enrol(state, user);
            replaced = target.find(name) != nullptr;
            target.put(std::move(enrolment.totp));
            target.devices.clear(); // a new secret: every device proves itself again
            return true;
        });
        if (refusal)
            throw OperationFailed(user + refusal + " (changed meanwhile); nothing stored");
        const TotpParams& p = ctx.config.totp;
        cli::notice(std::string(replaced ? "replaced the authenticator " : "enrolled the authenticator ") + name
                    + " of " + user + " (" + to_string(type) + ", " + to_string(p.algorithm) + ", "
                    + std::to_string(p.digits) + " digits"
                    + (type == AuthenticatorType::totp ? ", " + std::to_string(p.period) + " s)" : ")"));
        return ExitCode::ok;
    }

private:
    // Why `name` cannot be enrolled now (appended to the user name), or null.
    static const char* refused(const std::optional<UserState>& state, const std::string& name, bool force,
                               unsigned max_authenticators)
    {
        if (!state)
            return nullptr;
        if (state->find(name))
            return force ? nullptr : " already has an authenticator of that name; use --force to replace it";
        if (state->authenticators.size() >= max_authenticators)
            return " has max_authenticators authenticators already; revoke one first";
        return nullptr;
    }

    static std::string authenticator_name(const po::variables_map& options)
    {
        if (!options.count("name"))
            return kDefaultAuthenticator;
        std::string name = options["name"].as<std::string>();
        if (!valid_authenticator_name(name))
            throw UsageError("--name: 1 to 32 of a-z 0-9 . _ - expected");
        return name;
    }

    static AuthenticatorType authenticator_type(const po::variables_map& options)
    {
        if (!options.count("type"))
            return AuthenticatorType::totp;
        const std::string name = options["type"].as<std::string>();
        const std::optional<AuthenticatorType> type = parse_authenticator_type(name);
        if (!type)
            throw UsageError("--type: expected totp or hotp, got '" + cli::printable(name) + "'");
        if (*type == AuthenticatorType::hotp && options.count("period"))
            throw UsageError("--period is for TOTP; an HOTP token counts events");
        return *type;
    }

    static std::optional<cli::SecretFormat> secret_input(const po::variables_map& options)
    {
        const bool from_stdin = flag(options, "secret-stdin");
        if (!from_stdin && options.count("secret-format"))
            throw UsageError("--secret-format goes with --secret-stdin");
        if (!from_stdin)
            return std::nullopt;
        if (!options.count("secret-format"))
            throw UsageError("--secret-stdin needs --secret-format hex or base32");
        const std::string name = options["secret-format"].as<std::string>();
        const std::optional<cli::SecretFormat> format = cli::parse_secret_format(name);
        if (!format)
            throw UsageError("--secret-format: expected hex or base32, got '" + cli::printable(name) + "'");
        return format;
    }

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
                .field("uri", cli::enrolment_uri(enrolment))
                .field("secret", base32_encode(totp.secret))
                .field("algorithm", to_string(totp.params.algorithm))
                .field("digits", totp.params.digits);
            if (totp.type == AuthenticatorType::totp)
                w.field("period", totp.params.period);
            else
                w.field("counter", totp.counter);
            w.field("issuer", enrolment.issuer)
                .field("name", totp.name)
                .field("type", to_string(totp.type))
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
    static cli::Confirmation confirm(const cli::Enrolment& enrolment, const Clock& clock)
    {
        const cli::Confirmation confirmation = cli::confirm_enrolment(enrolment, clock);
        switch (confirmation.result) {
        case cli::Confirmation::Result::confirmed:
            return confirmation;
        case cli::Confirmation::Result::no_input:
            throw OperationFailed("no confirmation code on standard input; nothing stored (or use --no-confirm)");
        case cli::Confirmation::Result::no_match:
            break;
        }
        throw OperationFailed(enrolment.totp.type == AuthenticatorType::hotp
                                  ? "the code does not match the token's secret; nothing stored"
                                  : "the code does not match the new secret; nothing stored (check the phone's clock)");
    }
};

} // namespace

std::unique_ptr<Command> make_enroll_command() { return std::make_unique<EnrollCommand>(); }

} // namespace twofactor::admin
