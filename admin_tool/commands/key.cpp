// key init | rotate [--prepare] | reseal | retire | status [--json]: the key file
// that seals TOTP/HOTP secrets at rest (docs/secrets.md). Rotation re-seals
// every user's secrets through StateStore::update, one user at a time under
// its lock, so logins go on meanwhile; run again after an interruption, it
// finishes. The command reads the configuration itself: `key init` must
// work while the configured key file does not exist yet.
#include "commands.hpp"

#include "../json.hpp"

#include "output.hpp"

#include "file_state_store.hpp"
#include "sealed_secret.hpp"
#include "secret_keys.hpp"
#include "store_factory.hpp"

#include <sys/stat.h>

#include <map>

namespace twofactor::admin {
namespace {

// How the stored secrets are sealed: per key id, in clear, unreadable users.
struct Census {
    std::map<std::string, std::size_t> sealed;
    std::size_t clear = 0;
    std::vector<std::string> errors;
};

// Every store whose secrets the key seals: the configured one and, with
// store = postgresql and pg_unavailable = local, the break-glass file store
// in local_state_dir once it exists. A key retired while the local store
// still used it would deny the very logins that store is for.
std::vector<std::unique_ptr<StateStore>> stores_of(const Config& config, const std::shared_ptr<const SecretKeys>& keys)
{
    std::vector<std::unique_ptr<StateStore>> stores;
    stores.push_back(open_state_store(config, keys));
    struct stat st {};
    if (config.store == Config::Store::postgresql && config.pg_unavailable == Config::PgUnavailable::local
        && ::lstat(config.local_state_dir.c_str(), &st) == 0)
        stores.push_back(std::make_unique<FileStateStore>(config.local_state_dir, keys));
    return stores;
}

Census census(const std::vector<std::unique_ptr<StateStore>>& stores)
{
    Census c;
    for (const std::unique_ptr<StateStore>& store : stores) {
        const std::vector<std::string> users = store->users();
        for (const LoadedState& loaded : store->load_many(users)) {
            if (!loaded.error.empty())
                c.errors.push_back(loaded.error);
            if (!loaded.state)
                continue;
            for (const Authenticator& a : loaded.state->authenticators) {
                if (a.sealed.empty())
                    ++c.clear;
                else
                    ++c.sealed[std::string(sealed_key_id(a.sealed))];
            }
        }
    }
    return c;
}

std::shared_ptr<const SecretKeys> required_keys(const Config& config)
{
    std::shared_ptr<const SecretKeys> keys = load_secret_keys(config);
    if (!keys)
        throw OperationFailed("no secret key file " + config.secret_key_file + ": run 'twofactor-admin key init'");
    return keys;
}

SecretKey* with_role(SecretKeys& keys, KeyRole role)
{
    for (SecretKey& k : keys.keys())
        if (k.role == role)
            return &k;
    return nullptr;
}

ExitCode init(const Config& config)
{
    if (read_secret_key_file(config.secret_key_file, true))
        throw OperationFailed(config.secret_key_file + ": already exists; not overwritten");
    SecretKeys keys(config.secret_key_file, {});
    keys.keys().push_back(generate_secret_key(KeyRole::current, keys));
    write_secret_key_file(keys, true);
    cli::notice("created " + config.secret_key_file + " with key " + keys.current().id
                + "; secrets are sealed when next written ('twofactor-admin key rotate' seals them all now); "
                  "copy the file to every host that shares this store, and keep it out of the state's backups");
    return ExitCode::ok;
}

ExitCode prepare(const Config& config)
{
    SecretKeys keys = *required_keys(config);
    if (const SecretKey* next = with_role(keys, KeyRole::next)) {
        cli::notice("key " + next->id + " is already the next key in " + config.secret_key_file
                    + "; copy the file to every host, then run 'twofactor-admin key rotate'");
        return ExitCode::ok;
    }
    keys.keys().push_back(generate_secret_key(KeyRole::next, keys));
    write_secret_key_file(keys, false);
    cli::notice("added key " + keys.keys().back().id + " as next to " + config.secret_key_file
                + "; copy the file to every host, then run 'twofactor-admin key rotate'");
    return ExitCode::ok;
}

// What reseal() did: secrets re-sealed, users they belong to, secrets
// already sealed with the target key, and the users it could not change.
struct Resealed {
    std::size_t secrets = 0;
    std::size_t users = 0;
    std::size_t kept = 0;
    std::vector<std::string> failed;
};

// Seals every secret of every store (stores_of) with `target`'s current
// key, one user at a time under its lock; a secret already sealed with it
// is left as it is.
Resealed reseal(const Config& config, const std::shared_ptr<const SecretKeys>& target)
{
    const std::string id = target->current().id;
    Resealed r;
    for (const std::unique_ptr<StateStore>& store : stores_of(config, target))
        for (const std::string& user : store->users()) {
            try {
                std::size_t here = 0;
                std::size_t kept = 0;
                store->update(user, [&](std::optional<UserState>& state) {
                    here = 0;
                    kept = 0;
                    if (!state)
                        return false;
                    for (const Authenticator& a : state->authenticators)
                        if (a.sealed.empty() || sealed_key_id(a.sealed) != id)
                            ++here;
                    kept = state->authenticators.size() - here;
                    return here > 0;
                });
                r.secrets += here;
                r.users += here > 0 ? 1 : 0;
                r.kept += kept;
            } catch (const StoreError& e) {
                r.failed.push_back(user + ": " + e.what());
            }
        }
    for (const std::string& f : r.failed)
        cli::notice("cannot re-seal the secrets of " + f);
    return r;
}

std::string counts(const Resealed& r)
{
    return "re-sealed " + std::to_string(r.secrets) + " secret(s) of " + std::to_string(r.users) + " user(s), "
        + std::to_string(r.kept) + " already sealed with it";
}

ExitCode rotate(const Config& config)
{
    SecretKeys keys = *required_keys(config);
    // The next key first, in the file: every reader here can open what is
    // sealed with it before anything is.
    if (!with_role(keys, KeyRole::next)) {
        keys.keys().push_back(generate_secret_key(KeyRole::next, keys));
        write_secret_key_file(keys, false);
    }
    // Re-seal under the next key as current, the current as old.
    SecretKeys done = keys;
    for (SecretKey& k : done.keys())
        k.role = k.role == KeyRole::current ? KeyRole::old : k.role == KeyRole::next ? KeyRole::current : k.role;
    const std::string new_id = done.current().id;
    const Resealed r = reseal(config, std::make_shared<SecretKeys>(done));
    if (!r.failed.empty())
        throw OperationFailed(std::to_string(r.failed.size()) + " user(s) not re-sealed; key " + new_id
                              + " stays next; fix them and run 'twofactor-admin key rotate' again");
    // Everything is sealed with the new key: make it current.
    write_secret_key_file(done, false);
    cli::notice("key " + new_id + " is now current in " + config.secret_key_file + ": " + counts(r)
                + "; copy the file to every host, then run 'twofactor-admin key retire'");
    return ExitCode::ok;
}

// After a fleet rotation, on each other host: its break-glass store's
// secrets (and any the database still has under an older key) sealed with
// the current key, so that `key retire` can drop the old one.
ExitCode reseal_current(const Config& config)
{
    const std::shared_ptr<const SecretKeys> keys = required_keys(config);
    const Resealed r = reseal(config, keys);
    cli::notice("key " + keys->current().id + ": " + counts(r));
    return r.failed.empty() ? ExitCode::ok : ExitCode::failed;
}

ExitCode retire(const Config& config)
{
    SecretKeys keys = *required_keys(config);
    const Census c = census(stores_of(config, std::make_shared<SecretKeys>(keys)));
    if (!c.errors.empty()) {
        for (const std::string& e : c.errors)
            cli::notice(e);
        throw OperationFailed(std::to_string(c.errors.size())
                              + " user(s) could not be read: no key retired (a key still in use there would be lost)");
    }
    std::vector<SecretKey> kept;
    std::vector<std::string> removed;
    std::vector<std::string> refused;
    for (SecretKey& k : keys.keys()) {
        const auto used = c.sealed.find(k.id);
        const std::size_t n = used == c.sealed.end() ? 0 : used->second;
        if (k.role == KeyRole::old && n == 0) {
            removed.push_back(k.id);
            continue;
        }
        if (k.role == KeyRole::old)
            refused.push_back("key " + k.id + " still seals " + std::to_string(n)
                              + " secret(s): run 'twofactor-admin key rotate' to re-seal them");
        kept.push_back(std::move(k));
    }
    if (!removed.empty()) {
        const SecretKeys out(keys.path(), std::move(kept));
        write_secret_key_file(out, false);
        std::string ids;
        for (const std::string& id : removed)
            ids += (ids.empty() ? "" : ", ") + id;
        cli::notice("removed key(s) " + ids + " from " + config.secret_key_file + "; copy the file to every host");
    }
    for (const std::string& r : refused)
        cli::notice(r);
    if (removed.empty() && refused.empty())
        cli::notice("no old key in " + config.secret_key_file + "; nothing to retire");
    return refused.empty() ? ExitCode::ok : ExitCode::failed;
}

ExitCode status(const Config& config, bool json)
{
    const std::shared_ptr<const SecretKeys> keys = load_secret_keys(config);
    const Census c = census(stores_of(config, keys));
    cli::OutputBuffer out;
    const auto count = [&](const std::string& id) {
        const auto it = c.sealed.find(id);
        return it == c.sealed.end() ? std::size_t{0} : it->second;
    };
    if (json) {
        JsonWriter w(out);
        w.begin_object().field("version", 1u).field("key_file", config.secret_key_file).key("keys").begin_array();
        if (keys)
            for (const SecretKey& k : keys->keys())
                w.begin_object()
                    .field("id", k.id)
                    .field("role", to_string(k.role))
                    .field("secrets", std::uint64_t{count(k.id)})
                    .end_object();
        w.end_array().key("unknown_keys").begin_object();
        for (const auto& [id, n] : c.sealed)
            if (!keys || !keys->find(id))
                w.field(id, std::uint64_t{n});
        w.end_object().field("clear", std::uint64_t{c.clear}).field("unreadable_users", std::uint64_t{c.errors.size()});
        w.end_object();
        out << "\n";
    } else {
        if (!keys)
            out << "no key file " << config.secret_key_file << ": secrets are stored in clear\n";
        else
            for (const SecretKey& k : keys->keys())
                out << "key " << k.id << " " << to_string(k.role) << ": " << std::uint64_t{count(k.id)}
                    << " secret(s)\n";
        for (const auto& [id, n] : c.sealed)
            if (!keys || !keys->find(id))
                out << "key " << id << " (not in " << config.secret_key_file << "): " << std::uint64_t{n}
                    << " secret(s)\n";
        out << "in clear: " << std::uint64_t{c.clear} << " secret(s)\n";
    }
    out.flush();
    for (const std::string& e : c.errors)
        cli::notice(e);
    return c.errors.empty() ? ExitCode::ok : ExitCode::failed;
}

class KeyCommand final : public Command {
public:
    const char* name() const override { return "key"; }
    const char* synopsis() const override { return "init | rotate [--prepare] | reseal | retire | status [--json]"; }
    const char* summary() const override { return "create, rotate and retire the key that seals secrets"; }
    const char* details() const override
    {
        return "init: create secret_key_file with one current key (refused if it exists).\n"
               "rotate --prepare: add a next key (copy the file to every host before rotating).\n"
               "rotate: make the next key (or a new one) current, the current one old, and\n"
               "  re-seal every secret with it, one user at a time; run it again to finish\n"
               "  an interrupted rotation.\n"
               "reseal: seal every secret with the current key (another host's break-glass\n"
               "  store after a fleet rotation).\n"
               "retire: remove old keys no stored secret uses; refused for one still used.\n"
               "status: the keys and how many secrets each seals, and how many are in clear.\n"
               "See docs/secrets.md.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        shown.add_options()("prepare", po::bool_switch(), "rotate: only add the next key")(
            "json", po::bool_switch(), "status: print as JSON (docs/json.md)");
        hidden.add_options()("action", po::value<std::string>());
        positional.add("action", 1);
    }

    ExitCode run(const Context& /*ctx*/) const override { return ExitCode::usage; }

    bool loads_config_itself() const override { return true; }
    ExitCode diagnose(const po::variables_map& options, const std::string& config_path,
                      const std::vector<Setting>& overrides) const override
    {
        if (!options.count("action"))
            throw UsageError("key: missing init, rotate, reseal, retire or status");
        const std::string action = options["action"].as<std::string>();
        if (flag(options, "prepare") && action != "rotate")
            throw UsageError("--prepare: only with 'key rotate'");
        if (flag(options, "json") && action != "status")
            throw UsageError("--json: only with 'key status'");
        const Config config = load_config(config_path, overrides);
        if (action == "init")
            return init(config);
        if (action == "rotate")
            return flag(options, "prepare") ? prepare(config) : rotate(config);
        if (action == "retire")
            return retire(config);
        if (action == "reseal")
            return reseal_current(config);
        if (action == "status")
            return status(config, flag(options, "json"));
        throw UsageError("key: unknown action '" + cli::printable(action)
                         + "' (init, rotate, reseal, retire or status)");
    }
};

} // namespace

std::unique_ptr<Command> make_key_command() { return std::make_unique<KeyCommand>(); }

} // namespace twofactor::admin
