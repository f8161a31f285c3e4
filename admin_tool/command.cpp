#include "command.hpp"

#include "commands/commands.hpp"

#include "account.hpp"

#include <cstring>

namespace twofactor::admin {

std::vector<std::unique_ptr<Command>> all_commands()
{
    std::vector<std::unique_ptr<Command>> list;
    list.push_back(make_enroll_command());
    list.push_back(make_issue_command());
    list.push_back(make_list_command());
    list.push_back(make_revoke_command());
    list.push_back(make_resync_command());
    list.push_back(make_unlock_command());
    list.push_back(make_forget_command());
    list.push_back(make_verify_command());
    list.push_back(make_explain_command());
    list.push_back(make_db_init_command());
    list.push_back(make_db_migrate_command());
    list.push_back(make_migrate_command());
    list.push_back(make_doctor_command());
    list.push_back(make_import_command());
    list.push_back(make_key_command());
    return list;
}

void declare_user(po::options_description& hidden, po::positional_options_description& positional)
{
    hidden.add_options()("user", po::value<std::string>());
    positional.add("user", 1);
}

std::string required_user(const po::variables_map& options)
{
    if (!options.count("user"))
        throw UsageError("missing USER");
    std::string user = options["user"].as<std::string>();
    // Checked here, before any lookup or file name is built from it.
    require_valid_user_name(user);
    return user;
}

bool flag(const po::variables_map& options, const char* name)
{
    return options.count(name) && options[name].as<bool>();
}

std::string store_name(const Config& config)
{
    return config.store == Config::Store::postgresql ? "the PostgreSQL store" : config.state_dir;
}

NotEnrolled not_enrolled(const std::string& user, const Config& config)
{
    return NotEnrolled(user + " is not enrolled (no state in " + store_name(config) + ")");
}

NotEnrolled not_enrolled(const std::string& user, const Config& config, const std::optional<UserState>& state)
{
    if (!state)
        return not_enrolled(user, config);
    return NotEnrolled(user + " is not enrolled (only failed codes are recorded; unlock removes them)");
}

void require_account(const std::string& user)
{
    const Account account = look_up_account(user);
    if (account.lookup == Account::Lookup::failed)
        throw OperationFailed("cannot look up user '" + user + "': " + std::strerror(account.error));
    if (account.lookup == Account::Lookup::not_found)
        throw NotEnrolled("unknown user '" + user + "' (not in the passwd database)");
    if (account.name != user)
        throw OperationFailed("'" + user + "' is the account '" + account.name
                              + "' in the user database: use that name (logins find state by it)");
}

} // namespace twofactor::admin
