/*
 * Channels from C (SPEC 10): what C reaches differently from Rust. NULL
 * pointers are checked at the step SPEC gives them; *actual_bytes,
 * *actual_handles and *read_status are written, or left untouched, exactly
 * as SPEC says; mx_channel_call takes its messages through
 * mx_channel_call_args_t; and every listed handle stays with the caller
 * whenever a write or the write phase of a call fails.
 *
 * Built and run by tests/c.rs, normally and with MX_STRICT_POINTERS=1. In
 * strict mode the tests of invalid non-NULL pointers run too (without it
 * such a pointer is undefined behaviour, as in any C library).
 */
#define _GNU_SOURCE

#include <magenta/syscalls.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

/* A value that is no handle. */
#define BOGUS ((mx_handle_t)0x7ffffff0)

/* What out-parameters hold before a call that must not write them. */
#define UNTOUCHED_U32 0x5a5a5a5au
#define UNTOUCHED_STATUS ((mx_status_t)0x5a5a5a5a)
#define UNTOUCHED_HANDLE ((mx_handle_t)0x5a5a5a5a)

#define NEW_END (MX_CHANNEL_WRITABLE | MX_SIGNAL_LAST_HANDLE)

/* ---- Helpers ------------------------------------------------------------ */

static mx_time_t seconds_from_now(unsigned s) {
    return mx_deadline_after(MX_SEC(s));
}

static mx_handle_t new_event(void) {
    mx_handle_t h = MX_HANDLE_INVALID;
    if (mx_event_create(0, &h) != MX_OK) {
        return MX_HANDLE_INVALID;
    }
    return h;
}

static mx_handle_t with_rights(mx_handle_t h, mx_rights_t rights) {
    mx_handle_t out = MX_HANDLE_INVALID;
    if (mx_handle_duplicate(h, rights, &out) != MX_OK) {
        return MX_HANDLE_INVALID;
    }
    return out;
}

static int info_of(mx_handle_t h, mx_info_handle_basic_t* info) {
    memset(info, 0xa5, sizeof *info);
    return mx_object_get_info(h, MX_INFO_HANDLE_BASIC, info, sizeof *info, NULL, NULL) ==
           MX_OK;
}

static mx_koid_t koid_of(mx_handle_t h) {
    mx_info_handle_basic_t info;
    return info_of(h, &info) ? info.koid : 0;
}

/* A handle as it was: to check that a failed call left it unchanged. */
struct held {
    mx_handle_t value;
    mx_koid_t koid;
    mx_rights_t rights;
    mx_signals_t last_handle;
};

static struct held held_now(mx_handle_t h) {
    struct held held;
    mx_info_handle_basic_t info;
    held.value = h;
    held.koid = info_of(h, &info) ? info.koid : 0;
    held.rights = info.rights;
    held.last_handle = signals_of(h) & MX_SIGNAL_LAST_HANDLE;
    return held;
}

/* Whether h is still in the table, naming the same object with the same
   rights, and its object shows LAST_HANDLE as before (a failed call must
   not even change a handle count). */
static int still_held(struct held held) {
    mx_info_handle_basic_t info;
    return info_of(held.value, &info) && info.koid == held.koid &&
           info.rights == held.rights &&
           (signals_of(held.value) & MX_SIGNAL_LAST_HANDLE) == held.last_handle;
}

static int gone(mx_handle_t h) {
    return mx_object_get_info(h, MX_INFO_HANDLE_VALID, NULL, 0, NULL, NULL) ==
           MX_ERR_BAD_HANDLE;
}

/* Whether h shows any of `signals` within seconds (a close through a
   message is as if by mx_handle_close; waiting makes no assumption about
   when it lands). */
static int shows_soon(mx_handle_t h, mx_signals_t signals) {
    return mx_object_wait_one(h, signals, seconds_from_now(10), NULL) == MX_OK;
}

/* Whether nothing is queued at h (its peer open). */
static int nothing_queued(mx_handle_t h) {
    uint32_t actual_bytes = UNTOUCHED_U32;
    return mx_channel_read(h, 0, NULL, NULL, 0, 0, &actual_bytes, NULL) ==
               MX_ERR_SHOULD_WAIT &&
           actual_bytes == UNTOUCHED_U32;
}

/* Writes txid into the first four bytes of buf (native byte order). */
static void put_txid(uint8_t* buf, mx_txid_t txid) {
    memcpy(buf, &txid, sizeof txid);
}

/* A thread that answers one request arriving at `handle`: it waits for
   it, reads it (closing any handles in it), and writes back `reply`, with
   the request's txid in its first four bytes when both have four, and
   with `reply_handles`. */
struct server {
    pthread_t thread;
    mx_handle_t handle;
    uint8_t reply[256];
    uint32_t reply_bytes;
    mx_handle_t reply_handles[4];
    uint32_t reply_num_handles;
    uint8_t request[256];
    uint32_t request_bytes;
    mx_status_t status;
};

static void* server_main(void* arg) {
    struct server* s = (struct server*)arg;
    mx_handle_t handles[MX_CHANNEL_MAX_MSG_HANDLES];
    uint32_t num_handles = 0;
    s->status = mx_object_wait_one(s->handle, MX_CHANNEL_READABLE, seconds_from_now(10), NULL);
    if (s->status != MX_OK) {
        return NULL;
    }
    s->status = mx_channel_read(s->handle, 0, s->request, handles, sizeof s->request,
                                MX_CHANNEL_MAX_MSG_HANDLES, &s->request_bytes, &num_handles);
    if (s->status != MX_OK) {
        return NULL;
    }
    for (uint32_t i = 0; i < num_handles; i++) {
        mx_handle_close(handles[i]);
    }
    if (s->request_bytes >= 4 && s->reply_bytes >= 4) {
        memcpy(s->reply, s->request, 4);
    }
    s->status = mx_channel_write(s->handle, 0, s->reply, s->reply_bytes, s->reply_handles,
                                 s->reply_num_handles);
    return NULL;
}

static int start_server(struct server* s, mx_handle_t h, const char* reply,
                        const mx_handle_t* handles, uint32_t num_handles) {
    memset(s, 0, sizeof *s);
    s->handle = h;
    s->reply_bytes = (uint32_t)strlen(reply);
    memcpy(s->reply, reply, s->reply_bytes);
    memcpy(s->reply_handles, handles, num_handles * sizeof *handles);
    s->reply_num_handles = num_handles;
    s->status = 1;
    return pthread_create(&s->thread, NULL, server_main, s) == 0;
}

static mx_status_t join_server(struct server* s) {
    pthread_join(s->thread, NULL);
    return s->status;
}

/* A thread in mx_channel_call. */
struct caller {
    pthread_t thread;
    mx_handle_t handle;
    uint8_t request[8];
    mx_handle_t send;
    uint8_t reply[64];
    uint32_t actual_bytes, actual_handles;
    mx_status_t read_status;
    mx_status_t status;
};

static void* caller_main(void* arg) {
    struct caller* c = (struct caller*)arg;
    mx_channel_call_args_t args = {
        .wr_bytes = c->request,
        .wr_handles = &c->send,
        .rd_bytes = c->reply,
        .rd_handles = NULL,
        .wr_num_bytes = sizeof c->request,
        .wr_num_handles = c->send != MX_HANDLE_INVALID ? 1 : 0,
        .rd_num_bytes = sizeof c->reply,
        .rd_num_handles = 0,
    };
    c->status = mx_channel_call(c->handle, 0, seconds_from_now(10), &args, &c->actual_bytes,
                                &c->actual_handles, &c->read_status);
    return NULL;
}

static int start_caller(struct caller* c, mx_handle_t h, mx_txid_t txid, mx_handle_t send) {
    memset(c, 0, sizeof *c);
    c->handle = h;
    put_txid(c->request, txid);
    c->send = send;
    c->actual_bytes = UNTOUCHED_U32;
    c->actual_handles = UNTOUCHED_U32;
    c->read_status = UNTOUCHED_STATUS;
    c->status = 1;
    return pthread_create(&c->thread, NULL, caller_main, c) == 0;
}

static mx_status_t join_caller(struct caller* c) {
    pthread_join(c->thread, NULL);
    return c->status;
}

/* ---- mx_channel_call_args_t ---------------------------------------------- */

TEST(call_args_have_magentas_layout) {
    EXPECT_EQ(offsetof(mx_channel_call_args_t, wr_bytes), 0);
    EXPECT_EQ(offsetof(mx_channel_call_args_t, wr_handles), sizeof(void*));
    EXPECT_EQ(offsetof(mx_channel_call_args_t, rd_bytes), 2 * sizeof(void*));
    EXPECT_EQ(offsetof(mx_channel_call_args_t, rd_handles), 3 * sizeof(void*));
    EXPECT_EQ(offsetof(mx_channel_call_args_t, wr_num_bytes), 4 * sizeof(void*));
    EXPECT_EQ(offsetof(mx_channel_call_args_t, rd_num_handles), 4 * sizeof(void*) + 12);
    if (sizeof(void*) == 8) {
        EXPECT_EQ(sizeof(mx_channel_call_args_t), 48);
    }
    EXPECT_EQ(sizeof(mx_txid_t), 4);
    EXPECT_EQ(MX_ERR_CALL_FAILED, -5);
    EXPECT_EQ(MX_CHANNEL_MAX_MSG_BYTES, 65536);
    EXPECT_EQ(MX_CHANNEL_MAX_MSG_HANDLES, 64);
    EXPECT_EQ(MX_CHANNEL_READ_MAY_DISCARD, 1);
    EXPECT_EQ(MX_OBJ_TYPE_CHANNEL, 4);
}

/* ---- mx_channel_create -------------------------------------------------- */

TEST(channel_create_checks_options_and_outputs) {
    mx_handle_t a = UNTOUCHED_HANDLE, b = UNTOUCHED_HANDLE;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_create(1, &a, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_create(0xffffffffu, &a, &b));
    EXPECT_EQ(a, UNTOUCHED_HANDLE);
    EXPECT_EQ(b, UNTOUCHED_HANDLE);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_create(0, NULL, &b));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_create(0, &a, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_create(0, NULL, NULL));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_create(1, NULL, NULL));
    EXPECT_EQ(a, UNTOUCHED_HANDLE);
    EXPECT_EQ(b, UNTOUCHED_HANDLE);
}

TEST(channel_create_makes_two_peered_ends) {
    mx_handle_t a, b;
    mx_info_handle_basic_t ia, ib;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    EXPECT(a > 0 && b > 0 && a != b);
    EXPECT_SIGNALS(a, NEW_END);
    EXPECT_SIGNALS(b, NEW_END);
    EXPECT(info_of(a, &ia) && info_of(b, &ib));
    EXPECT_EQ(ia.type, MX_OBJ_TYPE_CHANNEL);
    EXPECT_EQ(ia.rights, MX_DEFAULT_CHANNEL_RIGHTS);
    EXPECT_EQ(ib.rights, MX_DEFAULT_CHANNEL_RIGHTS);
    EXPECT_EQ(MX_DEFAULT_CHANNEL_RIGHTS, MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_WRITE |
                                             MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER);
    EXPECT_EQ(ia.props, MX_OBJ_PROP_WAITABLE);
    EXPECT(ia.koid >= 1024);
    EXPECT_EQ(ib.koid, ia.koid + 1);
    EXPECT_EQ(ia.related_koid, ib.koid);
    EXPECT_EQ(ib.related_koid, ia.koid);
    mx_handle_t out = UNTOUCHED_HANDLE;
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_handle_duplicate(a, MX_RIGHT_SAME_RIGHTS, &out));
    EXPECT_EQ(out, UNTOUCHED_HANDLE);
    EXPECT_OK(mx_handle_close(b));
    EXPECT_SIGNALS(a, MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    EXPECT(info_of(a, &ia));
    EXPECT_EQ(ia.related_koid, ib.koid);
    EXPECT_OK(mx_handle_close(a));
}

/* ---- mx_channel_write --------------------------------------------------- */

TEST(channel_write_checks_null_buffers_at_their_step) {
    mx_handle_t a, b, ev = new_event(), other = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    /* b may read but not write. */
    EXPECT_OK(mx_handle_replace(b, MX_RIGHT_READ, &b));
    struct held kept = held_now(ev);
    /* 1. options, before the handle and the buffers. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(BOGUS, 1, NULL, 5, NULL, 1));
    /* 2. the handle, before the NULL checks. */
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_channel_write(BOGUS, 0, NULL, 5, NULL, 1));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_channel_write(b, 0, NULL, 5, NULL, 1));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, mx_channel_write(other, 0, NULL, 5, NULL, 1));
    /* 3. the limits, before any pointer is looked at. */
    EXPECT_STATUS(MX_ERR_OUT_OF_RANGE,
                  mx_channel_write(a, 0, NULL, MX_CHANNEL_MAX_MSG_BYTES + 1, NULL, 0));
    EXPECT_STATUS(MX_ERR_OUT_OF_RANGE,
                  mx_channel_write(a, 0, NULL, 0, NULL, MX_CHANNEL_MAX_MSG_HANDLES + 1));
    EXPECT_STATUS(MX_ERR_OUT_OF_RANGE, mx_channel_write(a, 0, NULL, 0xffffffffu, NULL, 0));
    /* 4. NULL bytes, then NULL handles, each with a count. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, NULL, 1, &ev, 1));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, "abc", 3, NULL, 1));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, NULL, 3, NULL, 1));
    EXPECT(still_held(kept));
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(b));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(other));
    EXPECT_OK(mx_handle_close(ev));
}

TEST(channel_write_takes_null_with_zero_counts) {
    mx_handle_t a, b;
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    EXPECT_OK(mx_channel_write(a, 0, NULL, 0, NULL, 0));
    EXPECT_SIGNALS(b, MX_CHANNEL_READABLE | NEW_END);
    EXPECT_OK(mx_channel_read(b, 0, NULL, NULL, 0, 0, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 0);
    EXPECT_EQ(actual_handles, 0);
    EXPECT_SIGNALS(b, NEW_END);
    /* NULL bytes with handles, NULL handles with bytes. */
    mx_handle_t ev = new_event();
    mx_koid_t koid = koid_of(ev);
    mx_handle_t got = MX_HANDLE_INVALID;
    EXPECT_OK(mx_channel_write(a, 0, NULL, 0, &ev, 1));
    EXPECT(gone(ev));
    EXPECT_OK(mx_channel_write(a, 0, "xyz", 3, NULL, 0));
    EXPECT_OK(mx_channel_read(b, 0, NULL, &got, 0, 1, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 0);
    EXPECT_EQ(actual_handles, 1);
    EXPECT_EQ(koid_of(got), koid);
    char buf[3];
    EXPECT_OK(mx_channel_read(b, 0, buf, NULL, 3, 0, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 3);
    EXPECT_EQ(actual_handles, 0);
    EXPECT(memcmp(buf, "xyz", 3) == 0);
    EXPECT_OK(mx_handle_close(got));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_write_failures_keep_every_handle) {
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t ev = new_event();
    mx_handle_t no_transfer = with_rights(ev, MX_RIGHT_READ);
    struct held kept[3] = {held_now(ev), held_now(no_transfer), held_now(a)};
    mx_handle_t twice_then_bad[3] = {ev, ev, BOGUS};
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_channel_write(a, 0, "m", 1, twice_then_bad, 3));
    mx_handle_t twice[2] = {ev, ev};
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, "m", 1, twice, 2));
    mx_handle_t self[2] = {ev, a};
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, mx_channel_write(a, 0, "m", 1, self, 2));
    mx_handle_t denied[2] = {ev, no_transfer};
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, mx_channel_write(a, 0, "m", 1, denied, 2));
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(b));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_channel_write(a, 0, "m", 1, &ev, 1));
    /* Unlike later Zircon, a failed write closes nothing. */
    for (int i = 0; i < 3; i++) {
        EXPECT(still_held(kept[i]));
    }
    EXPECT_OK(mx_object_signal(ev, 0, MX_EVENT_SIGNALED));
    EXPECT_OK(mx_handle_close(no_transfer));
    EXPECT_SIGNALS(ev, MX_EVENT_SIGNALED | MX_SIGNAL_LAST_HANDLE);
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
}

TEST(channel_write_moves_the_handles_on_success) {
    mx_handle_t a, b, got[2];
    uint32_t actual_bytes, actual_handles;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t ev = new_event();
    mx_handle_t weak = with_rights(ev, MX_RIGHT_TRANSFER | MX_RIGHT_READ);
    mx_handle_t list[2] = {weak, ev};
    mx_koid_t koid = koid_of(ev);
    EXPECT_OK(mx_channel_write(a, 0, "two", 3, list, 2));
    EXPECT(gone(ev) && gone(weak));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, mx_handle_close(ev));
    char buf[3];
    EXPECT_OK(mx_channel_read(b, 0, buf, got, 3, 2, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 3);
    EXPECT_EQ(actual_handles, 2);
    EXPECT(memcmp(buf, "two", 3) == 0);
    mx_info_handle_basic_t info;
    EXPECT(info_of(got[0], &info));
    EXPECT_EQ(info.koid, koid);
    EXPECT_EQ(info.rights, MX_RIGHT_TRANSFER | MX_RIGHT_READ);
    EXPECT(info_of(got[1], &info));
    EXPECT_EQ(info.koid, koid);
    EXPECT_EQ(info.rights, MX_DEFAULT_EVENT_RIGHTS);
    EXPECT_OK(mx_handle_close(got[0]));
    EXPECT_OK(mx_handle_close(got[1]));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_write_checks_null_buffers_before_the_peer) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    EXPECT_OK(mx_handle_close(b));
    struct held kept = held_now(ev);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, NULL, 1, &ev, 1));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, "x", 1, NULL, 1));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_channel_write(a, 0, NULL, 0, NULL, 0));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, mx_channel_write(a, 0, "x", 1, &ev, 1));
    EXPECT(still_held(kept));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
}

/* ---- mx_channel_read ---------------------------------------------------- */

TEST(channel_read_early_failures_write_no_counts) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    char buf[16];
    mx_handle_t handles[2];
    mx_handle_t write_only;
    EXPECT_OK(mx_handle_replace(a, MX_RIGHT_WRITE, &write_only));
    a = write_only;
    EXPECT_OK(mx_channel_write(b, 0, "for a", 5, NULL, 0));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE,
                  mx_channel_read(BOGUS, 0, buf, handles, 16, 2, &actual_bytes, &actual_handles));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED,
                  mx_channel_read(a, 0, buf, handles, 16, 2, &actual_bytes, &actual_handles));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE,
                  mx_channel_read(ev, 0, buf, handles, 16, 2, &actual_bytes, &actual_handles));
    /* Options after the handle checks, as NOT_SUPPORTED. */
    EXPECT_STATUS(MX_ERR_BAD_HANDLE,
                  mx_channel_read(BOGUS, 2, buf, handles, 16, 2, &actual_bytes, &actual_handles));
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED,
                  mx_channel_read(b, 2, buf, handles, 16, 2, &actual_bytes, &actual_handles));
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT,
                  mx_channel_read(b, 0, buf, handles, 16, 2, &actual_bytes, &actual_handles));
    EXPECT_STATUS(MX_ERR_SHOULD_WAIT, mx_channel_read(b, MX_CHANNEL_READ_MAY_DISCARD, NULL,
                                                      NULL, 0, 0, &actual_bytes,
                                                      &actual_handles));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED,
                  mx_channel_read(b, 0, buf, handles, 16, 2, &actual_bytes, &actual_handles));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED,
                  mx_channel_read(b, 0, NULL, NULL, 0, 0, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, UNTOUCHED_U32);
    EXPECT_EQ(actual_handles, UNTOUCHED_U32);
    EXPECT_OK(mx_handle_close(b));
    EXPECT_OK(mx_handle_close(ev));
}

TEST(channel_read_buffer_too_small_writes_each_count_given) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dup = with_rights(ev, MX_RIGHT_SAME_RIGHTS);
    EXPECT_OK(mx_channel_write(a, 0, "seven b", 7, &dup, 1));
    char buf[16];
    mx_handle_t got = MX_HANDLE_INVALID;
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL,
                  mx_channel_read(b, 0, buf, &got, 6, 1, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 7);
    EXPECT_EQ(actual_handles, 1);
    actual_bytes = actual_handles = UNTOUCHED_U32;
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL,
                  mx_channel_read(b, 0, buf, &got, 16, 0, &actual_bytes, NULL));
    EXPECT_EQ(actual_bytes, 7);
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL,
                  mx_channel_read(b, 0, NULL, NULL, 0, 0, NULL, &actual_handles));
    EXPECT_EQ(actual_handles, 1);
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL, mx_channel_read(b, 0, NULL, NULL, 0, 0, NULL, NULL));
    EXPECT_EQ(got, MX_HANDLE_INVALID);
    /* The message stays first and whole, its handle inside it. */
    EXPECT_SIGNALS(b, MX_CHANNEL_READABLE | NEW_END);
    EXPECT_SIGNALS(ev, 0);
    EXPECT_OK(mx_channel_read(b, 0, buf, &got, 7, 1, &actual_bytes, &actual_handles));
    EXPECT(memcmp(buf, "seven b", 7) == 0);
    EXPECT_EQ(koid_of(got), koid_of(ev));
    EXPECT_OK(mx_handle_close(got));
    EXPECT_SIGNALS(ev, MX_SIGNAL_LAST_HANDLE);
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_read_may_discard_destroys_what_does_not_fit) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dup = with_rights(ev, MX_RIGHT_SAME_RIGHTS);
    EXPECT_OK(mx_channel_write(a, 0, "too long", 8, &dup, 1));
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL,
                  mx_channel_read(b, MX_CHANNEL_READ_MAY_DISCARD, NULL, NULL, 0, 0,
                                  &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 8);
    EXPECT_EQ(actual_handles, 1);
    /* Gone, its handle closed. */
    EXPECT_SIGNALS(ev, MX_SIGNAL_LAST_HANDLE);
    EXPECT_SIGNALS(b, NEW_END);
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_read_null_bytes_for_a_message_with_bytes) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dup = with_rights(ev, MX_RIGHT_SAME_RIGHTS);
    EXPECT_OK(mx_channel_write(a, 0, "lost!", 5, &dup, 1));
    mx_handle_t got = UNTOUCHED_HANDLE;
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_channel_read(b, 0, NULL, &got, 100, 1, &actual_bytes, &actual_handles));
    /* The counts were written before the copy; the message is consumed and
       its handles closed. */
    EXPECT_EQ(actual_bytes, 5);
    EXPECT_EQ(actual_handles, 1);
    EXPECT_EQ(got, UNTOUCHED_HANDLE);
    EXPECT_SIGNALS(ev, MX_SIGNAL_LAST_HANDLE);
    EXPECT_SIGNALS(b, NEW_END);
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_read_null_handles_for_a_message_with_handles) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dups[2] = {with_rights(ev, MX_RIGHT_SAME_RIGHTS),
                           with_rights(ev, MX_RIGHT_SAME_RIGHTS)};
    EXPECT_OK(mx_channel_write(a, 0, "abc", 3, dups, 2));
    EXPECT_OK(mx_channel_write(a, 0, "next", 4, NULL, 0));
    char buf[8];
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_channel_read(b, 0, buf, NULL, 8, 2, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 3);
    EXPECT_EQ(actual_handles, 2);
    EXPECT_SIGNALS(ev, MX_SIGNAL_LAST_HANDLE);
    /* The next message is first now. */
    EXPECT_SIGNALS(b, MX_CHANNEL_READABLE | NEW_END);
    EXPECT_OK(mx_channel_read(b, 0, buf, NULL, 8, 0, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 4);
    EXPECT(memcmp(buf, "next", 4) == 0);
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_read_of_an_empty_message_needs_no_pointers) {
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    EXPECT_OK(mx_channel_write(a, 0, NULL, 0, NULL, 0));
    EXPECT_OK(mx_channel_read(b, 0, NULL, NULL, 0, 0, NULL, NULL));
    EXPECT_SIGNALS(b, NEW_END);
    /* NULL buffers with room, for parts the message does not have. */
    EXPECT_OK(mx_channel_write(a, 0, NULL, 0, NULL, 0));
    EXPECT_OK(mx_channel_read(b, 0, NULL, NULL, 64, 4, NULL, NULL));
    /* NULL counts are simply not written. */
    char buf[4];
    EXPECT_OK(mx_channel_write(a, 0, "abcd", 4, NULL, 0));
    EXPECT_OK(mx_channel_read(b, MX_CHANNEL_READ_MAY_DISCARD, buf, NULL, 4, 0, NULL, NULL));
    EXPECT(memcmp(buf, "abcd", 4) == 0);
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

/* ---- mx_channel_call: the write phase ----------------------------------- */

TEST(channel_call_checks_null_args_first) {
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    mx_status_t read_status = UNTOUCHED_STATUS;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_call(BOGUS, 1, 0, NULL, &actual_bytes,
                                                       &actual_handles, &read_status));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_channel_call(a, 0, 0, NULL, &actual_bytes, &actual_handles, &read_status));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_call(a, 0, 0, NULL, NULL, NULL, NULL));
    EXPECT_EQ(actual_bytes, UNTOUCHED_U32);
    EXPECT_EQ(actual_handles, UNTOUCHED_U32);
    EXPECT_EQ(read_status, UNTOUCHED_STATUS);
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_call_write_phase_checks_in_order_and_keeps_handles) {
    mx_handle_t a, b, ev = new_event(), other = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t no_transfer = with_rights(ev, MX_RIGHT_READ);
    mx_handle_t write_only, read_only;
    mx_handle_t x, y;
    EXPECT_OK(mx_channel_create(0, &x, &y));
    EXPECT_OK(mx_handle_replace(x, MX_RIGHT_WRITE | MX_RIGHT_TRANSFER, &write_only));
    EXPECT_OK(mx_handle_replace(y, MX_RIGHT_READ | MX_RIGHT_TRANSFER, &read_only));
    struct held kept[3] = {held_now(ev), held_now(no_transfer), held_now(a)};
    uint8_t request[4] = {1, 2, 3, 4};
    uint8_t reply[16];
    mx_handle_t reply_handles[2];
    mx_channel_call_args_t args = {
        .wr_bytes = request,
        .wr_handles = &ev,
        .rd_bytes = reply,
        .rd_handles = reply_handles,
        .wr_num_bytes = 4,
        .wr_num_handles = 1,
        .rd_num_bytes = sizeof reply,
        .rd_num_handles = 2,
    };
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    mx_status_t read_status = UNTOUCHED_STATUS;
    mx_time_t deadline = seconds_from_now(10);
#define CALL(h, opts) \
    mx_channel_call((h), (opts), deadline, &args, &actual_bytes, &actual_handles, &read_status)
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, CALL(BOGUS, 1));
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, CALL(BOGUS, 0));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, CALL(write_only, 0));
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, CALL(read_only, 0));
    EXPECT_STATUS(MX_ERR_WRONG_TYPE, CALL(other, 0));
    /* Limits before pointers; NULL wr_bytes, then NULL wr_handles. */
    args.wr_bytes = NULL;
    args.wr_num_bytes = MX_CHANNEL_MAX_MSG_BYTES + 1;
    EXPECT_STATUS(MX_ERR_OUT_OF_RANGE, CALL(a, 0));
    args.wr_num_bytes = 4;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, CALL(a, 0));
    args.wr_bytes = request;
    args.wr_handles = NULL;
    args.wr_num_handles = MX_CHANNEL_MAX_MSG_HANDLES + 1;
    EXPECT_STATUS(MX_ERR_OUT_OF_RANGE, CALL(a, 0));
    args.wr_num_handles = 1;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, CALL(a, 0));
    /* Each entry, then duplicates. */
    mx_handle_t twice_then_bad[3] = {ev, ev, BOGUS};
    mx_handle_t twice[2] = {ev, ev};
    mx_handle_t self[2] = {ev, a};
    mx_handle_t denied[2] = {ev, no_transfer};
    args.wr_handles = twice_then_bad;
    args.wr_num_handles = 3;
    EXPECT_STATUS(MX_ERR_BAD_HANDLE, CALL(a, 0));
    args.wr_handles = twice;
    args.wr_num_handles = 2;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, CALL(a, 0));
    args.wr_handles = self;
    EXPECT_STATUS(MX_ERR_NOT_SUPPORTED, CALL(a, 0));
    args.wr_handles = denied;
    EXPECT_STATUS(MX_ERR_ACCESS_DENIED, CALL(a, 0));
    EXPECT(nothing_queued(b));
    /* The peer last, returned directly. */
    EXPECT_OK(mx_handle_close(b));
    args.wr_handles = &ev;
    args.wr_num_handles = 1;
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, CALL(a, 0));
#undef CALL
    EXPECT_EQ(actual_bytes, UNTOUCHED_U32);
    EXPECT_EQ(actual_handles, UNTOUCHED_U32);
    EXPECT_EQ(read_status, UNTOUCHED_STATUS);
    for (int i = 0; i < 3; i++) {
        EXPECT(still_held(kept[i]));
    }
    EXPECT_OK(mx_handle_close(no_transfer));
    EXPECT_OK(mx_handle_close(write_only));
    EXPECT_OK(mx_handle_close(read_only));
    EXPECT_OK(mx_handle_close(other));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
}

/* ---- mx_channel_call: the reply ----------------------------------------- */

/* Args for a call writing `request` (4 bytes, txid first) with `handles`
   and reading into `reply` and `reply_handles`. */
static mx_channel_call_args_t call_args(const uint8_t* request, const mx_handle_t* handles,
                                        uint32_t num_handles, uint8_t* reply,
                                        uint32_t reply_size, mx_handle_t* reply_handles,
                                        uint32_t reply_num_handles) {
    mx_channel_call_args_t args = {
        .wr_bytes = request,
        .wr_handles = handles,
        .rd_bytes = reply,
        .rd_handles = reply_handles,
        .wr_num_bytes = 4,
        .wr_num_handles = num_handles,
        .rd_num_bytes = reply_size,
        .rd_num_handles = reply_num_handles,
    };
    return args;
}

TEST(channel_call_success_writes_the_counts_not_read_status) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dup = with_rights(ev, MX_RIGHT_TRANSFER | MX_RIGHT_SIGNAL);
    struct server server;
    EXPECT(start_server(&server, b, "txid and reply", &dup, 1));
    uint8_t request[4], reply[32];
    mx_handle_t got[2] = {UNTOUCHED_HANDLE, UNTOUCHED_HANDLE};
    put_txid(request, 0x12345678u);
    mx_channel_call_args_t args = call_args(request, NULL, 0, reply, sizeof reply, got, 2);
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    mx_status_t read_status = UNTOUCHED_STATUS;
    EXPECT_OK(mx_channel_call(a, 0, seconds_from_now(10), &args, &actual_bytes,
                              &actual_handles, &read_status));
    EXPECT_OK(join_server(&server));
    EXPECT_EQ(actual_bytes, 14);
    EXPECT_EQ(actual_handles, 1);
    EXPECT_EQ(read_status, UNTOUCHED_STATUS);
    mx_txid_t txid;
    memcpy(&txid, reply, 4);
    EXPECT_EQ(txid, 0x12345678u);
    EXPECT(memcmp(reply + 4, " and reply", 10) == 0);
    EXPECT_EQ(got[1], UNTOUCHED_HANDLE);
    mx_info_handle_basic_t info;
    EXPECT(info_of(got[0], &info));
    EXPECT_EQ(info.koid, koid_of(ev));
    EXPECT_EQ(info.rights, MX_RIGHT_TRANSFER | MX_RIGHT_SIGNAL);
    /* The reply never entered the queue. */
    EXPECT_SIGNALS(a, NEW_END);
    EXPECT_OK(mx_handle_close(got[0]));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_call_read_status_may_be_null) {
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    struct server server;
    EXPECT(start_server(&server, b, "a reply too long", NULL, 0));
    uint8_t request[4], reply[4];
    put_txid(request, 3);
    mx_channel_call_args_t args = call_args(request, NULL, 0, reply, sizeof reply, NULL, 0);
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    EXPECT_STATUS(MX_ERR_CALL_FAILED, mx_channel_call(a, 0, seconds_from_now(10), &args,
                                                      &actual_bytes, &actual_handles, NULL));
    EXPECT_OK(join_server(&server));
    EXPECT_EQ(actual_bytes, UNTOUCHED_U32);
    EXPECT_EQ(actual_handles, UNTOUCHED_U32);
    EXPECT(nothing_queued(a));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_call_timed_out_writes_nothing_and_still_sends) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_koid_t koid = koid_of(ev);
    uint8_t request[4], reply[16];
    put_txid(request, 9);
    mx_channel_call_args_t args = call_args(request, &ev, 1, reply, sizeof reply, NULL, 0);
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    mx_status_t read_status = UNTOUCHED_STATUS;
    EXPECT_STATUS(MX_ERR_TIMED_OUT,
                  mx_channel_call(a, 0, 0, &args, &actual_bytes, &actual_handles, &read_status));
    EXPECT_EQ(actual_bytes, UNTOUCHED_U32);
    EXPECT_EQ(actual_handles, UNTOUCHED_U32);
    EXPECT_EQ(read_status, UNTOUCHED_STATUS);
    /* The request went out, with its handle. */
    EXPECT(gone(ev));
    uint8_t got_bytes[4];
    mx_handle_t got;
    EXPECT_OK(mx_channel_read(b, 0, got_bytes, &got, 4, 1, &actual_bytes, &actual_handles));
    EXPECT(memcmp(got_bytes, request, 4) == 0);
    EXPECT_EQ(koid_of(got), koid);
    /* The counts are required only for a reply: none came. */
    args.wr_num_handles = 0;
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_channel_call(a, 0, 0, &args, NULL, NULL, NULL));
    /* A late reply is an ordinary message. */
    EXPECT_OK(mx_channel_write(b, 0, request, 4, NULL, 0));
    EXPECT_SIGNALS(a, MX_CHANNEL_READABLE | NEW_END);
    EXPECT_OK(mx_handle_close(got));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_call_too_big_reply_fails_with_buffer_too_small) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    /* Too many bytes, then too many handles. */
    for (int round = 0; round < 2; round++) {
        mx_handle_t dups[2] = {with_rights(ev, MX_RIGHT_SAME_RIGHTS),
                               with_rights(ev, MX_RIGHT_SAME_RIGHTS)};
        struct server server;
        EXPECT(start_server(&server, b, round == 0 ? "0123456789" : "0123", dups, 2));
        uint8_t request[4], reply[8];
        mx_handle_t got[2] = {UNTOUCHED_HANDLE, UNTOUCHED_HANDLE};
        put_txid(request, 4);
        mx_channel_call_args_t args =
            call_args(request, NULL, 0, reply, sizeof reply, got, round == 0 ? 2 : 1);
        uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
        mx_status_t read_status = UNTOUCHED_STATUS;
        EXPECT_STATUS(MX_ERR_CALL_FAILED,
                      mx_channel_call(a, 0, seconds_from_now(10), &args, &actual_bytes,
                                      &actual_handles, &read_status));
        EXPECT_OK(join_server(&server));
        EXPECT_STATUS(MX_ERR_BUFFER_TOO_SMALL, read_status);
        /* No sizes reported; the reply destroyed with its handles. */
        EXPECT_EQ(actual_bytes, UNTOUCHED_U32);
        EXPECT_EQ(actual_handles, UNTOUCHED_U32);
        EXPECT_EQ(got[0], UNTOUCHED_HANDLE);
        EXPECT(shows_soon(ev, MX_SIGNAL_LAST_HANDLE));
        EXPECT(nothing_queued(a));
    }
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

/* One call whose reply carries an event duplicate, with the given
   out-pointers; the reply must be destroyed with CALL_FAILED and
   read_status INVALID_ARGS, and nothing written. */
static void call_must_fail_with_invalid_args(int null_actual_bytes, int null_actual_handles,
                                             int null_rd_bytes, int null_rd_handles) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dup = with_rights(ev, MX_RIGHT_SAME_RIGHTS);
    struct server server;
    EXPECT(start_server(&server, b, "reply", &dup, 1));
    uint8_t request[4], reply[16];
    mx_handle_t got[1] = {UNTOUCHED_HANDLE};
    put_txid(request, 5);
    mx_channel_call_args_t args =
        call_args(request, NULL, 0, null_rd_bytes ? NULL : reply, sizeof reply,
                  null_rd_handles ? NULL : got, 1);
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    mx_status_t read_status = UNTOUCHED_STATUS;
    EXPECT_STATUS(MX_ERR_CALL_FAILED,
                  mx_channel_call(a, 0, seconds_from_now(10), &args,
                                  null_actual_bytes ? NULL : &actual_bytes,
                                  null_actual_handles ? NULL : &actual_handles, &read_status));
    EXPECT_OK(join_server(&server));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, read_status);
    EXPECT_EQ(actual_bytes, UNTOUCHED_U32);
    EXPECT_EQ(actual_handles, UNTOUCHED_U32);
    /* The reply is destroyed: its handle closed, nothing queued. */
    EXPECT(shows_soon(ev, MX_SIGNAL_LAST_HANDLE));
    EXPECT(nothing_queued(a));
    if (!null_rd_handles && got[0] != UNTOUCHED_HANDLE) {
        EXPECT(gone(got[0]));
    }
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_call_requires_actual_bytes) {
    call_must_fail_with_invalid_args(1, 0, 0, 0);
}

TEST(channel_call_requires_actual_handles) {
    call_must_fail_with_invalid_args(0, 1, 0, 0);
}

TEST(channel_call_null_rd_bytes_for_a_reply_with_bytes) {
    call_must_fail_with_invalid_args(0, 0, 1, 0);
}

TEST(channel_call_null_rd_handles_for_a_reply_with_handles) {
    call_must_fail_with_invalid_args(0, 0, 0, 1);
}

TEST(channel_call_null_rd_buffers_for_parts_the_reply_lacks) {
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    /* An empty request waits for txid 0, which an empty reply has. */
    struct server server;
    EXPECT(start_server(&server, b, "", NULL, 0));
    mx_channel_call_args_t args = {
        .wr_bytes = NULL,
        .wr_handles = NULL,
        .rd_bytes = NULL,
        .rd_handles = NULL,
        .wr_num_bytes = 0,
        .wr_num_handles = 0,
        .rd_num_bytes = 64,
        .rd_num_handles = 4,
    };
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    mx_status_t read_status = UNTOUCHED_STATUS;
    EXPECT_OK(mx_channel_call(a, 0, seconds_from_now(10), &args, &actual_bytes,
                              &actual_handles, &read_status));
    EXPECT_OK(join_server(&server));
    EXPECT_EQ(actual_bytes, 0);
    EXPECT_EQ(actual_handles, 0);
    EXPECT_EQ(read_status, UNTOUCHED_STATUS);
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_call_peer_closed_while_waiting_reports_peer_closed) {
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dup = with_rights(ev, MX_RIGHT_SAME_RIGHTS);
    struct caller caller;
    EXPECT(start_caller(&caller, a, 6, dup));
    /* The request arrived: the call waits. */
    EXPECT(shows_soon(b, MX_CHANNEL_READABLE));
    EXPECT_OK(mx_handle_close(b));
    EXPECT_STATUS(MX_ERR_CALL_FAILED, join_caller(&caller));
    EXPECT_STATUS(MX_ERR_PEER_CLOSED, caller.read_status);
    EXPECT_EQ(caller.actual_bytes, UNTOUCHED_U32);
    EXPECT_EQ(caller.actual_handles, UNTOUCHED_U32);
    /* The handle it sent is gone (it died with the request at b). */
    EXPECT(gone(dup));
    EXPECT(shows_soon(ev, MX_SIGNAL_LAST_HANDLE));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
}

TEST(channel_call_own_end_closed_while_waiting_reports_canceled) {
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    struct caller caller;
    EXPECT(start_caller(&caller, a, 7, MX_HANDLE_INVALID));
    EXPECT(shows_soon(b, MX_CHANNEL_READABLE));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_STATUS(MX_ERR_CALL_FAILED, join_caller(&caller));
    EXPECT_STATUS(MX_ERR_CANCELED, caller.read_status);
    EXPECT_EQ(caller.actual_bytes, UNTOUCHED_U32);
    EXPECT_SIGNALS(b, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    EXPECT_OK(mx_handle_close(b));
}

TEST(channel_calls_from_several_threads_get_their_own_replies) {
    enum { CALLERS = 4 };
    mx_handle_t a, b;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    struct caller callers[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        EXPECT(start_caller(&callers[i], a, 100 + (mx_txid_t)i, MX_HANDLE_INVALID));
    }
    uint8_t requests[CALLERS][8];
    for (int i = 0; i < CALLERS; i++) {
        uint32_t n;
        EXPECT(shows_soon(b, MX_CHANNEL_READABLE));
        EXPECT_OK(mx_channel_read(b, 0, requests[i], NULL, 8, 0, &n, NULL));
    }
    /* Reply in the reverse order, each with its txid and a mark. */
    for (int i = CALLERS - 1; i >= 0; i--) {
        uint8_t reply[5];
        memcpy(reply, requests[i], 4);
        reply[4] = (uint8_t)(0xa0 + requests[i][0]);
        EXPECT_OK(mx_channel_write(b, 0, reply, 5, NULL, 0));
    }
    for (int i = 0; i < CALLERS; i++) {
        EXPECT_OK(join_caller(&callers[i]));
        EXPECT_EQ(callers[i].actual_bytes, 5);
        mx_txid_t txid;
        memcpy(&txid, callers[i].reply, 4);
        EXPECT_EQ(txid, 100 + (mx_txid_t)i);
        EXPECT_EQ(callers[i].reply[4], (uint8_t)(0xa0 + callers[i].request[0]));
        EXPECT_EQ(callers[i].read_status, UNTOUCHED_STATUS);
    }
    EXPECT(nothing_queued(a));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

/* ---- Closing and waiting ------------------------------------------------ */

TEST(channel_close_destroys_queued_messages_and_their_handles) {
    mx_handle_t a, b, s0, s1, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    EXPECT_OK(mx_socket_create(MX_SOCKET_STREAM, &s0, &s1));
    mx_handle_t list[2] = {with_rights(ev, MX_RIGHT_SAME_RIGHTS), s1};
    EXPECT_OK(mx_channel_write(a, 0, "m", 1, list, 2));
    EXPECT_SIGNALS(ev, 0);
    EXPECT_SIGNALS(s0, MX_SOCKET_WRITABLE | MX_SIGNAL_LAST_HANDLE);
    EXPECT_OK(mx_handle_close(b));
    EXPECT(shows_soon(ev, MX_SIGNAL_LAST_HANDLE));
    EXPECT(shows_soon(s0, MX_SOCKET_PEER_CLOSED));
    EXPECT_SIGNALS(a, MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    EXPECT_OK(mx_handle_close(s0));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
}

TEST(wait_async_on_a_channel_counts_the_queued_messages) {
    mx_handle_t a, b, port;
    EXPECT_OK(mx_channel_create(0, &a, &b));
    EXPECT_OK(mx_port_create(0, &port));
    for (uint8_t i = 0; i < 5; i++) {
        EXPECT_OK(mx_channel_write(a, 0, &i, 1, NULL, 0));
    }
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_object_wait_async(b, port, 42, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                   MX_WAIT_ASYNC_ONCE));
    mx_port_packet_t packet;
    EXPECT_OK(mx_port_wait(port, seconds_from_now(10), &packet, 0));
    EXPECT_EQ(packet.key, 42);
    EXPECT_EQ(packet.type, MX_PKT_TYPE_SIGNAL_ONE);
    EXPECT_EQ(packet.signal.trigger, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED);
    EXPECT_EQ(packet.signal.observed,
              MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED | MX_SIGNAL_LAST_HANDLE);
    EXPECT_EQ(packet.signal.count, 5);
    EXPECT_STATUS(MX_ERR_TIMED_OUT, mx_port_wait(port, 0, &packet, 0));
    EXPECT_OK(mx_handle_close(port));
    EXPECT_OK(mx_handle_close(b));
}

/* ---- Strict pointer mode ------------------------------------------------ */

/* An address in no mapping. */
static void* unmapped_page(void) {
    static void* page;
    if (page == NULL) {
        long size = sysconf(_SC_PAGESIZE);
        void* p = mmap(NULL, (size_t)size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || munmap(p, (size_t)size) != 0) {
            return NULL;
        }
        page = p;
    }
    return page;
}

TEST(strict_channel_write_from_bad_pointers_keeps_the_handles) {
    void* bad = unmapped_page();
    EXPECT(bad != NULL);
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    struct held kept = held_now(ev);
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, bad, 5, &ev, 1));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_write(a, 0, "x", 1, bad, 1));
    EXPECT(still_held(kept));
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(strict_channel_read_into_bad_pointers) {
    void* bad = unmapped_page();
    EXPECT(bad != NULL);
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    mx_handle_t dup = with_rights(ev, MX_RIGHT_SAME_RIGHTS);
    EXPECT_OK(mx_channel_write(a, 0, "abc", 3, &dup, 1));
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    char buf[8];
    mx_handle_t got = UNTOUCHED_HANDLE;
    /* A bad count pointer fails before anything happens. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_channel_read(b, 0, buf, &got, 8, 1, (uint32_t*)bad, &actual_handles));
    EXPECT_EQ(actual_handles, UNTOUCHED_U32);
    EXPECT_SIGNALS(b, MX_CHANNEL_READABLE | NEW_END);
    /* A bad buffer for a part the message has: as NULL. */
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_channel_read(b, 0, bad, &got, 8, 1, &actual_bytes, &actual_handles));
    EXPECT_EQ(actual_bytes, 3);
    EXPECT_EQ(actual_handles, 1);
    EXPECT_EQ(got, UNTOUCHED_HANDLE);
    EXPECT_SIGNALS(ev, MX_SIGNAL_LAST_HANDLE);
    EXPECT(nothing_queued(b));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

TEST(strict_channel_call_with_bad_pointers) {
    void* bad = unmapped_page();
    EXPECT(bad != NULL);
    mx_handle_t a, b, ev = new_event();
    EXPECT_OK(mx_channel_create(0, &a, &b));
    struct held kept = held_now(ev);
    uint32_t actual_bytes = UNTOUCHED_U32, actual_handles = UNTOUCHED_U32;
    mx_status_t read_status = UNTOUCHED_STATUS;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS,
                  mx_channel_call(a, 0, 0, (const mx_channel_call_args_t*)bad, &actual_bytes,
                                  &actual_handles, &read_status));
    uint8_t request[4], reply[8];
    put_txid(request, 8);
    mx_channel_call_args_t args = call_args(request, &ev, 1, reply, sizeof reply, NULL, 0);
    args.wr_bytes = bad;
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, mx_channel_call(a, 0, 0, &args, &actual_bytes,
                                                       &actual_handles, &read_status));
    EXPECT(still_held(kept));
    EXPECT(nothing_queued(b));
    EXPECT_EQ(read_status, UNTOUCHED_STATUS);
    /* A bad rd_bytes for the reply's bytes: as NULL. */
    struct server server;
    EXPECT(start_server(&server, b, "reply", NULL, 0));
    args = call_args(request, NULL, 0, (uint8_t*)bad, sizeof reply, NULL, 0);
    EXPECT_STATUS(MX_ERR_CALL_FAILED,
                  mx_channel_call(a, 0, seconds_from_now(10), &args, &actual_bytes,
                                  &actual_handles, &read_status));
    EXPECT_OK(join_server(&server));
    EXPECT_STATUS(MX_ERR_INVALID_ARGS, read_status);
    EXPECT(nothing_queued(a));
    EXPECT_OK(mx_handle_close(ev));
    EXPECT_OK(mx_handle_close(a));
    EXPECT_OK(mx_handle_close(b));
}

/* ---- Last: the statuses --------------------------------------------------- */

TEST(every_channel_status_was_returned) {
    static const mx_status_t listed[] = {
        MX_OK, MX_ERR_INVALID_ARGS, MX_ERR_BAD_HANDLE, MX_ERR_ACCESS_DENIED,
        MX_ERR_WRONG_TYPE, MX_ERR_OUT_OF_RANGE, MX_ERR_NOT_SUPPORTED, MX_ERR_PEER_CLOSED,
        MX_ERR_SHOULD_WAIT, MX_ERR_BUFFER_TOO_SMALL, MX_ERR_TIMED_OUT, MX_ERR_CALL_FAILED,
        MX_ERR_CANCELED,
    };
    int missing = 0;
    if (tests_filtered) {
        return;
    }
    for (size_t i = 0; i < COUNT(listed); i++) {
        if (!(statuses_seen & (1ull << -listed[i]))) {
            printf("    never returned: %d\n", (int)listed[i]);
            missing = 1;
        }
    }
    /* Not reachable from C: NO_MEMORY (the Rust conformance tests fail
       allocations on purpose). */
    EXPECT(!missing);
}

static const struct test tests[] = {
    T(call_args_have_magentas_layout),
    T(channel_create_checks_options_and_outputs),
    T(channel_create_makes_two_peered_ends),
    T(channel_write_checks_null_buffers_at_their_step),
    T(channel_write_takes_null_with_zero_counts),
    T(channel_write_failures_keep_every_handle),
    T(channel_write_moves_the_handles_on_success),
    T(channel_write_checks_null_buffers_before_the_peer),
    T(channel_read_early_failures_write_no_counts),
    T(channel_read_buffer_too_small_writes_each_count_given),
    T(channel_read_may_discard_destroys_what_does_not_fit),
    T(channel_read_null_bytes_for_a_message_with_bytes),
    T(channel_read_null_handles_for_a_message_with_handles),
    T(channel_read_of_an_empty_message_needs_no_pointers),
    T(channel_call_checks_null_args_first),
    T(channel_call_write_phase_checks_in_order_and_keeps_handles),
    T(channel_call_success_writes_the_counts_not_read_status),
    T(channel_call_read_status_may_be_null),
    T(channel_call_timed_out_writes_nothing_and_still_sends),
    T(channel_call_too_big_reply_fails_with_buffer_too_small),
    T(channel_call_requires_actual_bytes),
    T(channel_call_requires_actual_handles),
    T(channel_call_null_rd_bytes_for_a_reply_with_bytes),
    T(channel_call_null_rd_handles_for_a_reply_with_handles),
    T(channel_call_null_rd_buffers_for_parts_the_reply_lacks),
    T(channel_call_peer_closed_while_waiting_reports_peer_closed),
    T(channel_call_own_end_closed_while_waiting_reports_canceled),
    T(channel_calls_from_several_threads_get_their_own_replies),
    T(channel_close_destroys_queued_messages_and_their_handles),
    T(wait_async_on_a_channel_counts_the_queued_messages),
};

/* Only in strict pointer mode: without it these pointers crash. */
static const struct test strict_tests[] = {
    T(strict_channel_write_from_bad_pointers_keeps_the_handles),
    T(strict_channel_read_into_bad_pointers),
    T(strict_channel_call_with_bad_pointers),
};

int main(int argc, char** argv) {
    const char* strict = getenv("MX_STRICT_POINTERS");
    struct test all[COUNT(tests) + COUNT(strict_tests) + 1];
    size_t n = 0;
    for (size_t i = 0; i < COUNT(tests); i++) {
        all[n++] = tests[i];
    }
    if (strict != NULL && strcmp(strict, "1") == 0) {
        for (size_t i = 0; i < COUNT(strict_tests); i++) {
            all[n++] = strict_tests[i];
        }
    }
    /* Last: it checks what the others returned. */
    all[n++] = (struct test)T(every_channel_status_was_returned);
    return run_tests(all, n, argc, argv);
}
