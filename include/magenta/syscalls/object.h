/*
 * <magenta/syscalls/object.h>: object types, mx_object_get_info topics and
 * records, and mx_object_get_property properties.
 *
 * Every topic, type and record of Magenta is here. This library answers
 * MX_INFO_HANDLE_VALID and MX_INFO_HANDLE_BASIC; a topic of a kind it does
 * not have (MX_INFO_PROCESS, ...) fails as Magenta's would on the handle
 * given (MX_ERR_BAD_HANDLE, MX_ERR_ACCESS_DENIED, then MX_ERR_WRONG_TYPE),
 * and any other topic is MX_ERR_NOT_SUPPORTED.
 */
#ifndef MAGENTA_SYSCALLS_OBJECT_H_
#define MAGENTA_SYSCALLS_OBJECT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <magenta/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- mx_object_get_info topics (each with the record it returns) -------- */

typedef uint32_t mx_object_info_topic_t;
#define MX_INFO_NONE                    0u
/* MX_OK if the handle is live, else MX_ERR_BAD_HANDLE; no buffer used. */
#define MX_INFO_HANDLE_VALID            1u
/* One mx_info_handle_basic_t. */
#define MX_INFO_HANDLE_BASIC            2u
#define MX_INFO_PROCESS                 3u  /* mx_info_process_t[1] */
#define MX_INFO_PROCESS_THREADS         4u  /* mx_koid_t[n] */
#define MX_INFO_VMAR                    7u  /* mx_info_vmar_t[1] */
#define MX_INFO_JOB_CHILDREN            8u  /* mx_koid_t[n] */
#define MX_INFO_JOB_PROCESSES           9u  /* mx_koid_t[n] */
#define MX_INFO_THREAD                  10u /* mx_info_thread_t[1] */
#define MX_INFO_THREAD_EXCEPTION_REPORT 11u /* mx_exception_report_t[1] */
#define MX_INFO_TASK_STATS              12u /* mx_info_task_stats_t[1] */
#define MX_INFO_PROCESS_MAPS            13u /* mx_info_maps_t[n] */
#define MX_INFO_PROCESS_VMOS            14u /* mx_info_vmo_t[n] */
#define MX_INFO_THREAD_STATS            15u /* mx_info_thread_stats_t[1] */
#define MX_INFO_CPU_STATS               16u /* mx_info_cpu_stats_t[n] */
#define MX_INFO_KMEM_STATS              17u /* mx_info_kmem_stats_t[1] */
#define MX_INFO_RESOURCE                18u /* mx_info_resource_t[1] */
#define MX_INFO_LAST                    19u

/* ---- Object types (mx_info_handle_basic_t.type) ------------------------- */

typedef uint32_t mx_obj_type_t;
#define MX_OBJ_TYPE_NONE       ((mx_obj_type_t)0u)
#define MX_OBJ_TYPE_PROCESS    ((mx_obj_type_t)1u)
#define MX_OBJ_TYPE_THREAD     ((mx_obj_type_t)2u)
#define MX_OBJ_TYPE_VMO        ((mx_obj_type_t)3u)
#define MX_OBJ_TYPE_CHANNEL    ((mx_obj_type_t)4u)
#define MX_OBJ_TYPE_EVENT      ((mx_obj_type_t)5u)
#define MX_OBJ_TYPE_PORT       ((mx_obj_type_t)6u)
#define MX_OBJ_TYPE_INTERRUPT  ((mx_obj_type_t)9u)
#define MX_OBJ_TYPE_PCI_DEVICE ((mx_obj_type_t)11u)
#define MX_OBJ_TYPE_LOG        ((mx_obj_type_t)12u)
#define MX_OBJ_TYPE_SOCKET     ((mx_obj_type_t)14u)
#define MX_OBJ_TYPE_RESOURCE   ((mx_obj_type_t)15u)
#define MX_OBJ_TYPE_EVENT_PAIR ((mx_obj_type_t)16u)
#define MX_OBJ_TYPE_JOB        ((mx_obj_type_t)17u)
#define MX_OBJ_TYPE_VMAR       ((mx_obj_type_t)18u)
#define MX_OBJ_TYPE_FIFO       ((mx_obj_type_t)19u)
#define MX_OBJ_TYPE_GUEST      ((mx_obj_type_t)20u)
#define MX_OBJ_TYPE_VCPU       ((mx_obj_type_t)21u)
#define MX_OBJ_TYPE_TIMER      ((mx_obj_type_t)22u)
#define MX_OBJ_TYPE_IOMMU      ((mx_obj_type_t)23u)
#define MX_OBJ_TYPE_LAST       ((mx_obj_type_t)24u)

/* Object properties (mx_info_handle_basic_t.props). */
typedef uint32_t mx_obj_props_t;
#define MX_OBJ_PROP_NONE       ((mx_obj_props_t)0u)
/* The object can be waited on (mx_object_wait_*, mx_object_wait_async). */
#define MX_OBJ_PROP_WAITABLE   ((mx_obj_props_t)1u)

/* ---- Records ------------------------------------------------------------ */

/* The record of MX_INFO_HANDLE_BASIC: 32 bytes. */
typedef struct mx_info_handle_basic {
    mx_koid_t koid;         /* the object's koid */
    mx_rights_t rights;     /* the handle's rights */
    uint32_t type;          /* MX_OBJ_TYPE_* */
    mx_koid_t related_koid; /* the peer's koid (socket, eventpair), else 0 */
    uint32_t props;         /* MX_OBJ_PROP_* */
} mx_info_handle_basic_t;

/* MX_INFO_PROCESS. */
typedef struct mx_info_process {
    int return_code;        /* valid once exited */
    bool started;
    bool exited;
    bool debugger_attached;
} mx_info_process_t;

/* MX_INFO_THREAD. */
typedef struct mx_info_thread {
    uint32_t state;                    /* MX_THREAD_STATE_* */
    uint32_t wait_exception_port_type; /* nonzero while in an exception */
} mx_info_thread_t;

/* MX_INFO_THREAD_STATS. */
typedef struct mx_info_thread_stats {
    mx_time_t total_runtime;
} mx_info_thread_stats_t;

/* MX_INFO_TASK_STATS: memory used by a task. */
typedef struct mx_info_task_stats {
    size_t mem_mapped_bytes;
    size_t mem_private_bytes;
    size_t mem_shared_bytes;
    size_t mem_scaled_shared_bytes;
} mx_info_task_stats_t;

/* MX_INFO_VMAR. */
typedef struct mx_info_vmar {
    uintptr_t base;
    size_t len;
} mx_info_vmar_t;

/* MX_INFO_PROCESS_MAPS: one mapping. */
typedef struct mx_info_maps_mapping {
    uint32_t mmu_flags;     /* MX_VM_FLAG_PERM_* */
    mx_koid_t vmo_koid;
    size_t committed_pages;
} mx_info_maps_mapping_t;

/* The kinds of node of MX_INFO_PROCESS_MAPS. */
typedef enum mx_info_maps_type {
    MX_INFO_MAPS_TYPE_NONE    = 0,
    MX_INFO_MAPS_TYPE_ASPACE  = 1,
    MX_INFO_MAPS_TYPE_VMAR    = 2,
    MX_INFO_MAPS_TYPE_MAPPING = 3,
    MX_INFO_MAPS_TYPE_LAST
} mx_info_maps_type_t;

/* MX_INFO_PROCESS_MAPS: one node of the address-space tree, in depth-first
   pre-order. */
typedef struct mx_info_maps {
    char name[MX_MAX_NAME_LEN];
    mx_vaddr_t base;
    size_t size;
    size_t depth;
    uint32_t type;          /* mx_info_maps_type_t */
    union {
        mx_info_maps_mapping_t mapping;
    } u;
} mx_info_maps_t;

/* Flags of mx_info_vmo_t. */
#define MX_INFO_VMO_TYPE_PAGED    (1u << 0)
#define MX_INFO_VMO_TYPE_PHYSICAL (0u << 0)
#define MX_INFO_VMO_TYPE(flags)   ((flags) & (1u << 0))
#define MX_INFO_VMO_IS_COW_CLONE  (1u << 2)
#define MX_INFO_VMO_VIA_HANDLE    (1u << 3)
#define MX_INFO_VMO_VIA_MAPPING   (1u << 4)

/* MX_INFO_PROCESS_VMOS: one VMO. */
typedef struct mx_info_vmo {
    mx_koid_t koid;
    char name[MX_MAX_NAME_LEN];
    uint64_t size_bytes;
    mx_koid_t parent_koid;
    size_t num_children;
    size_t num_mappings;
    size_t share_count;
    uint32_t flags;         /* MX_INFO_VMO_* */
    uint64_t committed_bytes;
    mx_rights_t handle_rights;
} mx_info_vmo_t;

/* MX_INFO_CPU_STATS: one CPU. */
typedef struct mx_info_cpu_stats {
    uint32_t cpu_number;
    uint32_t flags;         /* MX_INFO_CPU_STATS_FLAG_* */
    mx_time_t idle_time;
    uint64_t reschedules;
    uint64_t context_switches;
    uint64_t irq_preempts;
    uint64_t preempts;
    uint64_t yields;
    uint64_t ints;
    uint64_t timer_ints;
    uint64_t timers;
    uint64_t page_faults;
    uint64_t exceptions;
    uint64_t syscalls;
    uint64_t reschedule_ipis;
    uint64_t generic_ipis;
} mx_info_cpu_stats_t;

#define MX_INFO_CPU_STATS_FLAG_ONLINE (1u << 0)

/* MX_INFO_KMEM_STATS. */
typedef struct mx_info_kmem_stats {
    uint64_t total_bytes;
    uint64_t free_bytes;
    uint64_t wired_bytes;
    uint64_t total_heap_bytes;
    uint64_t free_heap_bytes;
    uint64_t vmo_bytes;
    uint64_t mmu_overhead_bytes;
    uint64_t other_bytes;
} mx_info_kmem_stats_t;

/* MX_INFO_RESOURCE. */
typedef struct mx_info_resource {
    uint32_t kind;
    uint64_t low;           /* inclusive */
    uint64_t high;          /* inclusive */
} mx_info_resource_t;

/* ---- mx_object_get_property / mx_object_set_property -------------------- */

/* Each needs MX_RIGHT_GET_PROPERTY or MX_RIGHT_SET_PROPERTY, which no handle
   of this library's kinds holds: for them both calls end with
   MX_ERR_ACCESS_DENIED. */

/* A thread's number of state kinds (uint32_t). */
#define MX_PROP_NUM_STATE_KINDS           2u
/* An object's name (char[MX_MAX_NAME_LEN]). */
#define MX_PROP_NAME                      3u
#if defined(__x86_64__)
/* The calling thread's fs base (uintptr_t). */
#define MX_PROP_REGISTER_FS               4u
#endif
/* A process's dynamic linker debug address (uintptr_t). */
#define MX_PROP_PROCESS_DEBUG_ADDR        5u
/* Where a process's vDSO is mapped (uintptr_t). */
#define MX_PROP_PROCESS_VDSO_BASE_ADDRESS 6u
/* A job's importance (mx_job_importance_t). */
#define MX_PROP_JOB_IMPORTANCE            7u

typedef int32_t mx_job_importance_t;
#define MX_JOB_IMPORTANCE_INHERITED ((mx_job_importance_t)-1)
#define MX_JOB_IMPORTANCE_MIN       ((mx_job_importance_t)0)
#define MX_JOB_IMPORTANCE_MAX       ((mx_job_importance_t)255)

/* mx_info_thread_t.state. */
#define MX_THREAD_STATE_NEW       0u
#define MX_THREAD_STATE_RUNNING   1u
#define MX_THREAD_STATE_SUSPENDED 2u
#define MX_THREAD_STATE_BLOCKED   3u
#define MX_THREAD_STATE_DYING     4u
#define MX_THREAD_STATE_DEAD      5u

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_SYSCALLS_OBJECT_H_ */
