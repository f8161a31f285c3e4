#include "operation_failed.hpp"

#include <exception>
#include <new>

namespace twofactor::cli {

std::string current_failure_message()
{
    try {
        throw;
    } catch (const OperationFailed& e) {
        return e.what();
    } catch (const std::bad_alloc&) {
        return "out of memory";
    } catch (const std::exception& e) {
        return std::string("internal error: ") + e.what();
    } catch (...) {
        return "internal error";
    }
}

} // namespace twofactor::cli
