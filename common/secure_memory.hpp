// Containers for secrets: TOTP keys, typed codes, derived hashes.
// Memory is wiped with OPENSSL_cleanse before it goes back to the allocator,
// including the old buffer when a vector grows. No small-buffer optimisation,
// so no copy of a secret lives inside an object that is not wiped.
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <new>
#include <string_view>
#include <vector>

namespace twofactor {

template <typename T>
struct WipingAllocator {
    using value_type = T;

    WipingAllocator() noexcept = default;
    template <typename U>
    WipingAllocator(const WipingAllocator<U>& /*other*/) noexcept
    {
    }

    T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept
    {
        OPENSSL_cleanse(p, n * sizeof(T));
        std::allocator<T>{}.deallocate(p, n);
    }

    template <typename U>
    bool operator==(const WipingAllocator<U>& /*other*/) const noexcept
    {
        return true;
    }
    template <typename U>
    bool operator!=(const WipingAllocator<U>& /*other*/) const noexcept
    {
        return false;
    }
};

using SecureBytes = std::vector<unsigned char, WipingAllocator<unsigned char>>;
using SecureChars = std::vector<char, WipingAllocator<char>>;

inline SecureChars to_secure(std::string_view text) { return SecureChars(text.begin(), text.end()); }
inline std::string_view view(const SecureChars& text) { return {text.data(), text.size()}; }

// Wipes a buffer the caller does not own through a container (PAM replies, argv copies).
inline void wipe(void* p, std::size_t n) { OPENSSL_cleanse(p, n); }

} // namespace twofactor
