// libmagenta from C++17: the headers compile as C++ (extern "C", constant
// expressions, the port packet's anonymous union) and the calls work from
// std::thread. Built and run by tests/c.rs.

#include <magenta/syscalls.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

// The headers' constants are constant expressions of the right types.
static_assert(std::is_same<decltype(MX_OK), int>::value, "status codes are int");
static_assert(std::is_same<decltype(MX_SOCKET_READABLE), mx_signals_t>::value, "signals");
static_assert(std::is_same<decltype(MX_RIGHT_READ), mx_rights_t>::value, "rights");
static_assert(MX_USER_SIGNAL_ALL == (MX_USER_SIGNAL_0 | MX_USER_SIGNAL_1 | MX_USER_SIGNAL_2 |
                                     MX_USER_SIGNAL_3 | MX_USER_SIGNAL_4 | MX_USER_SIGNAL_5 |
                                     MX_USER_SIGNAL_6 | MX_USER_SIGNAL_7),
              "user signals");
static_assert(MX_TIME_INFINITE == UINT64_MAX, "infinite");
static_assert(sizeof(mx_port_packet_t) == 48, "port packet");
static_assert(offsetof(mx_port_packet_t, user) == 16, "packet union");
static_assert(offsetof(mx_port_packet_t, signal) == 16, "packet union");
static_assert(sizeof(mx_wait_item_t) == 12, "wait item");
static_assert(sizeof(mx_info_handle_basic_t) == 32, "basic info");
static_assert(std::is_standard_layout<mx_port_packet_t>::value, "C layout");
static_assert(std::is_trivially_copyable<mx_wait_item_t>::value, "C layout");
constexpr mx_rights_t kReadOnly = MX_RIGHT_READ | MX_RIGHT_DUPLICATE;

namespace {

int failures = 0;
int passed = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            std::printf("    %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            ok = false;                                                    \
            return;                                                        \
        }                                                                  \
    } while (0)

void run(const char* name, void (*test)(bool&)) {
    bool ok = true;
    test(ok);
    std::printf("%s ... %s\n", name, ok ? "ok" : "FAILED");
    (ok ? passed : failures)++;
}

void packets_have_both_views(bool& ok) {
    mx_port_packet_t packet;
    std::memset(&packet, 0, sizeof packet);
    packet.key = 42;
    packet.type = MX_PKT_TYPE_SIGNAL_ONE;
    packet.signal.trigger = MX_SOCKET_READABLE;
    packet.signal.observed = MX_SOCKET_READABLE | MX_SOCKET_WRITABLE;
    packet.signal.count = 1;
    CHECK(MX_PKT_IS_SIGNAL_ONE(packet.type));
    CHECK(packet.user.u32[0] == MX_SOCKET_READABLE);
    CHECK(packet.user.u64[1] == 1);
}

void a_thread_writes_and_the_main_thread_waits(bool& ok) {
    mx_handle_t a, b;
    CHECK(mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b) == MX_OK);
    std::atomic<mx_status_t> writer_status{1};
    std::thread writer([&] {
        mx_nanosleep(mx_deadline_after(MX_MSEC(10)));
        const std::string message = "from a std::thread";
        size_t actual = 0;
        writer_status = mx_socket_write(a, 0, message.data(), message.size(), &actual);
    });
    mx_signals_t observed = 0;
    CHECK(mx_object_wait_one(b, MX_SOCKET_READABLE, mx_deadline_after(MX_SEC(30)), &observed) ==
          MX_OK);
    writer.join();
    CHECK(writer_status == MX_OK);
    CHECK((observed & MX_SOCKET_READABLE) != 0);
    std::vector<char> buffer(64);
    size_t actual = 0;
    CHECK(mx_socket_read(b, 0, buffer.data(), buffer.size(), &actual) == MX_OK);
    CHECK(std::string(buffer.data(), actual) == "from a std::thread");
    CHECK(mx_handle_close(a) == MX_OK);
    CHECK(mx_handle_close(b) == MX_OK);
}

void errors_leave_outputs_alone(bool& ok) {
    mx_handle_t a, b;
    CHECK(mx_socket_create(MX_SOCKET_STREAM, &a, &b) == MX_OK);
    size_t actual = 1234;
    CHECK(mx_socket_write(a, 0, nullptr, 1, &actual) == MX_ERR_INVALID_ARGS);
    CHECK(mx_socket_read(b, 0, &actual, 1, &actual) == MX_ERR_SHOULD_WAIT);
    CHECK(actual == 1234);
    mx_handle_t ro = MX_HANDLE_INVALID;
    CHECK(mx_handle_duplicate(a, kReadOnly, &ro) == MX_OK);
    CHECK(mx_socket_write(ro, 0, "x", 1, &actual) == MX_ERR_ACCESS_DENIED);
    CHECK(actual == 1234);
    mx_info_handle_basic_t info{};
    size_t count = 0, avail = 0;
    CHECK(mx_object_get_info(ro, MX_INFO_HANDLE_BASIC, &info, sizeof info, &count, &avail) ==
          MX_OK);
    CHECK(info.rights == kReadOnly && info.type == MX_OBJ_TYPE_SOCKET && count == 1);
    CHECK(mx_handle_close(ro) == MX_OK);
    CHECK(mx_handle_close(a) == MX_OK);
    CHECK(mx_handle_close(b) == MX_OK);
}

// Whether thread `tid` of this process sleeps (state S in /proc).
bool asleep(pid_t tid) {
    std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) {
        return false;
    }
    char stat[512];
    size_t n = std::fread(stat, 1, sizeof stat - 1, f);
    std::fclose(f);
    stat[n] = 0;
    const char* end = std::strrchr(stat, ')');
    return end != nullptr && end[1] == ' ' && end[2] == 'S';
}

void wait_many_from_cxx(bool& ok) {
    mx_handle_t p, q;
    CHECK(mx_eventpair_create(0, &p, &q) == MX_OK);
    mx_wait_item_t items[2] = {{p, MX_EPAIR_SIGNALED, 0}, {q, MX_EPAIR_PEER_CLOSED, 0}};
    std::atomic<pid_t> tid{0};
    mx_status_t status = 1;
    std::thread waiter([&] {
        tid = static_cast<pid_t>(syscall(SYS_gettid));
        status = mx_object_wait_many(items, 2, mx_deadline_after(MX_SEC(30)));
    });
    // Once the waiter sleeps (in its wait), close p from here.
    for (int i = 0; i < 10000 && !(tid != 0 && asleep(tid)); i++) {
        mx_nanosleep(mx_deadline_after(MX_MSEC(1)));
    }
    mx_nanosleep(mx_deadline_after(MX_MSEC(5)));
    CHECK(mx_handle_close(p) == MX_OK);
    waiter.join();
    // The wait through p was cancelled; q saw its peer close in the same
    // change.
    CHECK(status == MX_ERR_CANCELED);
    CHECK((items[0].pending & MX_SIGNAL_HANDLE_CLOSED) != 0);
    CHECK((items[1].pending & MX_EPAIR_PEER_CLOSED) != 0);
    CHECK(mx_object_wait_one(q, MX_EPAIR_PEER_CLOSED, 0, nullptr) == MX_OK);
    CHECK(mx_handle_close(q) == MX_OK);
}

}  // namespace

int main() {
    run("packets_have_both_views", packets_have_both_views);
    run("a_thread_writes_and_the_main_thread_waits", a_thread_writes_and_the_main_thread_waits);
    run("errors_leave_outputs_alone", errors_leave_outputs_alone);
    run("wait_many_from_cxx", wait_many_from_cxx);
    std::printf("%d passed, %d failed\n", passed, failures);
    return failures == 0 ? 0 : 1;
}
