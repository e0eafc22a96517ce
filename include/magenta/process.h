/*
 * <magenta/process.h>: what a Magenta process gets from its runtime: the
 * handles it was started with, and handles to itself.
 *
 * Here the process is an OS process with no process, address-space or job
 * objects, so the *_self and job calls return MX_HANDLE_INVALID. Startup
 * handles are the ones a parent passed with mx_linux_spawn
 * (<magenta/linux.h>, our extension).
 */
#ifndef MAGENTA_PROCESS_H_
#define MAGENTA_PROCESS_H_

#include <stdint.h>

#include <magenta/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Takes the startup handle whose handle-info word is hnd_info (a PA_HND()
   value of <magenta/processargs.h>): each is returned once, then
   MX_HANDLE_INVALID. An info the parent did not pass, or a process not
   started by mx_linux_spawn, gives MX_HANDLE_INVALID. The first call may
   wait until the parent has sent the handles (it does so as soon as the
   child has started), or until the parent is gone. */
mx_handle_t mx_get_startup_handle(uint32_t hnd_info);

/* The process, its root address region and its default job. */
mx_handle_t mx_process_self(void);
mx_handle_t mx_vmar_root_self(void);
mx_handle_t mx_job_default(void);

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_PROCESS_H_ */
