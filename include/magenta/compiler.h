/*
 * <magenta/compiler.h>: the compiler helpers Magenta's headers and programs
 * use: attributes, branch hints, C++ linkage guards, countof.
 *
 * Each name is defined only if nothing defined it before, so that this
 * header can follow system headers (and programs' own definitions) without
 * redefinition warnings. Only GCC and Clang are supported; with another
 * compiler the attributes expand to nothing.
 */
#ifndef MAGENTA_COMPILER_H_
#define MAGENTA_COMPILER_H_

#ifndef __ASSEMBLY__

#if defined(__GNUC__) || defined(__clang__)
#define MX_COMPILER_ATTR_(x) __attribute__(x)
#else
#define MX_COMPILER_ATTR_(x)
#endif

/* Branch hints. */
#ifndef likely
#if defined(__GNUC__) || defined(__clang__)
#define likely(x) __builtin_expect(!!(x), 1)
#else
#define likely(x) (x)
#endif
#endif
#ifndef unlikely
#if defined(__GNUC__) || defined(__clang__)
#define unlikely(x) __builtin_expect(!!(x), 0)
#else
#define unlikely(x) (x)
#endif
#endif

/* Attributes on declarations. */
#ifndef __UNUSED
#define __UNUSED MX_COMPILER_ATTR_((__unused__))
#endif
#ifndef __PACKED
#define __PACKED MX_COMPILER_ATTR_((packed))
#endif
#ifndef __ALIGNED
#define __ALIGNED(x) MX_COMPILER_ATTR_((aligned(x)))
#endif
#ifndef __PRINTFLIKE
#define __PRINTFLIKE(__fmt, __varargs) MX_COMPILER_ATTR_((__format__(__printf__, __fmt, __varargs)))
#endif
#ifndef __SCANFLIKE
#define __SCANFLIKE(__fmt, __varargs) MX_COMPILER_ATTR_((__format__(__scanf__, __fmt, __varargs)))
#endif
#ifndef __SECTION
#define __SECTION(x) MX_COMPILER_ATTR_((section(x)))
#endif
#ifndef __PURE
#define __PURE MX_COMPILER_ATTR_((pure))
#endif
#ifndef __CONST
#define __CONST MX_COMPILER_ATTR_((const))
#endif
#ifndef __NO_RETURN
#define __NO_RETURN MX_COMPILER_ATTR_((noreturn))
#endif
#ifndef __MALLOC
#define __MALLOC MX_COMPILER_ATTR_((malloc))
#endif
#ifndef __WEAK
#define __WEAK MX_COMPILER_ATTR_((weak))
#endif
#ifndef __GNU_INLINE
#define __GNU_INLINE MX_COMPILER_ATTR_((gnu_inline))
#endif
#ifndef __GET_CALLER
#define __GET_CALLER(x) __builtin_return_address(0)
#endif
#ifndef __GET_FRAME
#define __GET_FRAME(x) __builtin_frame_address(0)
#endif
#ifndef __NAKED
#define __NAKED MX_COMPILER_ATTR_((naked))
#endif
#ifndef __ISCONSTANT
#define __ISCONSTANT(x) __builtin_constant_p(x)
#endif
#ifndef __NO_INLINE
#define __NO_INLINE MX_COMPILER_ATTR_((noinline))
#endif
#ifndef __SRAM
#define __SRAM __NO_INLINE __SECTION(".sram.text")
#endif
#ifndef __CONSTRUCTOR
#define __CONSTRUCTOR MX_COMPILER_ATTR_((constructor))
#endif
#ifndef __DESTRUCTOR
#define __DESTRUCTOR MX_COMPILER_ATTR_((destructor))
#endif
#ifndef __OPTIMIZE
#if defined(__GNUC__) && !defined(__clang__)
#define __OPTIMIZE(x) MX_COMPILER_ATTR_((optimize(x)))
#else
#define __OPTIMIZE(x)
#endif
#endif
#ifndef __EXTERNALLY_VISIBLE
#if defined(__GNUC__) && !defined(__clang__)
#define __EXTERNALLY_VISIBLE MX_COMPILER_ATTR_((externally_visible))
#else
#define __EXTERNALLY_VISIBLE
#endif
#endif
#ifndef __THREAD_ANNOTATION
#if defined(__clang__)
#define __THREAD_ANNOTATION(x) __attribute__((x))
#else
#define __THREAD_ANNOTATION(x)
#endif
#endif
#ifndef __NO_SAFESTACK
#if defined(__clang__)
#define __NO_SAFESTACK __attribute__((no_sanitize("safe-stack")))
#else
#define __NO_SAFESTACK
#endif
#endif
#ifndef __ALWAYS_INLINE
#define __ALWAYS_INLINE MX_COMPILER_ATTR_((always_inline))
#endif
#ifndef __MAY_ALIAS
#define __MAY_ALIAS MX_COMPILER_ATTR_((may_alias))
#endif
#ifndef __NONNULL
#define __NONNULL(x) MX_COMPILER_ATTR_((nonnull x))
#endif
#ifndef __WARN_UNUSED_RESULT
#define __WARN_UNUSED_RESULT MX_COMPILER_ATTR_((warn_unused_result))
#endif
#ifndef __UNREACHABLE
#define __UNREACHABLE __builtin_unreachable()
#endif
#ifndef __WEAK_ALIAS
#define __WEAK_ALIAS(x) MX_COMPILER_ATTR_((weak, alias(x)))
#endif
#ifndef __ALIAS
#define __ALIAS(x) MX_COMPILER_ATTR_((alias(x)))
#endif
#ifndef __EXPORT
#define __EXPORT MX_COMPILER_ATTR_((visibility("default")))
#endif
#ifndef __LOCAL
#define __LOCAL MX_COMPILER_ATTR_((visibility("hidden")))
#endif
#ifndef __THREAD
#define __THREAD __thread
#endif
#ifndef __offsetof
#define __offsetof(type, field) __builtin_offsetof(type, field)
#endif

/* Thread-safety annotations (Clang's -Wthread-safety; nothing elsewhere). */
#define __TA_CAPABILITY(x) __THREAD_ANNOTATION(capability(x))
#define __TA_GUARDED(x) __THREAD_ANNOTATION(guarded_by(x))
#define __TA_ACQUIRE(...) __THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define __TA_ACQUIRED_BEFORE(...) __THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define __TA_ACQUIRED_AFTER(...) __THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define __TA_RELEASE(...) __THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define __TA_REQUIRES(...) __THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define __TA_EXCLUDES(...) __THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define __TA_RETURN_CAPABILITY(x) __THREAD_ANNOTATION(lock_returned(x))
#define __TA_SCOPED_CAPABILITY __THREAD_ANNOTATION(scoped_lockable)
#define __TA_NO_THREAD_SAFETY_ANALYSIS __THREAD_ANNOTATION(no_thread_safety_analysis)

#ifndef __DEPRECATED
#define __DEPRECATED MX_COMPILER_ATTR_((deprecated))
#endif

/* A compiler fence: no memory access moves across it. */
#ifndef CF
#define CF do { __asm__ volatile("" ::: "memory"); } while (0)
#endif

#endif /* __ASSEMBLY__ */

/* The number of elements of an array (not of a pointer). */
#ifndef countof
#define countof(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* C linkage for declarations, in C++. */
#ifdef __cplusplus
#define __BEGIN_CDECLS extern "C" {
#define __END_CDECLS }
#else
#define __BEGIN_CDECLS
#define __END_CDECLS
#endif

#endif /* MAGENTA_COMPILER_H_ */
