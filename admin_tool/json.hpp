// A minimal streaming JSON writer for the --json outputs (docs/json.md).
// It writes straight into an OutputBuffer, so secrets (enroll's secret, the
// backup codes of issue) are never copied into an unwiped string on the way.
#pragma once

#include "output.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace twofactor::admin {

class JsonWriter {
public:
    explicit JsonWriter(cli::OutputBuffer& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);

    // Strings are written as UTF-8; bytes that are not valid UTF-8 (free-text
    // fields from PAM can hold anything) become U+FFFD, so the document
    // always parses.
    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(const SecureChars& text) { return value(view(text)); }
    JsonWriter& value(std::int64_t n);
    JsonWriter& value(std::uint64_t n);
    JsonWriter& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
    JsonWriter& value(bool b);
    JsonWriter& null();

    template <typename T>
    JsonWriter& field(std::string_view name, const T& v)
    {
        return key(name).value(v);
    }

private:
    void separate(); // the comma before a value, unless first in its container
    void string(std::string_view text);

    cli::OutputBuffer& out_;
    std::vector<bool> first_{true}; // one entry per open container
    bool after_key_ = false;
};

} // namespace twofactor::admin
