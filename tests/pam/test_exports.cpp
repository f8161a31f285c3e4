// The module's ABI (docs/module.md, "The C boundary and the exports"):
// dlopen()ing the built pam_twofactor.so resolves every symbol at once
// (RTLD_NOW), finds the two entry points, and its dynamic symbol table defines
// nothing else: not the core, not the C++ helpers, not the statically linked
// template code.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <security/pam_modules.h>

#include <algorithm>
#include <set>

using namespace pamtest;

namespace {

// Names of the symbols the file's .dynsym defines (global or weak).
std::set<std::string> defined_dynamic_symbols(const std::string& path)
{
    const std::string image = read_file(path);
    assert_true(image.size() > sizeof(Elf64_Ehdr));
    Elf64_Ehdr eh;
    std::memcpy(&eh, image.data(), sizeof eh);
    assert_memory_equal(eh.e_ident, ELFMAG, SELFMAG);
    assert_int_equal(eh.e_ident[EI_CLASS], ELFCLASS64);
    assert_true(eh.e_shoff + std::size_t{eh.e_shnum} * sizeof(Elf64_Shdr) <= image.size());

    std::vector<Elf64_Shdr> sections(eh.e_shnum);
    std::memcpy(sections.data(), image.data() + eh.e_shoff, sections.size() * sizeof(Elf64_Shdr));
    std::set<std::string> names;
    for (const Elf64_Shdr& sh : sections) {
        if (sh.sh_type != SHT_DYNSYM)
            continue;
        assert_true(sh.sh_link < sections.size());
        const Elf64_Shdr& strtab = sections[sh.sh_link];
        assert_true(sh.sh_offset + sh.sh_size <= image.size());
        assert_true(strtab.sh_offset + strtab.sh_size <= image.size());
        for (std::size_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
            Elf64_Sym sym;
            std::memcpy(&sym, image.data() + sh.sh_offset + off, sizeof sym);
            const unsigned bind = ELF64_ST_BIND(sym.st_info);
            if (sym.st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK))
                continue;
            assert_true(sym.st_name < strtab.sh_size);
            names.insert(std::string(image.data() + strtab.sh_offset + sym.st_name));
        }
    }
    return names;
}

void dynamic_symbol_table_has_only_the_entry_points(void** /*state*/)
{
    const std::set<std::string> names = defined_dynamic_symbols(env_or_die("TWOFACTOR_PAM_MODULE"));
    const std::set<std::string> expected{"pam_sm_authenticate", "pam_sm_setcred"};
    if (names != expected) {
        std::string list;
        for (const std::string& n : names)
            list += n + " ";
        fail_msg("defined dynamic symbols: %s", list.c_str());
    }
}

void dlopen_resolves_and_finds_the_entry_points(void** /*state*/)
{
    const std::string path = env_or_die("TWOFACTOR_PAM_MODULE");
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
        fail_msg("dlopen: %s", dlerror());
    assert_non_null(dlsym(handle, "pam_sm_authenticate"));
    assert_non_null(dlsym(handle, "pam_sm_setcred"));
    // Neither the other PAM entry points (this is an auth module) nor our internals.
    for (const char* hidden : {"pam_sm_acct_mgmt", "pam_sm_open_session", "pam_sm_chauthtok",
                               "_ZN9twofactor3pam12authenticateEP13pam_handleiiPPKc",
                               "_ZN9twofactor26load_config_from_argumentsERKSt6vectorINSt7__cxx1112basic_"
                               "stringIcSt11char_traitsIcESaIcEEESaIS6_EE"})
        assert_null(dlsym(handle, hidden));
    assert_int_equal(dlclose(handle), 0);
}

void setcred_returns_success(void** /*state*/)
{
    void* handle = dlopen(env_or_die("TWOFACTOR_PAM_MODULE").c_str(), RTLD_NOW | RTLD_LOCAL);
    assert_non_null(handle);
    using Entry = int (*)(pam_handle_t*, int, int, const char**);
    auto setcred = reinterpret_cast<Entry>(dlsym(handle, "pam_sm_setcred"));
    assert_non_null(setcred);
    assert_int_equal(setcred(nullptr, PAM_ESTABLISH_CRED, 0, nullptr), PAM_SUCCESS);
    dlclose(handle);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(dynamic_symbol_table_has_only_the_entry_points),
        cmocka_unit_test(dlopen_resolves_and_finds_the_entry_points),
        cmocka_unit_test(setcred_returns_success),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
