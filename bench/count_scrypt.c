/* Counts scrypt evaluations in whatever calls OpenSSL from this process,
 * e.g. pam_twofactor.so, which carries its own static copy of the core (and
 * so its own twofactor::scrypt_evaluations() counter that the harness cannot
 * see). Wraps both ways in: EVP_PBE_scrypt[_ex] and EVP_KDF_derive on an
 * SCRYPT context; a thread-local depth keeps one EVP_PBE_scrypt (which
 * calls EVP_KDF_derive inside libcrypto) from counting twice. */
#define _GNU_SOURCE
#include "preload.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdatomic.h>

static atomic_uint_fast64_t g_calls;
static __thread int t_depth;

uint64_t bench_scrypt_calls(void) { return (uint64_t)atomic_load(&g_calls); }

typedef int (*pbe_scrypt_fn)(const char*, size_t, const unsigned char*, size_t, uint64_t, uint64_t, uint64_t, uint64_t,
                             unsigned char*, size_t);
typedef int (*pbe_scrypt_ex_fn)(const char*, size_t, const unsigned char*, size_t, uint64_t, uint64_t, uint64_t,
                                uint64_t, unsigned char*, size_t, OSSL_LIB_CTX*, const char*);
typedef int (*kdf_derive_fn)(EVP_KDF_CTX*, unsigned char*, size_t, const OSSL_PARAM[]);

static void* next(const char* name) { return dlsym(RTLD_NEXT, name); }

static void enter(void)
{
    if (t_depth++ == 0)
        atomic_fetch_add(&g_calls, 1);
}

int EVP_PBE_scrypt(const char* pass, size_t passlen, const unsigned char* salt, size_t saltlen, uint64_t N, uint64_t r,
                   uint64_t p, uint64_t maxmem, unsigned char* key, size_t keylen)
{
    static pbe_scrypt_fn real;
    if (!real)
        real = (pbe_scrypt_fn)next("EVP_PBE_scrypt");
    /* key == NULL only checks the parameters: not an evaluation. */
    if (key)
        enter();
    int rc = real ? real(pass, passlen, salt, saltlen, N, r, p, maxmem, key, keylen) : 0;
    if (key)
        --t_depth;
    return rc;
}

int EVP_PBE_scrypt_ex(const char* pass, size_t passlen, const unsigned char* salt, size_t saltlen, uint64_t N,
                      uint64_t r, uint64_t p, uint64_t maxmem, unsigned char* key, size_t keylen, OSSL_LIB_CTX* ctx,
                      const char* propq)
{
    static pbe_scrypt_ex_fn real;
    if (!real)
        real = (pbe_scrypt_ex_fn)next("EVP_PBE_scrypt_ex");
    if (key)
        enter();
    int rc = real ? real(pass, passlen, salt, saltlen, N, r, p, maxmem, key, keylen, ctx, propq) : 0;
    if (key)
        --t_depth;
    return rc;
}

int EVP_KDF_derive(EVP_KDF_CTX* ctx, unsigned char* key, size_t keylen, const OSSL_PARAM params[])
{
    static kdf_derive_fn real;
    if (!real)
        real = (kdf_derive_fn)next("EVP_KDF_derive");
    const int scrypt = ctx && EVP_KDF_is_a(EVP_KDF_CTX_kdf(ctx), "SCRYPT");
    if (scrypt)
        enter();
    int rc = real ? real(ctx, key, keylen, params) : 0;
    if (scrypt)
        --t_depth;
    return rc;
}
