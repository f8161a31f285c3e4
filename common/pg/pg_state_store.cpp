#include "pg_state_store.hpp"

#include "codec.hpp"
#include "errors.hpp"
#include "pg_connection.hpp"
#include "pg_state_rows.hpp"
#include "sealed_secret.hpp"
#include "state_compare.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <iterator>

namespace twofactor {

namespace {

constexpr const char* kInsertUser = "INSERT INTO twofactor.users (name) VALUES ($1) "
                                    "ON CONFLICT (name) DO NOTHING RETURNING user_id";
constexpr const char* kLockUser = "SELECT user_id FROM twofactor.users WHERE name = $1 FOR UPDATE";
constexpr const char* kDeleteUser = "DELETE FROM twofactor.users WHERE user_id = $1";
constexpr const char* kUpdateCounters
    = "UPDATE twofactor.users SET failures = $2, locked_until = $3, updated_at = now() WHERE user_id = $1";
constexpr const char* kUpdateSkew
    = "UPDATE twofactor.users SET skew_at = $2, skew_seconds = $3, updated_at = now() WHERE user_id = $1";

constexpr const char* kDeleteAuthenticator = "DELETE FROM twofactor.authenticators WHERE user_id = $1 AND name = $2";
constexpr const char* kUpsertAuthenticator
    = "INSERT INTO twofactor.authenticators (user_id, name, type, algorithm, digits, period, counter, secret_base32,"
      " enrolled_at, last_step, last_used, secret_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
      " ON CONFLICT (user_id, name) DO UPDATE SET type = EXCLUDED.type, algorithm = EXCLUDED.algorithm,"
      " digits = EXCLUDED.digits, period = EXCLUDED.period, counter = EXCLUDED.counter,"
      " secret_base32 = EXCLUDED.secret_base32, enrolled_at = EXCLUDED.enrolled_at, last_step = EXCLUDED.last_step,"
      " last_used = EXCLUDED.last_used, secret_sealed = EXCLUDED.secret_sealed";
// Replay refusal in the database too: the TOTP step and the HOTP counter
// only ever move forward, each authenticator on its own.
constexpr const char* kAdvanceStep
    = "UPDATE twofactor.authenticators SET last_step = $3, last_used = $4"
      " WHERE user_id = $1 AND name = $2 AND type = 'totp' AND (last_step IS NULL OR last_step < $3)";
constexpr const char* kAdvanceCounter = "UPDATE twofactor.authenticators SET counter = $3, last_used = $4"
                                        " WHERE user_id = $1 AND name = $2 AND type = 'hotp' AND counter < $3";

constexpr const char* kDeleteLastLogin = "DELETE FROM twofactor.last_logins WHERE user_id = $1";
constexpr const char* kUpsertLastLogin
    = "INSERT INTO twofactor.last_logins (user_id, at, method, service, rhost, tty, authenticator)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO UPDATE SET at = EXCLUDED.at,"
      " method = EXCLUDED.method, service = EXCLUDED.service, rhost = EXCLUDED.rhost, tty = EXCLUDED.tty,"
      " authenticator = EXCLUDED.authenticator";

constexpr const char* kDeleteSet = "DELETE FROM twofactor.code_sets WHERE set_id = $1";
constexpr const char* kInsertSet
    = "INSERT INTO twofactor.code_sets (user_id, issued_at, code_length, scrypt_log2_n, scrypt_r, scrypt_p, salt,"
      " code_count) VALUES ($1, $2, $3, $4, $5, $6, decode($7, 'hex'), $8) RETURNING set_id";
// Exactly once, whatever else went wrong: a code already marked used is
// never marked again, so this transaction then affects no row and aborts.
constexpr const char* kUseCode = "UPDATE twofactor.codes SET used_at = $3, service = $4, rhost = $5, tty = $6"
                                 " WHERE set_id = $1 AND slot = $2 AND used_at IS NULL";

constexpr const char* kDeleteDevices = "DELETE FROM twofactor.devices WHERE user_id = $1";
constexpr const char* kInsertDevice
    = "INSERT INTO twofactor.devices (user_id, device_id, fingerprint, address, first_used, last_used, expires_at)"
      " VALUES ($1, decode($2, 'hex'), $3, $4, $5, $6, $7)";

constexpr const char* kAudit
    = "INSERT INTO twofactor.audit_log (user_name, at, method, set_id, slot, totp_step, service, rhost, tty,"
      " client_host, authenticator) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

std::string host_name()
{
    char buffer[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0')
        return "unknown";
    return encode_pg_text(buffer);
}

PgSettings settings_from(const Config& config)
{
    if (config.pg_conninfo.empty())
        throw ConfigError("pg_conninfo is not set (needed for the PostgreSQL store)");
    PgSettings s;
    s.conninfo = config.pg_conninfo;
    s.origin = config.pg_conninfo_origin;
    s.password_file = config.pg_password_file;
    s.timeout_seconds = config.pg_timeout_seconds;
    s.detect_unreachable = config.pg_unavailable == Config::PgUnavailable::local;
    return s;
}

std::int64_t step_value(std::uint64_t step)
{
    if (step > static_cast<std::uint64_t>(INT64_MAX))
        throw StoreError(StoreErrc::corrupt, "PostgreSQL: TOTP step or HOTP counter out of range");
    return static_cast<std::int64_t>(step);
}

bool same_login(const LastLogin& a, const LastLogin& b)
{
    return a.at == b.at && a.method == b.method && a.service == b.service && a.rhost == b.rhost && a.tty == b.tty
        && a.authenticator == b.authenticator;
}

// Writes what differs between `before` (nullopt: the row was just created)
// and `after`, inside the caller's transaction, holding the user's row lock.
class ChangeWriter {
public:
    ChangeWriter(PgConnection& connection, Deadline deadline, const std::string& client_host,
                 const std::string& key_file)
        : c_(connection),
          deadline_(deadline),
          client_host_(client_host),
          key_file_(key_file)
    {
    }

    void write(std::int64_t user_id, const std::optional<StoredState>& before, const UserState& after)
    {
        user_id_ = user_id;
        user_ = after.user;
        const UserState* old = before ? &before->state : nullptr;
        counters(old, after);
        skew(old, after);
        static const UserState none;
        authenticators(old ? *old : none, after);
        last_login(old ? old->last_login : std::nullopt, after.last_login);
        codes(old ? old->codes : std::nullopt, before ? before->set_id : std::nullopt, after);
        devices(old, after);
        flush();
    }

private:
    void counters(const UserState* old, const UserState& after)
    {
        const unsigned failures = old ? old->failures : 0;
        const std::int64_t locked_until = old ? old->locked_until : 0;
        if (failures == after.failures && locked_until == after.locked_until)
            return;
        send(kUpdateCounters).add(user_id_).add(std::int64_t{after.failures}).add(after.locked_until);
    }

    void skew(const UserState* old, const UserState& after)
    {
        const SkewSeen* before = old && old->last_skew ? &*old->last_skew : nullptr;
        const SkewSeen* now = after.last_skew ? &*after.last_skew : nullptr;
        if (before == nullptr && now == nullptr)
            return;
        if (before != nullptr && now != nullptr && before->at == now->at && before->seconds == now->seconds)
            return;
        PgParams params;
        params.add(user_id_);
        if (after.last_skew)
            params.add(after.last_skew->at).add(after.last_skew->seconds);
        else
            params.add_null().add_null();
        send(kUpdateSkew, std::move(params));
    }

    void authenticators(const UserState& old, const UserState& after)
    {
        for (const Authenticator& gone : old.authenticators)
            if (!after.find(gone.name))
                send(kDeleteAuthenticator).add(user_id_).add(gone.name);
        for (const Authenticator& now : after.authenticators) {
            const Authenticator* before = old.find(now.name);
            if (!before || !same_totp_key(*before, now) || before->sealed != now.sealed)
                upsert(now); // enrolment, re-enrolment, or (re-)sealed under another key
            else if (now.type == AuthenticatorType::totp)
                advance_step(*before, now, after);
            else
                advance_counter(*before, now, after);
        }
    }

    void upsert(const Authenticator& a)
    {
        const bool totp = a.type == AuthenticatorType::totp;
        PgParams p;
        p.add(user_id_).add(a.name).add(to_string(a.type)).add(to_string(a.params.algorithm));
        p.add(std::int64_t{a.params.digits});
        totp ? p.add(std::int64_t{a.params.period}) : p.add_null();
        totp ? p.add_null() : p.add(step_value(a.counter));
        // Never a secret in clear: a dump or a read-only role would show it.
        if (a.sealed.empty())
            throw StoreError(StoreErrc::io,
                             "no secret key: run 'twofactor-admin key init' and copy " + key_file_ + " to every host");
        p.add_null().add(a.enrolled_at);
        totp&& a.last_step ? p.add(step_value(*a.last_step)) : p.add_null();
        a.last_used > 0 ? p.add(a.last_used) : p.add_null();
        p.add(a.sealed);
        send(kUpsertAuthenticator, std::move(p));
    }

    // The login that spent a code of `a`, for the audit log (or none).
    static LastLogin login_of(const Authenticator& a, const UserState& after)
    {
        const bool with_login = after.last_login && after.last_login->method != Method::backup_code
            && after.last_login->authenticator == a.name;
        return with_login ? *after.last_login : LastLogin{};
    }

    void advance_step(const Authenticator& old, const Authenticator& now, const UserState& after)
    {
        if (old.last_step == now.last_step)
            return;
        if (!now.last_step || (old.last_step && *now.last_step < *old.last_step))
            throw StoreError(StoreErrc::io,
                             "PostgreSQL: refusing to move the TOTP replay step of " + user_ + " backwards");
        const std::int64_t step = step_value(*now.last_step);
        PgParams p;
        p.add(user_id_).add(now.name).add(step);
        now.last_used > 0 ? p.add(now.last_used) : p.add_null();
        send(kAdvanceStep, std::move(p),
             "PostgreSQL: TOTP step of " + user_ + " already recorded (changed outside the row lock?); refused");
        const LastLogin context = login_of(now, after);
        audit(context.at != 0 ? context.at : step * now.params.period, "totp", std::nullopt, std::nullopt, step,
              context.service, context.rhost, context.tty, now.name);
    }

    void advance_counter(const Authenticator& old, const Authenticator& now, const UserState& after)
    {
        if (old.counter == now.counter)
            return;
        if (now.counter < old.counter)
            throw StoreError(StoreErrc::io, "PostgreSQL: refusing to move the HOTP counter of " + user_ + " backwards");
        const std::int64_t counter = step_value(now.counter);
        PgParams p;
        p.add(user_id_).add(now.name).add(counter);
        now.last_used > 0 ? p.add(now.last_used) : p.add_null();
        send(kAdvanceCounter, std::move(p),
             "PostgreSQL: HOTP counter of " + user_ + " already moved (changed outside the row lock?); refused");
        // The counter of the code accepted (a resync moves it without a login).
        const LastLogin context = login_of(now, after);
        if (context.at != 0)
            audit(context.at, "hotp", std::nullopt, std::nullopt, counter - 1, context.service, context.rhost,
                  context.tty, now.name);
    }

    void last_login(const std::optional<LastLogin>& old, const std::optional<LastLogin>& now)
    {
        if (!now) {
            if (old)
                send(kDeleteLastLogin).add(user_id_);
            return;
        }
        if (old && same_login(*old, *now))
            return;
        PgParams p;
        p.add(user_id_).add(now->at).add(to_string(now->method)).add(encode_pg_text(now->service));
        p.add(encode_pg_text(now->rhost)).add(encode_pg_text(now->tty));
        now->authenticator.empty() ? p.add_null() : p.add(now->authenticator);
        send(kUpsertLastLogin, std::move(p));
    }

    void codes(const std::optional<BackupCodeSet>& old, std::optional<std::int64_t> old_set_id, const UserState& after)
    {
        const std::optional<BackupCodeSet>& now = after.codes;
        if (old && now && old_set_id && same_code_set(*old, *now)) {
            for (std::size_t i = 0; i < now->slots.size(); ++i)
                slot(*old_set_id, i, old->slots[i], now->slots[i]);
            return;
        }
        if (old && old_set_id)
            send(kDeleteSet).add(*old_set_id); // its codes go with it
        if (now)
            insert_set(*now);
    }

    void slot(std::int64_t set_id, std::size_t index, const CodeSlot& old, const CodeSlot& now)
    {
        if (old.used == now.used)
            return;
        if (old.used || !now.used)
            throw StoreError(StoreErrc::io,
                             "PostgreSQL: refusing to mark a used backup code of " + user_
                                 + " unused or to rewrite its use");
        const CodeUse& use = *now.used;
        const auto slot_number = static_cast<std::int64_t>(index);
        PgParams p;
        p.add(set_id).add(slot_number).add(use.at).add(encode_pg_text(use.service));
        p.add(encode_pg_text(use.rhost)).add(encode_pg_text(use.tty));
        send(kUseCode, std::move(p),
             "PostgreSQL: backup code of " + user_ + " already used (changed outside the row lock?); refused");
        audit(use.at, "backup_code", set_id, slot_number, std::nullopt, use.service, use.rhost, use.tty, {});
    }

    void insert_set(const BackupCodeSet& set)
    {
        PgParams p;
        p.add(user_id_).add(set.issued_at).add(std::int64_t{set.length}).add(std::int64_t{set.params.log2_n});
        p.add(std::int64_t{set.params.r}).add(std::int64_t{set.params.p}).add(to_hex(set.salt.data(), set.salt.size()));
        p.add(static_cast<std::int64_t>(set.slots.size()));
        flush(); // the set's id is needed now
        const PgResult inserted = c_.exec(kInsertSet, p, deadline_);
        const std::int64_t set_id = inserted.integer(0, 0, 1, INT64_MAX);

        // One statement for every code: $1 is the set, then six per slot.
        std::string sql = "INSERT INTO twofactor.codes (set_id, slot, hash, used_at, service, rhost, tty) VALUES ";
        PgParams codes;
        codes.add(set_id);
        for (std::size_t i = 0; i < set.slots.size(); ++i) {
            const CodeSlot& s = set.slots[i];
            const std::size_t first = 2 + 6 * i; // $2.. for slot 0, $8.. for slot 1, ...
            const auto param = [&](std::size_t k) { return "$" + std::to_string(first + k); };
            sql += i == 0 ? "(" : ", (";
            sql += "$1, " + param(0) + ", decode(" + param(1) + ", 'hex'), " + param(2) + ", " + param(3) + ", ";
            sql += param(4) + ", " + param(5) + ")";
            codes.add(static_cast<std::int64_t>(i)).add(to_hex(s.hash.data(), s.hash.size()));
            if (s.used)
                codes.add(s.used->at)
                    .add(encode_pg_text(s.used->service))
                    .add(encode_pg_text(s.used->rhost))
                    .add(encode_pg_text(s.used->tty));
            else
                codes.add_null().add_null().add_null().add_null();
        }
        c_.exec(sql.c_str(), codes, deadline_);
    }

    // A handful of rows at most: any difference rewrites them all.
    void devices(const UserState* old, const UserState& after)
    {
        const auto same = [](const Device& a, const Device& b) {
            return a.id == b.id && a.fingerprint == b.fingerprint && a.address == b.address
                && a.first_used == b.first_used && a.last_used == b.last_used && a.expires_at == b.expires_at;
        };
        if (old
            && std::equal(old->devices.begin(), old->devices.end(), after.devices.begin(), after.devices.end(), same))
            return;
        if (old && !old->devices.empty())
            send(kDeleteDevices).add(user_id_);
        for (const Device& d : after.devices)
            send(kInsertDevice)
                .add(user_id_)
                .add(to_hex(d.id.data(), d.id.size()))
                .add(encode_pg_text(d.fingerprint))
                .add(encode_pg_text(d.address))
                .add(d.first_used)
                .add(d.last_used)
                .add(d.expires_at);
    }

    void audit(std::int64_t at, const char* method, std::optional<std::int64_t> set_id,
               std::optional<std::int64_t> slot, std::optional<std::int64_t> step, const std::string& service,
               const std::string& rhost, const std::string& tty, const std::string& authenticator)
    {
        PgParams p;
        p.add(user_).add(at).add(method);
        set_id ? p.add(*set_id) : p.add_null();
        slot ? p.add(*slot) : p.add_null();
        step ? p.add(*step) : p.add_null();
        p.add(encode_pg_text(service)).add(encode_pg_text(rhost)).add(encode_pg_text(tty)).add(client_host_);
        authenticator.empty() ? p.add_null() : p.add(authenticator);
        send(kAudit, std::move(p));
    }

    // Queued, and sent together by flush(). With `refused`, the statement
    // must change exactly one row, or the transaction is refused with that.
    void send(const char* sql, PgParams params, std::string refused = {})
    {
        send(sql, std::move(refused)) = std::move(params);
    }
    PgParams& send(const char* sql, std::string refused = {}) // its parameters to add
    {
        refusals_.push_back(std::move(refused));
        return batch_.add(sql);
    }

    void flush()
    {
        if (batch_.empty())
            return;
        const std::vector<PgResult> results = c_.exec(batch_, deadline_);
        for (std::size_t i = 0; i < results.size(); ++i)
            if (!refusals_[i].empty() && results[i].affected() != 1)
                throw StoreError(StoreErrc::io, refusals_[i]);
        batch_ = PgBatch();
        refusals_.clear();
    }

    PgConnection& c_;
    Deadline deadline_;
    const std::string& client_host_;
    const std::string& key_file_;
    std::int64_t user_id_ = 0;
    std::string user_;
    PgBatch batch_;
    std::vector<std::string> refusals_; // per statement of batch_
};

} // namespace

PgStateStore::PgStateStore(const Config& config, std::shared_ptr<const SecretKeys> keys)
    : connection_(std::make_unique<PgConnection>(settings_from(config))),
      client_host_(host_name()),
      keys_(std::move(keys)),
      key_file_(config.secret_key_file)
{
}

PgStateStore::~PgStateStore() = default;

void PgStateStore::ready(Deadline deadline)
{
    // The schema once per store (a login: its read before the prompt), not
    // once per connection: a schema changed since fails the statements.
    if (connection_->open() && !schema_checked_) {
        require_pg_schema_current(*connection_, deadline);
        schema_checked_ = true;
    }
}

std::optional<UserState> PgStateStore::load(const std::string& user)
{
    require_valid_user_name(user);
    // One budget for the whole call (connecting has libpq's connect_timeout).
    const Deadline deadline = connection_->deadline();
    ready(deadline);
    // One statement: one snapshot, so a concurrent change is seen whole or not at all.
    std::optional<StoredState> stored = read_pg_state(*connection_, user, deadline);
    if (!stored)
        return std::nullopt;
    open_secrets(stored->state, keys_.get());
    return std::move(stored->state);
}

std::vector<LoadedState> PgStateStore::load_many(const std::vector<std::string>& users)
{
    for (const std::string& user : users)
        require_valid_user_name(user);
    // A statement per batch, not per user: `list` over a fleet is one round
    // trip per 500 users. Each batch has the timeout a login has.
    constexpr std::size_t kBatch = 500;
    std::vector<LoadedState> out;
    out.reserve(users.size());
    for (std::size_t start = 0; start < users.size(); start += kBatch) {
        const std::vector<std::string> batch(users.begin() + static_cast<std::ptrdiff_t>(start),
                                             users.begin()
                                                 + static_cast<std::ptrdiff_t>(std::min(users.size(), start + kBatch)));
        std::vector<LoadedState> read;
        try {
            const Deadline deadline = connection_->deadline();
            ready(deadline);
            read = read_pg_states(*connection_, batch, deadline);
        } catch (const StoreError& e) {
            read.assign(batch.size(), LoadedState{std::nullopt, e.what()});
        }
        for (LoadedState& loaded : read) {
            try {
                if (loaded.state)
                    open_secrets(*loaded.state, keys_.get());
            } catch (const SecretError& e) {
                loaded = LoadedState{std::nullopt, e.what()};
            }
        }
        std::move(read.begin(), read.end(), std::back_inserter(out));
    }
    return out;
}

bool PgStateStore::update(const std::string& user, const Change& change)
{
    require_valid_user_name(user);
    const Deadline deadline = connection_->deadline();
    ready(deadline);
    // A user deleted between our INSERT and our lock (revoke --all elsewhere)
    // is simply tried again; twice in a row would be odd enough to stop.
    for (int attempt = 0;; ++attempt) {
        // The row must exist to be locked. A row we create here is a
        // placeholder: it is committed only if the change leaves a state.
        // Read after the lock, in a new statement: READ COMMITTED gives it a
        // snapshot that includes every change of the previous lock holder.
        // The three go in one round trip with BEGIN; the server still runs
        // them one after the other, the read once the lock is held.
        PgBatch first;
        first.add(kInsertUser).add(user);
        first.add(kLockUser).add(user);
        add_pg_state_query(first, user);
        std::vector<PgResult> results;
        PgTransaction tx(*connection_, deadline, first, results);
        const bool created = results.at(0).rows() == 1;
        const PgResult& locked = results.at(1);
        std::optional<StoredState> before;
        if (locked.rows() == 1 && !created)
            before = pg_state_of(results.at(2), user);
        if (before)
            open_secrets(before->state, keys_.get());
        if (locked.rows() != 1 || (!created && !before)) {
            if (attempt < 2)
                continue;
            throw StoreError(StoreErrc::io, "PostgreSQL: the row of " + user + " keeps disappearing");
        }
        const std::int64_t user_id = locked.integer(0, 0, 1, INT64_MAX);

        std::optional<UserState> state;
        if (before)
            state = before->state;
        if (!change(state))
            return false; // rolled back, placeholder included
        if (!state) {
            if (!before)
                return true; // nothing was there, nothing is: roll the placeholder back
            connection_->exec(kDeleteUser, PgParams{}.add(user_id), deadline); // cascades
        } else {
            state->user = user;
            seal_secrets(*state, keys_.get());
            ChangeWriter(*connection_, deadline, client_host_, key_file_).write(user_id, before, *state);
        }
        tx.commit();
        return true;
    }
}

std::vector<std::string> PgStateStore::users()
{
    const Deadline deadline = connection_->deadline();
    ready(deadline);
    const PgResult r = connection_->exec("SELECT name FROM twofactor.users", deadline);
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        std::string name(r.text(i, 0));
        if (valid_user_name(name))
            out.push_back(std::move(name));
    }
    std::sort(out.begin(), out.end()); // bytewise, as the file store sorts
    return out;
}

void PgStateStore::idle() noexcept { connection_->close(); }

PgSchemaChange PgStateStore::create_schema() { return apply_pg_migrations(*connection_, true); }

PgSchemaChange PgStateStore::migrate_schema() { return apply_pg_migrations(*connection_, false); }

} // namespace twofactor
