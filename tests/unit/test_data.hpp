// Reads the RFC test vectors kept as data files in tests/data.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef TWOFACTOR_TEST_DATA
#error "TWOFACTOR_TEST_DATA must name tests/data"
#endif

inline std::vector<std::vector<std::string>> read_tsv(const std::string& name)
{
    std::ifstream in(std::string(TWOFACTOR_TEST_DATA) + "/" + name);
    std::vector<std::vector<std::string>> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::vector<std::string> fields;
        std::istringstream ss(line);
        std::string f;
        while (std::getline(ss, f, '\t'))
            fields.push_back(f);
        rows.push_back(fields);
    }
    return rows;
}
