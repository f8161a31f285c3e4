#include "authenticate.hpp"

#include "account.hpp"
#include "clock.hpp"
#include "clock_skew.hpp"
#include "config.hpp"
#include "conversation.hpp"
#include "errors.hpp"
#include "fallback_store.hpp"
#include "forward_pass.hpp"
#include "login_policy.hpp"
#include "messages.hpp"
#include "pam_logger.hpp"
#include "remembered_device.hpp"
#include "state_store.hpp"
#include "verifier.hpp"

#include <openssl/crypto.h>
#include <security/pam_ext.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace twofactor::pam {

namespace {

std::string item_string(pam_handle_t* pamh, int type)
{
    const void* item = nullptr;
    if (pam_get_item(pamh, type, &item) != PAM_SUCCESS || item == nullptr)
        return {};
    return static_cast<const char*>(item);
}

// Everything one attempt needs, gathered once.
struct Attempt {
    pam_handle_t* pamh;
    PamLogger& logger;
    const Config& config;
    LoginFields fields;
    bool is_account; // the user database knows fields.user
    Conversation conversation;
    SystemClock clock;
    LoginFacts facts;         // for the exemption rules (common/login_policy.hpp)
    bool local_store = false; // pg_unavailable = local, and no database server answered

    // Logs "OUTCOME user=... method=METHOD" and the fields `add` appends.
    template <typename Add>
    void decision(LogLevel level, std::string_view outcome, std::string_view method, Add&& add)
    {
        LogLine line = decision_line(outcome, fields, method);
        add(line);
        if (local_store)
            line.add("store", "local");
        logger.log(level, line);
    }
    void decision(LogLevel level, std::string_view outcome, std::string_view reason)
    {
        decision(level, outcome, {}, [&](LogLine& line) { line.add("reason", reason); });
    }
    // "error user=... reason=REASON detail=TEXT": TEXT, an exception's
    // message, is a value like any other (it may quote the user name).
    void error(LogLevel level, std::string_view reason, std::string_view text)
    {
        decision(level, "error", {}, [&](LogLine& line) { line.add("reason", reason).detail(text); });
    }
};

// What the user typed, reduced to the code; `status` is PAM_SUCCESS or the
// error to return without consulting the verifier.
struct TypedCode {
    int status = PAM_SUCCESS;
    SecureChars code;
    bool is_the_password = false; // the answer is PAM_AUTHTOK (see is_the_password)
};

CodeShapes shapes_for(const Config& config, const std::optional<UserState>& state)
{
    CodeShapes shapes;
    if (!state || !state->enrolled()) {
        // No state: split as for a typical enrolled user, revealing nothing.
        shapes.totp_digits = config.totp.digits;
        shapes.backup_length = config.backup_code_length;
        return shapes;
    }
    // With several authenticators, the first one's length (forward_pass
    // splits on one length; pam_twofactor(8)).
    if (!config.no_totp && !state->authenticators.empty())
        shapes.totp_digits = state->authenticators.front().params.digits;
    if (!config.no_backup_codes && state->codes && state->codes->remaining() > 0)
        shapes.backup_length = state->codes->length;
    return shapes;
}

// Hands the password part of a forward_pass answer to the next module.
int set_authtok(Attempt& a, const SecureChars& password)
{
    SecureChars terminated;
    terminated.reserve(password.size() + 1); // one buffer, so no unwiped copy is left behind
    terminated.insert(terminated.end(), password.begin(), password.end());
    terminated.push_back('\0');
    const int rc = pam_set_item(a.pamh, PAM_AUTHTOK, terminated.data());
    if (rc != PAM_SUCCESS)
        a.decision(LogLevel::error, "error", "set_authtok_failed");
    return rc;
}

// sshd's "password" method answers every prompt with the password, the code
// prompt too. That is no code typed: counting it would lock the user out
// on every correct password (pam_twofactor(8) says to turn the method off).
bool is_the_password(pam_handle_t* pamh, const SecureChars& answer)
{
    const void* item = nullptr;
    if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || item == nullptr)
        return false;
    const char* password = static_cast<const char*>(item);
    const std::size_t length = std::strlen(password);
    return length > 0 && length == answer.size() && CRYPTO_memcmp(password, answer.data(), length) == 0;
}

TypedCode ask_for_code(Attempt& a, const std::optional<UserState>& state)
{
    TypedCode typed;
    const bool forward = a.config.forward_pass;
    // An admin's own prompt= wins; the stock prompt would mislead here.
    const std::string prompt
        = forward && a.config.prompt == Config{}.prompt ? std::string(kForwardPassPrompt) : a.config.prompt;
    // The forward_pass answer holds a password: never echoed.
    Answer answer = a.conversation.ask(prompt, a.config.echo_code && !forward);

    switch (answer.status) {
    case AnswerStatus::conversation_error:
    case AnswerStatus::no_answer:
        a.decision(LogLevel::notice, "error",
                   answer.status == AnswerStatus::no_answer ? "no_answer" : "conversation_failed");
        typed.status = PAM_CONV_ERR;
        return typed;
    case AnswerStatus::too_long:
        // A failed attempt like any other wrong code: the verifier counts it
        // toward the lockout (and reports an existing lockout).
        a.logger.log(LogLevel::debug,
                     LogLine("note").add("reason", "answer_too_long").add("limit", std::to_string(kMaxAnswerBytes)));
        return typed;
    case AnswerStatus::ok:
        break;
    }
    if (!forward) {
        typed.code = std::move(answer.text);
        typed.is_the_password = is_the_password(a.pamh, typed.code);
        return typed;
    }
    SplitAnswer split = split_forward_pass(view(answer.text), shapes_for(a.config, state));
    // Set even if the code turns out wrong, so the next module checks the
    // password as usual and the outcome does not tell which factor failed.
    typed.status = set_authtok(a, split.password);
    typed.code = std::move(split.code);
    return typed;
}

std::string seconds_left(std::int64_t until, std::int64_t now) { return std::to_string(until > now ? until - now : 0); }

// "+600" / "-90": the offset of a refused code's step, never the code.
std::string signed_seconds(std::int64_t seconds) { return (seconds > 0 ? "+" : "") + std::to_string(seconds); }

// The device's clock is off (VerifyResult::skew_seconds): tell the user.
void tell_clock_skew(Attempt& a, const VerifyResult& r)
{
    if (r.skew_seconds && !a.conversation.error(clock_skew_message(*r.skew_seconds)))
        a.logger.log(LogLevel::warning, LogLine("note").add("user", a.fields.user).add("reason", "message_not_shown"));
}

int report(Attempt& a, const VerifyResult& r)
{
    const std::int64_t now = a.clock.now();
    switch (r.verdict) {
    case Verdict::accepted: {
        const Method method = r.method.value_or(Method::totp);
        if (method == Method::backup_code)
            for (const std::string& text :
                 backup_code_messages(r.codes_remaining, r.codes_total, a.config.warn_remaining))
                if (!a.conversation.info(text))
                    a.logger.log(LogLevel::warning,
                                 LogLine("note").add("user", a.fields.user).add("reason", "message_not_shown"));
        a.decision(LogLevel::info, "accepted", to_string(method), [&](LogLine& line) {
            if (method == Method::backup_code)
                line.add("codes_remaining", std::to_string(r.codes_remaining))
                    .add("codes_total", std::to_string(r.codes_total));
            else
                line.add("authenticator", r.authenticator);
            if (!r.remembered.empty())
                line.add("remembered", r.remembered);
        });
        return PAM_SUCCESS;
    }
    case Verdict::not_enrolled:
        // Either the state went away between our check and the verifier's
        // (nullok), or the attempt was counted like a wrong code of an
        // enrolled user, so the answer does not tell who is enrolled.
        if (a.config.nullok) {
            a.decision(LogLevel::info, "ignored", {},
                       [](LogLine& line) { line.add("reason", "not_enrolled").add("nullok", "yes"); });
            return PAM_IGNORE;
        }
        [[fallthrough]];
    case Verdict::wrong_code:
        tell_clock_skew(a, r);
        if (r.lockout_started) {
            // This failure was the last one allowed: tell the user now, and
            // PAM_MAXTRIES so the application stops asking.
            a.conversation.error(lockout_message(r.locked_until, now));
            a.decision(LogLevel::warning, "locked_out", {}, [&](LogLine& line) {
                line.add("reason", "too_many_failures")
                    .add("lockout", "started")
                    .add("seconds_left", seconds_left(r.locked_until, now));
                if (r.skew_seconds)
                    line.add("skew", signed_seconds(*r.skew_seconds));
            });
            return fail(a.pamh, PAM_MAXTRIES);
        }
        a.decision(LogLevel::notice, "denied", r.replayed || r.skew_seconds ? "totp" : "", [&](LogLine& line) {
            line.add("reason",
                     r.verdict == Verdict::not_enrolled ? "not_enrolled"
                         : r.replayed                   ? "replayed_code"
                         : r.skew_seconds               ? "clock_skew"
                                                        : "wrong_code");
            if (r.skew_seconds)
                line.add("skew", signed_seconds(*r.skew_seconds));
        });
        return fail(a.pamh, PAM_AUTH_ERR);
    case Verdict::locked_out:
        a.conversation.error(lockout_message(r.locked_until, now));
        a.decision(LogLevel::warning, "locked_out", {}, [&](LogLine& line) {
            line.add("reason", "locked").add("seconds_left", seconds_left(r.locked_until, now));
        });
        return fail(a.pamh, PAM_MAXTRIES);
    }
    return fail(a.pamh, PAM_SERVICE_ERR);
}

// Runs `step`, mapping the core's exceptions to PAM codes and log lines.
// Anything else propagates to pam_entry.cpp's catch-all.
template <typename Step>
int guarded(Attempt& a, Step&& step)
{
    try {
        return step();
    } catch (const InvalidUserName& e) {
        a.error(LogLevel::notice, "invalid_user_name", e.what());
        return fail(a.pamh, PAM_USER_UNKNOWN);
    } catch (const StoreError& e) {
        // Fail closed: an unsafe or unreadable state file never lets anyone in.
        a.error(LogLevel::error, "state_unavailable", e.what());
        return fail(a.pamh, PAM_AUTHINFO_UNAVAIL);
    } catch (const CryptoError& e) {
        a.error(LogLevel::error, "crypto_failure", e.what());
        return fail(a.pamh, PAM_SERVICE_ERR);
    } catch (const ConfigError& e) {
        a.error(LogLevel::error, "bad_configuration", e.what());
        return fail(a.pamh, PAM_SERVICE_ERR);
    }
}

// The database is unreachable: this login uses the local store (docs/fleet.md).
void note_local_store(Attempt& a, const std::string& database_error)
{
    a.local_store = true;
    a.logger.log(LogLevel::warning,
                 LogLine("fallback")
                     .add("user", a.fields.user)
                     .add("service", a.fields.service)
                     .add("rhost", a.fields.rhost)
                     .add("tty", a.fields.tty)
                     .add("store", "local")
                     .add("reason", "database_unavailable")
                     .detail(database_error));
}

// A configured group that exempts nobody: a typo or a directory that does
// not answer. Logged at every login, since the admin must hear of it.
void log_group_problem(Attempt& a, const GroupProblem& p)
{
    const bool failed = p.group.lookup == Group::Lookup::failed;
    LogLine line("note");
    line.add("user", a.fields.user)
        .add("reason", failed ? "group_lookup_failed" : "unknown_group")
        .add("key", p.key)
        .add("group", p.group.name);
    if (failed)
        line.detail(std::strerror(p.group.error));
    a.logger.log(LogLevel::warning, line);
}

int run(Attempt& a)
{
    std::unique_ptr<StateStore> store;
    std::optional<UserState> state;
    LoginDecision decision;
    // The exemptions first, without the store; then the state, read before
    // prompting: nullok must not prompt, forward_pass needs the code
    // shapes, and a state we cannot read is not worth a typed code.
    if (const int rc
        = guarded(a,
                  [&] {
                      decision = decide_login(a.config, a.facts, [&]() -> const std::optional<UserState>& {
                          store = open_login_store(a.config, [&](const std::string& why) { note_local_store(a, why); });
                          state = store->load(a.fields.user);
                          return state;
                      });
                      return PAM_SUCCESS;
                  });
        rc != PAM_SUCCESS)
        return rc;
    for (const GroupProblem& p : decision.problems)
        log_group_problem(a, p);
    if (is_exempt(decision.rule)) {
        a.decision(LogLevel::info, "exempt", {}, [&](LogLine& line) {
            line.add("reason", to_string(decision.rule));
            if (decision.rule == LoginRule::exempt_group)
                line.add("group", decision.matched);
            else if (decision.rule == LoginRule::exempt_network)
                line.add("network", decision.matched);
        });
        return PAM_SUCCESS;
    }
    // The remembered-device rule is decided below, under the store's lock
    // (remembered_device.hpp), not by decide_login().
    if (!store) { // every rule after the exemptions reads the state
        a.decision(LogLevel::error, "error", "state_not_read");
        return fail(a.pamh, PAM_SERVICE_ERR);
    }

    if (a.local_store && !(state && state->enrolled())) {
        // Only the accounts an admin enrolled in local_state_dir log in
        // while the database is down; nullok does not apply.
        a.decision(LogLevel::notice, "denied", "not_in_local_store");
        return fail(a.pamh, PAM_AUTHINFO_UNAVAIL);
    }
    if (decision.rule == LoginRule::not_enrolled && !decision.asks) {
        a.decision(LogLevel::info, "ignored", {},
                   [](LogLine& line) { line.add("reason", "not_enrolled").add("nullok", "yes"); });
        return PAM_IGNORE;
    }
    // A remembered device (docs/devices.md) skips the prompt; checked again,
    // and its use recorded, under the store's lock.
    const std::optional<DeviceIdentity> device = login_device(a.pamh, a.config, a.fields, a.logger);
    if (device && state && may_skip_prompt(*state, device->id, a.clock.now(), a.config.remember_days)) {
        std::optional<std::string> used;
        if (const int rc = guarded(a,
                                   [&] {
                                       used = use_remembered_device(*store, a.fields.user, *device, a.clock.now(),
                                                                    a.config.remember_days);
                                       return PAM_SUCCESS;
                                   });
            rc != PAM_SUCCESS)
            return rc;
        if (used) {
            state.reset();
            store->idle();
            a.decision(LogLevel::info, "accepted", {},
                       [&](LogLine& line) { line.add("decision", "remembered").add("device", *used); });
            return PAM_SUCCESS;
        }
    }
    // Without nullok an unenrolled user is prompted like anyone else, so the
    // prompts do not tell who is enrolled; the verifier then says not_enrolled
    // and, for an account, counts the failure as for an enrolled user.
    store->idle(); // no database connection held while the user types
    TypedCode typed = ask_for_code(a, state);
    if (typed.status != PAM_SUCCESS)
        return fail(a.pamh, typed.status);
    if (typed.is_the_password) {
        // A client answering every prompt with the password: sshd's
        // PasswordAuthentication (pam_twofactor(8), LOCKOUT).
        a.decision(LogLevel::notice, "denied", {}, [](LogLine& line) {
            line.add("reason", "password_as_code").add("counted", "no").add("hint", "PasswordAuthentication");
        });
        return fail(a.pamh, PAM_AUTH_ERR);
    }

    VerifyPolicy policy = VerifyPolicy::from(a.config);
    // Not for names that are no account: a state for each would let anyone
    // fill the state directory (pam_twofactor(8), LOCKOUT).
    policy.count_unenrolled = a.is_account && !a.config.nullok;
    Verifier verifier(*store, policy, a.clock);
    const LoginContext context{a.fields.service, a.fields.rhost, a.fields.tty, device};
    // The state read before the prompt is the verifier's snapshot: the file
    // is read once more, under the lock, and not a third time.
    return guarded(a, [&] {
        const VerifyResult result = verifier.verify(a.fields.user, view(typed.code), context, state);
        state.reset(); // holds the TOTP secret: wiped now, not at return
        // report() may wait on the client (the remaining-codes message, the
        // lockout message): a terminal that stops reading must not keep a
        // database connection open meanwhile.
        store->idle();
        return report(a, result);
    });
}

} // namespace

int fail(pam_handle_t* pamh, int status) noexcept
{
    pam_fail_delay(pamh, kFailDelayMicroseconds);
    return status;
}

int authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    PamLogger logger(pamh);
    std::vector<std::string> arguments;
    for (int i = 0; i < argc && argv != nullptr; ++i)
        if (argv[i] != nullptr)
            arguments.emplace_back(argv[i]);
    Config config;
    try {
        config = load_config_from_arguments(arguments);
    } catch (const ConfigError& e) {
        logger.log(LogLevel::error,
                   LogLine("error").add("user", {}).add("reason", "bad_configuration").detail(e.what()));
        return fail(pamh, PAM_SERVICE_ERR);
    }
    logger.set_debug(config.debug);

    const char* user = nullptr;
    const int user_rc = pam_get_user(pamh, &user, nullptr);
    if (user_rc == PAM_CONV_AGAIN)
        return PAM_INCOMPLETE; // the application will call us again
    if (user_rc != PAM_SUCCESS || user == nullptr || *user == '\0') {
        logger.log(LogLevel::notice, LogLine("error").add("user", {}).add("reason", "no_user_name"));
        return fail(pamh, user_rc == PAM_CONV_ERR ? PAM_CONV_ERR : PAM_USER_UNKNOWN);
    }
    // The state belongs to the account, by its own name (common/account.hpp):
    // "ALICE" that the user database takes for alice meets alice's second
    // factor. A name no account has keeps its spelling: nothing logs in
    // with it. A lookup that fails says nothing: deny.
    const Account account = look_up_account(user);
    if (account.lookup == Account::Lookup::failed) {
        logger.log(LogLevel::error,
                   LogLine("error")
                       .add("user", user)
                       .add("reason", "user_lookup_failed")
                       .detail(std::strerror(account.error)));
        return fail(pamh, PAM_AUTHINFO_UNAVAIL);
    }
    const std::string name = account.lookup == Account::Lookup::found ? account.name : std::string(user);
    if (name != user)
        logger.log(LogLevel::info, LogLine("account").add("user", user).add("account", name));

    Attempt attempt{
        pamh,
        logger,
        config,
        LoginFields{name, item_string(pamh, PAM_SERVICE), item_string(pamh, PAM_RHOST), item_string(pamh, PAM_TTY)},
        account.lookup == Account::Lookup::found,
        Conversation(pamh, (flags & PAM_SILENT) != 0),
        SystemClock{},
        gather_login_facts(config, account, item_string(pamh, PAM_SERVICE), item_string(pamh, PAM_RHOST))};
    logger.log(LogLevel::debug,
               LogLine("settings")
                   .add("state_dir", config.state_dir)
                   .add("window", std::to_string(config.window))
                   .add("nullok", config.nullok ? "yes" : "no")
                   .add("forward_pass", config.forward_pass ? "yes" : "no"));
    return run(attempt);
}

} // namespace twofactor::pam
