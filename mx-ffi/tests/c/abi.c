/*
 * The headers against the Rust definitions. Built as C11 (abi.c) and as
 * C++17 (the same file copied to abi.cc) by tests/abi.rs, which generates
 * "expected.h" from the Rust side: one line per constant, typedef, size,
 * field and prototype. Each line becomes compile-time assertions here, and
 * the same checks run again at run time to count them.
 */
#include <magenta/syscalls.h>
#include <magenta/linux.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
#include <type_traits>
#define STATIC_ASSERT(cond, what) static_assert(cond, what)
#define SAME_TYPE(expr, type) (std::is_same<decltype(expr), type>::value)
#define ALIGNOF(type) alignof(type)
#define PROTOTYPE_OK(name, ...) (std::is_same<decltype(&name), __VA_ARGS__>::value)
#else
#define STATIC_ASSERT(cond, what) _Static_assert(cond, what)
#define SAME_TYPE(expr, type) _Generic((expr), type: 1, default: 0)
#define ALIGNOF(type) _Alignof(type)
#define PROTOTYPE_OK(name, ...) _Generic((&name), __VA_ARGS__: 1, default: 0)
#endif

#define FIELD_SIZE(type, field) sizeof(((type*)0)->field)

/* ---- At compile time ---------------------------------------------------- */

#define CONSTANT(name, value, type)                                    \
    STATIC_ASSERT((name) == (value), #name " has the Rust value");     \
    STATIC_ASSERT(SAME_TYPE((name), type), #name " has type " #type);
#define TYPEDEF(name, type) \
    STATIC_ASSERT(SAME_TYPE((name)0, type), #name " is " #type);
#define SIZE(type, size, align)                                        \
    STATIC_ASSERT(sizeof(type) == (size), "sizeof(" #type ")");        \
    STATIC_ASSERT(ALIGNOF(type) == (align), "alignof(" #type ")");
#define SIZE_ONLY(type, size) STATIC_ASSERT(sizeof(type) == (size), "sizeof(" #type ")");
#define FIELD(type, field, offset, size)                                   \
    STATIC_ASSERT(offsetof(type, field) == (offset), #type "." #field);    \
    STATIC_ASSERT(FIELD_SIZE(type, field) == (size), #type "." #field " size");
#define PROTOTYPE(name, ...) \
    STATIC_ASSERT(PROTOTYPE_OK(name, __VA_ARGS__), #name " has the Rust prototype");

#include "expected.h"

#undef CONSTANT
#undef TYPEDEF
#undef SIZE
#undef SIZE_ONLY
#undef FIELD
#undef PROTOTYPE

/* ---- At run time, counted ----------------------------------------------- */

static unsigned failures;

static void check(int ok, const char* what) {
    if (!ok) {
        printf("FAILED: %s\n", what);
        failures++;
    }
}

int main(void) {
    unsigned constants = 0, layouts = 0, prototypes = 0;

#define CONSTANT(name, value, type) \
    check((name) == (value) && SAME_TYPE((name), type), #name); constants++;
#define TYPEDEF(name, type) check(SAME_TYPE((name)0, type), #name); layouts++;
#define SIZE(type, size, align) \
    check(sizeof(type) == (size) && ALIGNOF(type) == (align), #type); layouts++;
#define SIZE_ONLY(type, size) check(sizeof(type) == (size), #type); layouts++;
#define FIELD(type, field, offset, size)                               \
    check(offsetof(type, field) == (offset) &&                         \
          FIELD_SIZE(type, field) == (size), #type "." #field);        \
    layouts++;
#define PROTOTYPE(name, ...) check(PROTOTYPE_OK(name, __VA_ARGS__), #name); prototypes++;

#include "expected.h"

    printf("%u constants, %u layout checks, %u prototypes\n", constants, layouts, prototypes);
    return failures == 0 ? 0 : 1;
}
