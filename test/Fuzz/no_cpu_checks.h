/*===- no_cpu_checks.h - force-included into the fuzzers' executor.c ------===*
 *
 * Clang 14's __builtin_cpu_supports does not know all the GCC feature names
 * executor.c checks ("f16c", "avxvnni") and refuses to compile them. The
 * fuzz model requires no CPU feature, so the check is never reached.
 *
 *===----------------------------------------------------------------------===*/
#define __builtin_cpu_supports(feature) 1
