/*
 * <magenta/errors.h>: status codes (mx_status_t values).
 *
 * Every call that can fail returns MX_OK (0) or one of these negative codes.
 * The values are Magenta's.
 */
#ifndef MAGENTA_ERRORS_H_
#define MAGENTA_ERRORS_H_

/* Success. */
#define MX_OK                   (0)

/* Something went wrong inside the implementation (a bug; the library
   reports the first one on standard error). */
#define MX_ERR_INTERNAL         (-1)
/* The operation is not supported on this object or with these options. */
#define MX_ERR_NOT_SUPPORTED    (-2)
/* A resource other than memory (for example handle slots) ran out. */
#define MX_ERR_NO_RESOURCES     (-3)
/* Memory could not be allocated; the call had no effect. */
#define MX_ERR_NO_MEMORY        (-4)
#define MX_ERR_CALL_FAILED      (-5)
/* An argument is invalid (includes NULL and, in strict pointer mode,
   invalid pointers). */
#define MX_ERR_INVALID_ARGS     (-10)
/* The handle value does not name a live handle of this process. */
#define MX_ERR_BAD_HANDLE       (-11)
/* The handle names an object of the wrong type for this call. */
#define MX_ERR_WRONG_TYPE       (-12)
/* An argument is outside the valid range. */
#define MX_ERR_OUT_OF_RANGE     (-14)
/* The caller's buffer is too small. */
#define MX_ERR_BUFFER_TOO_SMALL (-15)
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
/* The entity is already bound. */
#define MX_ERR_ALREADY_BOUND    (-27)
/* The resource is temporarily unavailable. */
#define MX_ERR_UNAVAILABLE      (-28)
/* The handle lacks a right the call needs. */
#define MX_ERR_ACCESS_DENIED    (-30)

#endif /* MAGENTA_ERRORS_H_ */
