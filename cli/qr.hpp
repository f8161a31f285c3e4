// Draws a QR code in the terminal, so a phone can import an enrolment
// without the secret ever being written to a file. libqrencode makes the
// module matrix; this unit turns it into text.
#pragma once

#include "secure_memory.hpp"

#include <optional>
#include <string_view>

namespace twofactor::cli {

enum class QrStyle {
    // UTF-8 half blocks in the terminal's own colours, two module rows per
    // text line. Light modules are drawn as blocks and dark ones left blank,
    // so on the usual light-on-dark terminal the code reads dark-on-light,
    // the way every scanner expects (what `qrencode -t UTF8` does too). On a
    // dark-on-light terminal it comes out inverted: use ansi there.
    utf8,
    // The same half blocks with explicit black and white ANSI colours, so
    // the code is right whatever the terminal's theme.
    ansi,
    none,
};

std::optional<QrStyle> parse_qr_style(std::string_view name);

// Renders `text` (error correction level M, 8-bit mode) with a 4-module quiet
// zone, lines ending in '\n'. Throws OperationFailed if it cannot be encoded.
SecureChars render_qr(const SecureChars& text, QrStyle style);

} // namespace twofactor::cli
