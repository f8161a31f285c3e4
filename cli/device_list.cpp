#include "device_list.hpp"

namespace twofactor::cli {

std::vector<Device> current_devices(const std::vector<Device>& devices, std::int64_t now)
{
    std::vector<Device> out;
    for (const Device& d : devices)
        if (now < d.expires_at)
            out.push_back(d);
    return out;
}

void print_devices(OutputBuffer& out, const std::vector<Device>& devices, std::int64_t now, std::string_view indent)
{
    const std::vector<Device> current = current_devices(devices, now);
    if (current.empty())
        return;
    out << indent;
    out.padded("DEVICE", kShortIdDigits + 2);
    out.padded("FIRST USED", 18);
    out.padded("LAST USED", 18);
    out.padded("EXPIRES", 18);
    out << "KEY / ADDRESS\n";
    for (const Device& d : current) {
        std::string what = d.fingerprint.empty() ? std::string() : printable(d.fingerprint);
        if (!d.address.empty())
            what += (what.empty() ? "" : " from ") + printable(d.address);
        out << indent;
        out.padded(short_id(d.id), kShortIdDigits + 2);
        out.padded(format_time(d.first_used), 18);
        out.padded(format_time(d.last_used), 18);
        out.padded(format_time(d.expires_at), 18);
        out << what << '\n';
    }
}

} // namespace twofactor::cli
