#include "system_trust.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <stdexcept>

namespace twofactor {

namespace {

struct FreeBio {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct FreeStore {
    void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct FreeContext {
    void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct FreeCertificates {
    void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

std::string subject_of(X509* certificate)
{
    char buffer[256] = {};
    X509_NAME_oneline(X509_get_subject_name(certificate), buffer, sizeof buffer);
    return buffer;
}

} // namespace

std::string system_trusted_certificate(const std::string& path)
{
    const std::unique_ptr<BIO, FreeBio> in(BIO_new_file(path.c_str(), "r"));
    if (!in)
        throw std::runtime_error("cannot read " + path);
    const std::unique_ptr<STACK_OF(X509), FreeCertificates> certificates(sk_X509_new_null());
    if (!certificates)
        throw std::runtime_error("out of memory");
    while (X509* c = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr))
        if (sk_X509_push(certificates.get(), c) == 0) {
            X509_free(c);
            throw std::runtime_error("out of memory");
        }
    ERR_clear_error(); // the end of the file reads as an error
    if (sk_X509_num(certificates.get()) == 0)
        throw std::runtime_error(path + " holds no PEM certificate");

    // The compiled-in locations, not SSL_CERT_FILE / SSL_CERT_DIR: the
    // environment is the caller's in su.
    const std::unique_ptr<X509_STORE, FreeStore> system(X509_STORE_new());
    if (!system)
        throw std::runtime_error("out of memory");
    X509_LOOKUP* file = X509_STORE_add_lookup(system.get(), X509_LOOKUP_file());
    X509_LOOKUP* dir = X509_STORE_add_lookup(system.get(), X509_LOOKUP_hash_dir());
    if (file == nullptr || dir == nullptr)
        throw std::runtime_error("out of memory");
    X509_LOOKUP_load_file(file, X509_get_default_cert_file(), X509_FILETYPE_PEM); // may be missing
    X509_LOOKUP_add_dir(dir, X509_get_default_cert_dir(), X509_FILETYPE_PEM);
    ERR_clear_error();

    for (int i = 0; i < sk_X509_num(certificates.get()); ++i) {
        X509* certificate = sk_X509_value(certificates.get(), i);
        const std::unique_ptr<X509_STORE_CTX, FreeContext> context(X509_STORE_CTX_new());
        if (!context || X509_STORE_CTX_init(context.get(), system.get(), certificate, certificates.get()) != 1)
            throw std::runtime_error("out of memory");
        // An expired public CA still says what the file is.
        X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_NO_CHECK_TIME);
        const bool trusted = X509_verify_cert(context.get()) == 1;
        ERR_clear_error();
        if (trusted)
            return subject_of(certificate);
    }
    return "";
}

} // namespace twofactor
