/*
 * <magenta/syscalls/object.h>: object types and mx_object_get_info.
 */
#ifndef MAGENTA_SYSCALLS_OBJECT_H_
#define MAGENTA_SYSCALLS_OBJECT_H_

#include <stdint.h>

#include <magenta/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* mx_object_get_info topics. */
#define MX_INFO_NONE          0u
/* MX_OK if the handle is live, else MX_ERR_BAD_HANDLE; no buffer used. */
#define MX_INFO_HANDLE_VALID  1u
/* One mx_info_handle_basic_t. */
#define MX_INFO_HANDLE_BASIC  2u

/* Object types (mx_info_handle_basic_t.type). */
typedef uint32_t mx_obj_type_t;
#define MX_OBJ_TYPE_NONE       ((mx_obj_type_t)0u)
#define MX_OBJ_TYPE_CHANNEL    ((mx_obj_type_t)4u)
#define MX_OBJ_TYPE_EVENT      ((mx_obj_type_t)5u)
#define MX_OBJ_TYPE_PORT       ((mx_obj_type_t)6u)
#define MX_OBJ_TYPE_SOCKET     ((mx_obj_type_t)14u)
#define MX_OBJ_TYPE_EVENT_PAIR ((mx_obj_type_t)16u)

/* Object properties (mx_info_handle_basic_t.props). */
typedef uint32_t mx_obj_props_t;
#define MX_OBJ_PROP_NONE       ((mx_obj_props_t)0u)
/* The object can be waited on (mx_object_wait_*, mx_object_wait_async). */
#define MX_OBJ_PROP_WAITABLE   ((mx_obj_props_t)1u)

/* The record of MX_INFO_HANDLE_BASIC: 32 bytes. */
typedef struct mx_info_handle_basic {
    mx_koid_t koid;         /* the object's koid */
    mx_rights_t rights;     /* the handle's rights */
    uint32_t type;          /* MX_OBJ_TYPE_* */
    mx_koid_t related_koid; /* the peer's koid (socket, eventpair), else 0 */
    uint32_t props;         /* MX_OBJ_PROP_* */
} mx_info_handle_basic_t;

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_SYSCALLS_OBJECT_H_ */
