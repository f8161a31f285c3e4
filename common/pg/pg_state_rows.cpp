#include "pg_state_rows.hpp"

#include "codec.hpp"
#include "errors.hpp"

#include <charconv>
#include <climits>
#include <unordered_map>

namespace twofactor {

namespace {

// As the state file keeps them (user_state.cpp), so a state moves between
// the stores unchanged.
constexpr std::size_t kMaxTextInput = 256 / 3;

// One row per code of the current set (one row if there is none). The
// authenticators column, the user's `auth` records as a state file writes
// them (secrets included), repeats on every row; PgResult wipes them all.
#define TWOFACTOR_STATE_COLUMNS                                                                                        \
    "SELECT u.user_id, u.failures, u.locked_until, u.skew_at, u.skew_seconds,"                                         \
    " (SELECT string_agg(concat_ws(' ', 'auth', a.name, a.type, a.algorithm, a.digits, coalesce(a.period, a.counter)," \
    "  coalesce(a.secret_sealed, a.secret_base32), a.enrolled_at,"                                                     \
    "  CASE WHEN a.type = 'totp' THEN coalesce(a.last_step::text, '-') END,"                                           \
    "  coalesce(a.last_used::text, '-')), E'\\n' ORDER BY a.authenticator_id)"                                         \
    "  FROM twofactor.authenticators a WHERE a.user_id = u.user_id),"                                                  \
    " l.at, l.method, l.service, l.rhost, l.tty, l.authenticator,"                                                     \
    " s.set_id, s.issued_at, s.code_length, s.scrypt_log2_n, s.scrypt_r, s.scrypt_p, encode(s.salt, 'hex'),"           \
    " s.code_count,"                                                                                                   \
    " c.slot, encode(c.hash, 'hex'), c.used_at, c.service, c.rhost, c.tty,"                                            \
    " (SELECT string_agg(encode(d.device_id, 'hex') || ' ' || d.fingerprint || ' ' || d.address || ' '"                \
    " || d.first_used || ' ' || d.last_used || ' ' || d.expires_at, E'\\n' ORDER BY d.first_used, d.device_id)"        \
    " FROM twofactor.devices d WHERE d.user_id = u.user_id)"
#define TWOFACTOR_STATE_TABLES                                                                                         \
    " FROM twofactor.users u"                                                                                          \
    " LEFT JOIN twofactor.last_logins l ON l.user_id = u.user_id"                                                      \
    " LEFT JOIN twofactor.code_sets s ON s.user_id = u.user_id"                                                        \
    " LEFT JOIN twofactor.codes c ON c.set_id = s.set_id"

constexpr const char* kSelectState
    = TWOFACTOR_STATE_COLUMNS TWOFACTOR_STATE_TABLES " WHERE u.name = $1 ORDER BY c.slot";

// Many users in one statement: the same columns and then the name; the rows
// of one user are consecutive.
constexpr const char* kSelectStates = TWOFACTOR_STATE_COLUMNS
    ", u.name" TWOFACTOR_STATE_TABLES " WHERE u.name = ANY ($1::text[]) ORDER BY u.user_id, c.slot";

#undef TWOFACTOR_STATE_COLUMNS
#undef TWOFACTOR_STATE_TABLES

enum Column {
    user_id,
    failures,
    locked_until,
    skew_at,
    skew_seconds,
    authenticators, // the `auth` records of a state file, one per line
    login_at,
    login_method,
    login_service,
    login_rhost,
    login_tty,
    login_authenticator,
    set_id,
    set_issued_at,
    set_length,
    set_log2_n,
    set_r,
    set_p,
    set_salt,
    set_count,
    code_slot,
    code_hash,
    code_used_at,
    code_service,
    code_rhost,
    code_tty,
    devices,      // one line per device, fields separated by single spaces
    name_of_user, // kSelectStates only
};

// Rows [first, first + count) of a result: one user's.
class RowReader {
public:
    RowReader(const PgResult& result, int first, int count, const std::string& user)
        : r_(result),
          first_(first),
          count_(count),
          user_(user)
    {
    }

    [[noreturn]] void corrupt(const std::string& what) const
    {
        throw StoreError(StoreErrc::corrupt, "PostgreSQL: stored state of " + user_ + " is invalid: " + what);
    }

    int rows() const { return count_; }
    std::int64_t integer(int row, Column c, std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX) const
    {
        return r_.integer(first_ + row, c, min, max);
    }
    unsigned small(int row, Column c, unsigned min, unsigned max) const
    {
        return static_cast<unsigned>(r_.integer(first_ + row, c, min, max));
    }
    bool null(int row, Column c) const { return r_.is_null(first_ + row, c); }
    std::string_view text(int row, Column c) const { return r_.text(first_ + row, c); }
    std::string field(int row, Column c) const { return decode_pg_text(text(row, c)); }

    // Read by the state file's own parser: the rows are checked exactly as
    // an `auth` record is (names, ranges, secret, at most kMaxAuthenticators).
    std::vector<Authenticator> all_authenticators() const
    {
        if (null(0, authenticators))
            return {};
        const std::string_view records = text(0, authenticators);
        SecureChars file;
        const auto add = [&file](std::string_view s) { file.insert(file.end(), s.begin(), s.end()); };
        file.reserve(records.size() + 64);
        add("twofactor-state 3\nuser -\n"); // 3: a secret may be sealed
        add(records);
        add("\nfailures 0 0\nend\n");
        try {
            return parse_user_state(view(file)).authenticators;
        } catch (const StateFormatError& e) {
            corrupt(std::string("authenticators: ") + e.what());
        }
    }

    LastLogin last_login() const
    {
        LastLogin l;
        l.at = integer(0, login_at);
        const std::string_view method = text(0, login_method);
        if (method == "totp")
            l.method = Method::totp;
        else if (method == "backup_code")
            l.method = Method::backup_code;
        else if (method == "hotp")
            l.method = Method::hotp;
        else
            corrupt("last login method");
        if (!null(0, login_authenticator))
            l.authenticator = std::string(text(0, login_authenticator));
        l.service = field(0, login_service);
        l.rhost = field(0, login_rhost);
        l.tty = field(0, login_tty);
        return l;
    }

    BackupCodeSet codes() const
    {
        BackupCodeSet set;
        set.issued_at = integer(0, set_issued_at);
        set.length = small(0, set_length, kMinBackupCodeLength, kMaxBackupCodeLength);
        set.params.log2_n = small(0, set_log2_n, 10, 20);
        set.params.r = small(0, set_r, 1, 32);
        set.params.p = small(0, set_p, 1, 16);
        if (!from_hex(text(0, set_salt), set.salt.data(), set.salt.size()))
            corrupt("salt");
        const unsigned count = small(0, set_count, 1, kMaxBackupCodes);
        if (static_cast<unsigned>(count_) != count)
            corrupt("the set has " + std::to_string(count) + " codes, the codes table " + std::to_string(count_));
        for (int i = 0; i < count_; ++i) {
            if (null(i, code_slot) || integer(i, code_slot) != i)
                corrupt("code slots are not 0.." + std::to_string(count - 1));
            CodeSlot slot;
            if (!from_hex(text(i, code_hash), slot.hash.data(), slot.hash.size()))
                corrupt("code hash");
            if (!null(i, code_used_at))
                slot.used = CodeUse{integer(i, code_used_at), field(i, code_service), field(i, code_rhost),
                                    field(i, code_tty)};
            set.slots.push_back(std::move(slot));
        }
        return set;
    }

    // "ID_HEX FINGERPRINT ADDRESS FIRST LAST EXPIRES" lines, the text fields
    // encoded as encode_pg_text does (so without spaces) and possibly empty.
    std::vector<Device> device_list() const
    {
        std::vector<Device> out;
        if (null(0, devices))
            return out;
        std::string_view rest = text(0, devices);
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            const std::string_view line = rest.substr(0, nl);
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            std::vector<std::string_view> f;
            for (std::size_t start = 0;;) {
                const auto sp = line.find(' ', start);
                f.push_back(line.substr(start, sp == std::string_view::npos ? sp : sp - start));
                if (sp == std::string_view::npos)
                    break;
                start = sp + 1;
            }
            if (f.size() != 6)
                corrupt("device row");
            Device d;
            if (!from_hex(f[0], d.id.data(), d.id.size()))
                corrupt("device id");
            d.fingerprint = decode_pg_text(f[1]);
            d.address = decode_pg_text(f[2]);
            d.first_used = number(f[3]);
            d.last_used = number(f[4]);
            d.expires_at = number(f[5]);
            out.push_back(std::move(d));
        }
        return out;
    }

private:
    std::int64_t number(std::string_view f) const
    {
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
        if (f.empty() || ec != std::errc() || ptr != f.data() + f.size() || v < 0)
            corrupt("device time");
        return v;
    }

    const PgResult& r_;
    int first_;
    int count_;
    const std::string& user_;
};

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; // upper case only: one spelling per byte string
}

} // namespace

std::string encode_pg_text(std::string_view value)
{
    if (value.size() > kMaxTextInput)
        value = value.substr(0, kMaxTextInput);
    return percent_encode(value, [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '%'; });
}

std::string decode_pg_text(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '%') {
            const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
            const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                throw StoreError(StoreErrc::corrupt, "PostgreSQL: malformed %-escape in a text column");
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c > 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            throw StoreError(StoreErrc::corrupt, "PostgreSQL: unencoded byte in a text column");
        }
    }
    if (out.size() > kMaxTextInput)
        throw StoreError(StoreErrc::corrupt, "PostgreSQL: text column longer than a state file allows");
    return out;
}

namespace {

StoredState parse_state(const PgResult& r, int first, int count, const std::string& user)
{
    const RowReader row(r, first, count, user);
    StoredState out;
    UserState& st = out.state;
    st.user = user;
    st.failures = row.small(0, failures, 0, 1000000);
    st.locked_until = row.integer(0, locked_until);
    if (!row.null(0, skew_at))
        st.last_skew = SkewSeen{row.integer(0, skew_at), row.integer(0, skew_seconds, -86400, 86400)};
    st.authenticators = row.all_authenticators();
    if (!row.null(0, login_at))
        st.last_login = row.last_login();
    st.devices = row.device_list();
    if (!row.null(0, set_id)) {
        out.set_id = row.integer(0, set_id, 1);
        st.codes = row.codes();
    } else if (row.rows() != 1) {
        row.corrupt("more than one row without a code set");
    }
    // The same limits as a state file (secret length, ranges, field sizes):
    // nothing the file store would refuse is accepted from the database.
    try {
        parse_user_state(view(serialize_user_state(st)));
    } catch (const StateFormatError& e) {
        row.corrupt(e.what());
    }
    return out;
}

} // namespace

std::optional<StoredState> read_pg_state(PgConnection& connection, const std::string& user, Deadline deadline)
{
    return pg_state_of(connection.exec(kSelectState, PgParams{}.add(user), deadline), user);
}

void add_pg_state_query(PgBatch& batch, const std::string& user) { batch.add(kSelectState).add(user); }

std::optional<StoredState> pg_state_of(const PgResult& result, const std::string& user)
{
    if (result.rows() == 0)
        return std::nullopt;
    return parse_state(result, 0, result.rows(), user);
}

std::vector<LoadedState> read_pg_states(PgConnection& connection, const std::vector<std::string>& users,
                                        Deadline deadline)
{
    // A text[] literal; every element quoted, '"' and '\\' escaped.
    std::string names = "{";
    for (const std::string& user : users) {
        if (names.size() > 1)
            names += ',';
        names += '"';
        for (const char c : user) {
            if (c == '"' || c == '\\')
                names += '\\';
            names += c;
        }
        names += '"';
    }
    names += '}';
    const PgResult r = connection.exec(kSelectStates, PgParams{}.add(names), deadline);

    std::unordered_multimap<std::string_view, std::size_t> wanted; // a name may be asked for twice
    for (std::size_t i = 0; i < users.size(); ++i)
        wanted.emplace(users[i], i);
    std::vector<LoadedState> out(users.size());
    for (int first = 0; first < r.rows();) {
        const std::string_view id = r.text(first, user_id);
        int end = first + 1;
        while (end < r.rows() && r.text(end, user_id) == id)
            ++end;
        const auto [from, to] = wanted.equal_range(r.text(first, name_of_user));
        for (auto it = from; it != to; ++it) {
            const std::size_t i = it->second;
            try {
                out[i].state = parse_state(r, first, end - first, users[i]).state;
            } catch (const StoreError& e) {
                out[i].error = e.what();
            }
        }
        first = end;
    }
    return out;
}

} // namespace twofactor
