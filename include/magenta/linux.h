/*
 * <magenta/linux.h>: libmagenta's own extension for Linux, not one of
 * Magenta's headers. It says how two Linux processes come to share Magenta
 * objects (SPEC.md section 11):
 *
 *   - mx_linux_channel_from_fd: a channel end over one end of a connected
 *     AF_UNIX SOCK_SEQPACKET socket (from socketpair(2), or accept(2) and
 *     connect(2)); its peer is whoever does the same with the other end.
 *   - mx_linux_spawn: starts a program with handles, which it takes with
 *     Magenta's mx_get_startup_handle (<magenta/process.h>), by the
 *     PA_HND() words of <magenta/processargs.h>.
 *
 * A handle then reaches another process only inside a channel message, or
 * at its start, with the rights it had; it needs MX_RIGHT_TRANSFER. Sockets
 * and channel ends can cross; events, eventpairs and ports cannot. When a
 * process ends, every handle it held is closed.
 *
 * <magenta/syscalls.h> does not include this header: a program includes
 * it itself.
 */
#ifndef MAGENTA_LINUX_H_
#define MAGENTA_LINUX_H_

#include <stdint.h>
#include <sys/types.h>

#include <magenta/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Takes fd, one end of a connected AF_UNIX SOCK_SEQPACKET socket, and
   writes to *out a channel handle (MX_DEFAULT_CHANNEL_RIGHTS) whose peer
   is the channel end made from the socket's other end, in this process or
   another.

   On success the library has taken fd and closed it (the channel works on
   its own copy of the descriptor): the caller must not use or close fd
   again. On any error fd is left open and still the caller's.

   Errors: MX_ERR_INVALID_ARGS for a NULL out (first of all), or an fd that
   is not open, or not a connected AF_UNIX SOCK_SEQPACKET socket;
   MX_ERR_NO_MEMORY, MX_ERR_NO_RESOURCES. */
mx_status_t mx_linux_channel_from_fd(int fd, mx_handle_t* out);

/* Starts the program at path as a new process and moves handles[i] into
   it, where mx_get_startup_handle(infos[i]) takes it once; infos[i] is
   usually PA_HND(PA_USER0, n) (<magenta/processargs.h>).

   - path: a path, as for execve(2): no PATH search.
   - argv: as for execve: a NULL-terminated array whose argv[0] is the name
     the program sees. NULL (or empty): { path }.
   - envp: NULL for the caller's environment; else a NULL-terminated array
     of "NAME=value" strings, which is then the whole environment (entries
     without '=' or with an empty name are skipped; of a name given twice,
     the last counts).
   - handles, infos: count entries each; may be NULL only if count is 0.
     Each handle needs MX_RIGHT_TRANSFER and must be a socket or a channel
     end.
   - pid: if not NULL, receives the child's process id.

   On success the handles are no longer valid in the caller. The library
   does not wait for the child: the caller must reap it (waitpid(2)), as
   after fork(2). The child starts with an empty signal mask and SIGPIPE at
   its default action; it inherits the working directory, the standard
   streams and every descriptor not marked FD_CLOEXEC.

   On any error the handles are untouched and no process is left running
   (one exception: if *pid stops being writable while the call runs, under
   MX_STRICT_POINTERS=1, the child is killed and reaped, the handles it
   held are closed, and the call fails with MX_ERR_INVALID_ARGS).
   Errors, in this order:
   - MX_ERR_INVALID_ARGS: path NULL; count > 0 with handles or infos NULL;
     count > 64; a string longer than 1 MiB, an argv or envp of more than
     65536 strings or 16 MiB; (MX_STRICT_POINTERS=1) memory that cannot be
     read, or a pid that cannot be written; a handle listed twice.
   - MX_ERR_BAD_HANDLE: a handle that is not valid.
   - MX_ERR_ACCESS_DENIED: a handle without MX_RIGHT_TRANSFER.
   - MX_ERR_NOT_SUPPORTED: a handle of a kind that cannot cross (an event,
     an eventpair, a port).
   - MX_ERR_NO_MEMORY, MX_ERR_NO_RESOURCES.
   - The start's: MX_ERR_NOT_FOUND (no such program), MX_ERR_ACCESS_DENIED
     (not executable), MX_ERR_IO (any other failure of the start). */
mx_status_t mx_linux_spawn(const char* path, char* const argv[], char* const envp[],
                           const mx_handle_t* handles, const uint32_t* infos, uint32_t count,
                           pid_t* pid);

#ifdef __cplusplus
}
#endif

#endif /* MAGENTA_LINUX_H_ */
