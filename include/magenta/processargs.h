/*
 * <magenta/processargs.h>: the message a new Magenta process receives, and
 * the handle-info words that say what each startup handle is for.
 *
 * Here a process's startup handles are the ones mx_get_startup_handle
 * (<magenta/process.h>) returns; its argument is a PA_HND() word.
 */
#ifndef MAGENTA_PROCESSARGS_H_
#define MAGENTA_PROCESSARGS_H_

#include <stdint.h>

#include <magenta/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The process-arguments message: its protocol ("MXPA") and version. */
#define MX_PROCARGS_PROTOCOL 0x4150585d
#define MX_PROCARGS_VERSION  0x0001000

typedef struct mx_proc_args mx_proc_args_t;

/* The header of the message; the offsets count from its start. */
struct mx_proc_args {
    uint32_t protocol;        /* MX_PROCARGS_PROTOCOL */
    uint32_t version;         /* MX_PROCARGS_VERSION */
    uint32_t handle_info_off; /* one uint32_t (PA_HND) per handle */
    uint32_t args_off;        /* NUL-terminated UTF-8 strings */
    uint32_t args_num;
    uint32_t environ_off;     /* "NAME=VALUE" strings */
    uint32_t environ_num;
    uint32_t names_off;       /* namespace paths, for PA_NS_* handles */
    uint32_t names_num;
};

/* A handle-info word: the handle's type in the low byte, an argument in the
   high 16 bits. */
#define PA_HND(type, arg) (((type) & 0xFF) | (((arg) & 0xFFFF) << 16))
#define PA_HND_TYPE(n)    ((n) & 0xFF)
#define PA_HND_SUBTYPE(n) (((n) >> 8) & 0xFF)
#define PA_HND_ARG(n)     (((n) >> 16) & 0xFFFF)

/* Core runtime handles. */
#define PA_PROC_SELF       0x01 /* the process itself */
#define PA_THREAD_SELF     0x02 /* its initial thread */
#define PA_JOB_DEFAULT     0x03 /* the job to make child processes in */
#define PA_VMAR_ROOT       0x04 /* the root of its address space */
#define PA_VMAR_LOADED     0x05 /* the region its image was loaded into */

/* Loader service and VMOs. */
#define PA_SVC_LOADER      0x10 /* channel to the dynamic loader service */
#define PA_VMO_VDSO        0x11 /* the vDSO's ELF image */
#define PA_VMO_STACK       0x13 /* the initial thread's stack */
#define PA_VMO_EXECUTABLE  0x14 /* the main executable */
#define PA_VMO_BOOTDATA    0x1A /* startup data (kernel, userboot) */
#define PA_VMO_BOOTFS      0x1B /* the boot file system (kernel, userboot) */

/* Namespaces: a directory for the path named by the argument. */
#define PA_NS_DIR          0x20

/* The mxio library's handles. */
#define PA_MXIO_ROOT       0x30
#define PA_MXIO_CWD        0x31
#define PA_MXIO_REMOTE     0x32
#define PA_MXIO_PIPE       0x33
#define PA_MXIO_EVENT      0x34
#define PA_MXIO_LOGGER     0x35
#define PA_MXIO_SOCKET     0x36

/* Services: the client end of "/svc", and the server end of its requests. */
#define PA_SERVICE_ROOT    0x3A
#define PA_SERVICE_REQUEST 0x3B

/* Device manager and device hosts. */
#define PA_RESOURCE        0x3F

/* The application model. */
#define PA_APP_LAUNCHER    0x41
#define PA_APP_SERVICES    0x43

/* For programs' own use. */
#define PA_USER0           0xF0
#define PA_USER1           0xF1
#define PA_USER2           0xF2

/* A message of the dynamic loader service protocol: 20 bytes and the
   data. */
typedef struct mx_loader_svc_msg mx_loader_svc_msg_t;
struct mx_loader_svc_msg {
    mx_txid_t txid;
    uint32_t opcode;          /* LOADER_SVC_OP_* */
    int32_t arg;
    uint32_t reserved0;
    uint32_t reserved1;
    __extension__ uint8_t data[]; /* the data (a flexible array member) */
};

#define LOADER_SVC_OP_STATUS             0 /* reply; arg = status */
#define LOADER_SVC_OP_DONE               1 /* shut the service down */
#define LOADER_SVC_OP_LOAD_OBJECT        2 /* data = name; reply has a VMO */
#define LOADER_SVC_OP_DEBUG_PRINT        3 /* data = text */
#define LOADER_SVC_OP_LOAD_SCRIPT_INTERP 4 /* data = name; reply has a VMO */

/* Older names, still used by some programs. */
#define MX_HND_INFO(type, arg)  (((type) & 0xFF) | (((arg) & 0xFFFF) << 16))
#define MX_HND_INFO_TYPE(n)     ((n) & 0xFF)
#define MX_HND_TYPE_USER1       PA_USER1
#define MX_HND_TYPE_MXIO_PIPE   PA_MXIO_PIPE
#define MX_HND_TYPE_JOB         PA_JOB_DEFAULT
#define MX_HND_TYPE_MXIO_ROOT   PA_MXIO_ROOT
#define MX_HND_TYPE_MXIO_LOGGER PA_MXIO_LOGGER

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_PROCESSARGS_H_ */
