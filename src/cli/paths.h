/* Lexical path arithmetic for what a run records about where its files are. */
#ifndef NNCL_CLI_PATHS_H
#define NNCL_CLI_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* path made absolute against the current directory, with "." components,
 * repeated and trailing slashes removed. ".." and symbolic links are kept as
 * they are (resolving them could change the base name, which names a
 * dataset's classes). False when it does not fit or the current directory
 * is unknown. */
bool path_absolute(const char *path, char *out, size_t len);

/* The path that leads from the directory base to target, both absolute
 * ("../data/t.csv", or "." for base itself). base must hold no ".." nor
 * symbolic link (realpath's form), so that each ".." climbs one of its
 * components. False when it does not fit. */
bool path_relative(const char *target, const char *base, char *out, size_t len);

#endif
