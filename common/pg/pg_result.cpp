// PgParams, PgResult and one_line: the values that go into and come out of
// a statement (declared in pg_connection.hpp).
#include "pg_connection.hpp"

#include "libpq.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace twofactor {

namespace {
constexpr std::size_t kMaxMessage = 400;
} // namespace

std::string one_line(std::string_view text)
{
    std::string out;
    out.reserve(std::min(text.size(), kMaxMessage));
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const char shown = (u < 0x20 || u == 0x7f) ? ' ' : (u >= 0x80 ? '?' : c);
        if (shown == ' ' && (out.empty() || out.back() == ' '))
            continue;
        out.push_back(shown);
        if (out.size() >= kMaxMessage)
            break;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

// ---- parameters and results ----

PgParams& PgParams::add(std::string_view text)
{
    text_.emplace_back(text);
    values_.push_back(text_.back().c_str());
    return *this;
}

PgParams& PgParams::add(std::int64_t number) { return add(std::to_string(number)); }

PgParams& PgParams::add_null()
{
    values_.push_back(nullptr);
    return *this;
}

PgParams& PgParams::add_secret(const SecureChars& text)
{
    SecureChars& copy = secret_.emplace_back();
    copy.reserve(text.size() + 1);
    copy.insert(copy.end(), text.begin(), text.end());
    copy.push_back('\0');
    values_.push_back(copy.data());
    return *this;
}

PgResult::~PgResult()
{
    if (result_ == nullptr)
        return;
    const int rows = pq().PQntuples(result_);
    const int columns = pq().PQnfields(result_);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c)
            if (const int length = pq().PQgetlength(result_, r, c); length > 0)
                wipe(pq().PQgetvalue(result_, r, c), static_cast<std::size_t>(length));
    pq().PQclear(result_);
}

int PgResult::rows() const { return pq().PQntuples(result_); }

int PgResult::affected() const
{
    const char* n = pq().PQcmdTuples(result_);
    int out = 0;
    const auto [ptr, ec] = std::from_chars(n, n + std::strlen(n), out);
    return ec == std::errc() ? out : 0;
}

std::string_view PgResult::command_status() const { return pq().PQcmdStatus(result_); }

bool PgResult::is_null(int row, int column) const { return pq().PQgetisnull(result_, row, column) != 0; }

std::string_view PgResult::text(int row, int column) const
{
    if (row >= rows() || column >= pq().PQnfields(result_))
        throw StoreError(StoreErrc::corrupt, "PostgreSQL: unexpected result shape");
    return {pq().PQgetvalue(result_, row, column), static_cast<std::size_t>(pq().PQgetlength(result_, row, column))};
}

std::int64_t PgResult::integer(int row, int column, std::int64_t min, std::int64_t max) const
{
    const std::string_view t = text(row, column);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (is_null(row, column) || ec != std::errc() || ptr != t.data() + t.size() || v < min || v > max)
        throw StoreError(StoreErrc::corrupt,
                         std::string("PostgreSQL: unexpected value in column ") + pq().PQfname(result_, column));
    return v;
}

} // namespace twofactor
