#ifndef EDIDROP_CLIBSSH2_SHIM_H
#define EDIDROP_CLIBSSH2_SHIM_H

// libssh2 (Debian's libssh2-1-dev, built on OpenSSL), seen only by SFTPSupport.
// Many libssh2 "functions" are function-like macros over *_ex calls (libssh2_sftp_open,
// libssh2_sftp_stat, libssh2_session_init, ...); Swift does not import those, so
// SFTPSupport calls the *_ex functions directly.
#include <libssh2.h>
#include <libssh2_sftp.h>

#endif
