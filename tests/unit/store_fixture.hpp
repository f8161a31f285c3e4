// A private state directory for store tests, removed afterwards.
#pragma once

#include "state_store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

struct TempStateDir {
    std::string path;

    TempStateDir()
    {
        char tmpl[] = "/tmp/twofactor-unit-XXXXXX";
        const char* made = ::mkdtemp(tmpl);
        if (!made)
            std::abort();
        path = made;
        ::chmod(path.c_str(), 0700);
    }
    ~TempStateDir() { std::filesystem::remove_all(path); }
    TempStateDir(const TempStateDir&) = delete;
    TempStateDir& operator=(const TempStateDir&) = delete;

    std::string file(const std::string& name) const { return path + "/" + name; }

    std::string read(const std::string& name) const
    {
        std::ifstream in(file(name), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    void write(const std::string& name, const std::string& content, mode_t mode = 0600) const
    {
        {
            std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
            out << content;
        }
        ::chmod(file(name).c_str(), mode);
    }
};
