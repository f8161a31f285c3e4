#include "qr.hpp"

#include "operation_failed.hpp"

#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace twofactor::cli {

std::optional<QrStyle> parse_qr_style(std::string_view name)
{
    if (name == "utf8")
        return QrStyle::utf8;
    if (name == "ansi")
        return QrStyle::ansi;
    if (name == "none")
        return QrStyle::none;
    return std::nullopt;
}

namespace {

constexpr int kQuietZone = 4; // modules of light border the QR standard asks for

// The matrix encodes the secret: wipe it before libqrencode frees it.
struct QrDeleter {
    void operator()(QRcode* code) const
    {
        wipe(code->data, static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width));
        QRcode_free(code);
    }
};

class Modules {
public:
    explicit Modules(const QRcode& code) : code_(code), size_(code.width + 2 * kQuietZone) {}
    int size() const { return size_; }
    // Light: the quiet zone, the padding row below an odd last row, and
    // every module whose low bit (dark) is clear.
    bool light(int x, int y) const
    {
        const int cx = x - kQuietZone, cy = y - kQuietZone;
        if (cx < 0 || cy < 0 || cx >= code_.width || cy >= code_.width)
            return true;
        return (code_.data[cy * code_.width + cx] & 1) == 0;
    }

private:
    const QRcode& code_;
    int size_;
};

void append(SecureChars& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

void render_utf8(const Modules& m, SecureChars& out)
{
    for (int y = 0; y < m.size(); y += 2) {
        for (int x = 0; x < m.size(); ++x) {
            const bool top = m.light(x, y);
            // Below an odd last row is the terminal's background (dark).
            const bool bottom = y + 1 < m.size() && m.light(x, y + 1);
            append(out, top ? (bottom ? "\u2588" : "\u2580") : (bottom ? "\u2584" : " "));
        }
        out.push_back('\n');
    }
}

void render_ansi(const Modules& m, SecureChars& out)
{
    // Every cell is an upper half block: its foreground colour paints the top
    // module, its background colour the bottom one.
    for (int y = 0; y < m.size(); y += 2) {
        int fg = -1, bg = -1;
        for (int x = 0; x < m.size(); ++x) {
            const int want_fg = m.light(x, y) ? 97 : 30;
            const int want_bg = y + 1 < m.size() ? (m.light(x, y + 1) ? 107 : 40) : 49; // 49: terminal default
            if (want_fg != fg || want_bg != bg) {
                append(out, "\x1b[" + std::to_string(want_fg) + ";" + std::to_string(want_bg) + "m");
                fg = want_fg;
                bg = want_bg;
            }
            append(out, "\u2580");
        }
        append(out, "\x1b[0m\n");
    }
}

} // namespace

SecureChars render_qr(const SecureChars& text, QrStyle style)
{
    SecureChars out;
    if (style == QrStyle::none)
        return out;
    SecureChars terminated(text);
    terminated.push_back('\0');
    std::unique_ptr<QRcode, QrDeleter> code(QRcode_encodeString(terminated.data(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
    if (!code)
        throw OperationFailed(std::string("cannot make the QR code: ") + std::strerror(errno));
    const Modules modules(*code);
    if (style == QrStyle::utf8)
        render_utf8(modules, out);
    else
        render_ansi(modules, out);
    return out;
}

} // namespace twofactor::cli
