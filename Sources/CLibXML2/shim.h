#ifndef EDIDROP_CLIBXML2_SHIM_H
#define EDIDROP_CLIBXML2_SHIM_H

// Debian builds libxml2 with ICU, and <libxml/encoding.h> then pulls in the system's
// <unicode/ucnv.h>, which clashes with the ICU copy inside Swift's Foundation.
// Read the version header first and drop the ICU switch before anything else:
// edidrop never needs libxml2's ICU converters. Consequence: never hold an
// xmlCharEncodingHandler by value in Swift (its ICU fields are gone from the
// declaration); pointers are fine.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
#include <libxml/tree.h>
#include <libxml/entities.h>
#include <libxml/xmlIO.h>

// libxml2 prints some errors (encoding conversion, a few schema internals) through its
// generic handler, which writes to stderr, besides the structured handlers edidrop reads.
// The handler is variadic, which Swift cannot define, so the no-op lives here. The
// setting is per thread in libxml2: call it on each thread that parses.
static inline void edidrop_xml_ignore(void *ctx, const char *msg, ...) { (void)ctx; (void)msg; }
static inline void edidrop_xml_silence_generic_errors(void) { xmlSetGenericErrorFunc(NULL, edidrop_xml_ignore); }

#endif
