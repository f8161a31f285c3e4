// One factory per command; each command lives in its own file here.
#pragma once

#include "../command.hpp"

#include <memory>

namespace twofactor::admin {

std::unique_ptr<Command> make_enroll_command();
std::unique_ptr<Command> make_issue_command();
std::unique_ptr<Command> make_list_command();
std::unique_ptr<Command> make_revoke_command();
std::unique_ptr<Command> make_resync_command();
std::unique_ptr<Command> make_unlock_command();
std::unique_ptr<Command> make_forget_command();
std::unique_ptr<Command> make_verify_command();
std::unique_ptr<Command> make_explain_command();
std::unique_ptr<Command> make_db_init_command();
std::unique_ptr<Command> make_db_migrate_command();
std::unique_ptr<Command> make_migrate_command();
std::unique_ptr<Command> make_doctor_command();
std::unique_ptr<Command> make_import_command();
std::unique_ptr<Command> make_key_command();

// Declares the single USER positional the most commands take.
void declare_user(po::options_description& hidden, po::positional_options_description& positional);

} // namespace twofactor::admin
