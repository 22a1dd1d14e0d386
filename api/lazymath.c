/*
 * libm on demand for signcore.cgi. The program's only calls into libm are
 * SQLite's SQL math functions (acos() ... trunc()) and FTS5's ranking
 * (log), none of which the API uses. Linked, libm would be mapped and its
 * IFUNC resolvers run at every exec of the CGI (about 60 us, some 4% of a
 * request); these definitions satisfy SQLite's archive instead and load
 * libm the first time one of them is called. Built only when configure
 * links SQLite's archive (SIGNCORE_LAZY_LIBM).
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "config.h"

#ifdef SIGNCORE_LAZY_LIBM
#include <dlfcn.h>
#include <stddef.h>

static void *libm_symbol(const char *name)
{
	static void *libm;

	if (!libm && !(libm = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL)))
		return NULL;
	return dlsym(libm, name);
}

#define LAZY1(name) \
	double name(double x); \
	double name(double x) \
	{ \
		static double (*f)(double); \
		if (!f) \
			*(void **)(&f) = libm_symbol(#name); \
		return f ? f(x) : __builtin_nan(""); \
	}
#define LAZY2(name) \
	double name(double x, double y); \
	double name(double x, double y) \
	{ \
		static double (*f)(double, double); \
		if (!f) \
			*(void **)(&f) = libm_symbol(#name); \
		return f ? f(x, y) : __builtin_nan(""); \
	}

LAZY1(acos)
LAZY1(acosh)
LAZY1(asin)
LAZY1(asinh)
LAZY1(atan)
LAZY2(atan2)
LAZY1(atanh)
LAZY1(cos)
LAZY1(cosh)
LAZY1(exp)
LAZY2(fmod)
LAZY1(log)
LAZY2(pow)
LAZY1(sin)
LAZY1(sinh)
LAZY1(sqrt)
LAZY1(tan)
LAZY1(tanh)
LAZY1(trunc)
#else
/* ISO C wants something in a translation unit */
typedef int signcore_lazymath_unused;
#endif
