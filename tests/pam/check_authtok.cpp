// The "next module" of the forward_pass tests, run by pam_exec.so
// expose_authtok, which hands it PAM_AUTHTOK on stdin (NUL-terminated) when
// an earlier module set it and prompts for it otherwise, as pam_unix
// try_first_pass does. Exits 0 if that password equals the first line of the
// file named by argv[1]. (pam_wrapper's pam_matrix would be the obvious
// choice, but its 1.1.4 build always prompts again, ignoring PAM_AUTHTOK.)
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv)
{
    if (argc != 2)
        return 2;
    std::string given(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>{});
    if (!given.empty() && given.back() == '\0')
        given.pop_back();
    std::ifstream file(argv[1]);
    std::string expected;
    if (!std::getline(file, expected))
        return 2;
    return given == expected ? 0 : 1;
}
