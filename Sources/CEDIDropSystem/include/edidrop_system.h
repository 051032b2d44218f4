#ifndef EDIDROP_SYSTEM_H
#define EDIDROP_SYSTEM_H

// Linux calls that Swift's Glibc module does not import (they need _GNU_SOURCE or
// are reached only through syscall(2), which is variadic and so not callable from Swift).
// Each wrapper returns what the C call returns and leaves errno as it set it.

/// rename(2) that fails with EEXIST instead of replacing `to`; EINVAL where the file
/// system does not support the flag (callers then fall back to link + unlink).
int edidrop_rename_noreplace(const char *from, const char *to);

/// syncfs(2): flush the whole file system that holds `fd`.
int edidrop_syncfs(int fd);

/// The file system type (statfs f_type) of `path`, or -1 with errno set.
long edidrop_fs_type(const char *path);

#endif
