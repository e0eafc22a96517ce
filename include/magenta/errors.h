/*
 * <magenta/errors.h>: status codes (mx_status_t values).
 *
 * Every call that can fail returns MX_OK (0) or one of these negative codes.
 * The names and values are Magenta's, all of them; the calls of this library
 * return the first group (up to MX_ERR_ACCESS_DENIED) and MX_ERR_CALL_FAILED.
 */
#ifndef MAGENTA_ERRORS_H_
#define MAGENTA_ERRORS_H_

/* Success. */
#define MX_OK                   (0)

/* ---- Failures inside the system ----------------------------------------- */

/* Something went wrong inside the implementation (a bug; the library
   reports the first one on standard error). */
#define MX_ERR_INTERNAL         (-1)
/* The operation is not supported on this object or with these options, or
   the call is one this library does not implement. */
#define MX_ERR_NOT_SUPPORTED    (-2)
/* A resource other than memory (for example handle slots) ran out. */
#define MX_ERR_NO_RESOURCES     (-3)
/* Memory could not be allocated; the call had no effect. */
#define MX_ERR_NO_MEMORY        (-4)
/* The second half of mx_channel_call failed; *read_status says why. */
#define MX_ERR_CALL_FAILED      (-5)
/* Magenta's vDSO retried calls that ended with this; no program sees it. */
#define MX_ERR_INTERNAL_INTR_RETRY (-6)

/* ---- Bad arguments ------------------------------------------------------ */

/* An argument is invalid (includes NULL and, in strict pointer mode,
   invalid pointers). */
#define MX_ERR_INVALID_ARGS     (-10)
/* The handle value does not name a live handle of this process. */
#define MX_ERR_BAD_HANDLE       (-11)
/* The handle names an object of the wrong type for this call. */
#define MX_ERR_WRONG_TYPE       (-12)
/* The system call number is invalid. */
#define MX_ERR_BAD_SYSCALL      (-13)
/* An argument is outside the valid range. */
#define MX_ERR_OUT_OF_RANGE     (-14)
/* The caller's buffer is too small. */
#define MX_ERR_BUFFER_TOO_SMALL (-15)

/* ---- State -------------------------------------------------------------- */

/* The object's state does not allow the operation. */
#define MX_ERR_BAD_STATE        (-20)
/* The deadline passed. */
#define MX_ERR_TIMED_OUT        (-21)
/* Cannot proceed now: wait for a signal, then retry. */
#define MX_ERR_SHOULD_WAIT      (-22)
/* The operation was cancelled (for example its handle was closed). */
#define MX_ERR_CANCELED         (-23)
/* The other end of a peered object is closed. */
#define MX_ERR_PEER_CLOSED      (-24)
/* The requested entity was not found. */
#define MX_ERR_NOT_FOUND        (-25)
/* The entity already exists. */
#define MX_ERR_ALREADY_EXISTS   (-26)
/* The entity is already bound (owned by someone else, for now). */
#define MX_ERR_ALREADY_BOUND    (-27)
/* The resource is temporarily unavailable. */
#define MX_ERR_UNAVAILABLE      (-28)

/* ---- Permissions -------------------------------------------------------- */

/* The handle lacks a right the call needs. */
#define MX_ERR_ACCESS_DENIED    (-30)

/* ---- Input and output --------------------------------------------------- */

/* An input-output error with no more specific code. */
#define MX_ERR_IO               (-40)
/* The device refused the operation. */
#define MX_ERR_IO_REFUSED       (-41)
/* The data failed an integrity check. */
#define MX_ERR_IO_DATA_INTEGRITY (-42)
/* The data is unavailable and may be lost for good. */
#define MX_ERR_IO_DATA_LOSS     (-43)
/* The device is gone (unplugged, powered down, driver unloaded). */
#define MX_ERR_IO_NOT_PRESENT   (-44)
/* The device sent more data than expected. */
#define MX_ERR_IO_OVERRUN       (-45)
/* An operation did not complete in the time it needed to. */
#define MX_ERR_IO_MISSED_DEADLINE (-46)

/* ---- File systems ------------------------------------------------------- */

/* A path name is too long. */
#define MX_ERR_BAD_PATH         (-50)
/* Not a directory. */
#define MX_ERR_NOT_DIR          (-51)
/* Not a regular file. */
#define MX_ERR_NOT_FILE         (-52)
/* A file would grow past the file system's limit. */
#define MX_ERR_FILE_BIG         (-53)
/* No space left on the file system or device. */
#define MX_ERR_NO_SPACE         (-54)
/* The directory is not empty. */
#define MX_ERR_NOT_EMPTY        (-55)

/* ---- Flow control (for callbacks; never returned by a call) ------------- */

/* Do not call again. */
#define MX_ERR_STOP             (-60)
/* Go on to the next item. */
#define MX_ERR_NEXT             (-61)

/* ---- Networking --------------------------------------------------------- */

/* The protocol is not supported. */
#define MX_ERR_PROTOCOL_NOT_SUPPORTED (-70)
/* The host is unreachable. */
#define MX_ERR_ADDRESS_UNREACHABLE (-71)
/* The address is in use. */
#define MX_ERR_ADDRESS_IN_USE   (-72)
/* The socket is not connected. */
#define MX_ERR_NOT_CONNECTED    (-73)
/* The peer refused the connection. */
#define MX_ERR_CONNECTION_REFUSED (-74)
/* The connection was reset. */
#define MX_ERR_CONNECTION_RESET (-75)
/* The connection was aborted. */
#define MX_ERR_CONNECTION_ABORTED (-76)

#endif /* MAGENTA_ERRORS_H_ */
