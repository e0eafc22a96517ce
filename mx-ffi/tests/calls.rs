//! A call of every function of `mx-ffi/abi/calls.txt`, from a C program
//! and from the same program built as C++, linked with the static and with
//! the shared `libmagenta`.
//!
//! The program is generated from the list. Each `NOT_SUPPORTED` call gets
//! sentinel-filled buffers for every pointer and must return
//! `MX_ERR_NOT_SUPPORTED` with the buffers untouched. Each `implemented`
//! call is made once with zero and NULL arguments (it must return; its
//! behaviour is the business of the other suites). The `noreturn` calls end
//! a thread or a forked child, which the program checks.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use common::*;

/// The C program.
fn program() -> String {
    let mut c = String::from(
        r#"#include <magenta/syscalls.h>
#include <magenta/linux.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char pool[8][512];
static int passed, failed;

static int pool_untouched(void) {
    for (size_t i = 0; i < sizeof pool; i++) {
        if (((unsigned char*)pool)[i] != 0xA5) return 0;
    }
    return 1;
}

static void not_supported(const char* name, mx_status_t status) {
    if (status == MX_ERR_NOT_SUPPORTED && pool_untouched()) {
        passed++;
    } else {
        printf("FAILED: %s returned %d or wrote an argument\n", name, (int)status);
        failed++;
    }
    memset(pool, 0xA5, sizeof pool);
}

static void* thread_exit_body(void* arg) {
    mx_thread_exit();
    return arg;
}

static int futex_word;
static mx_handle_t futex_handle;
static void* futex_exit_body(void* arg) {
    mx_futex_wake_handle_close_thread_exit((const mx_futex_t*)(void*)&futex_word, 1, 7, futex_handle);
    return arg;
}

static void check(int ok, const char* what) {
    if (ok) {
        passed++;
    } else {
        printf("FAILED: %s\n", what);
        failed++;
    }
}

int main(void) {
    memset(pool, 0xA5, sizeof pool);
"#,
    );
    for call in calls() {
        let args = call.args();
        match call.behaviour.as_str() {
            "NOT_SUPPORTED" => {
                let mut next = 0;
                let values: Vec<String> = args
                    .iter()
                    .map(|(ty, _)| {
                        if ty.ends_with('*') {
                            next += 1;
                            format!("({ty})(void*)pool[{}]", next - 1)
                        } else {
                            format!("({ty})0")
                        }
                    })
                    .collect();
                let call_expr = format!("{}({})", call.name, values.join(", "));
                if call.ret == "mx_status_t" {
                    writeln!(c, "    not_supported(\"{}\", {call_expr});", call.name).unwrap();
                } else {
                    writeln!(
                        c,
                        "    check({call_expr} == 0 && pool_untouched(), \"{} returns 0\");",
                        call.name
                    )
                    .unwrap();
                }
            }
            "implemented" => {
                let values: Vec<String> = args.iter().map(|(ty, _)| format!("({ty})0")).collect();
                writeln!(
                    c,
                    "    (void){}({}); passed++;",
                    call.name,
                    values.join(", ")
                )
                .unwrap();
            }
            "noreturn" => {}
            other => panic!("{other}"),
        }
    }
    c.push_str(
        r#"
    {   /* mx_thread_exit ends only the calling thread. */
        pthread_t t;
        void* result = &passed;
        check(pthread_create(&t, NULL, thread_exit_body, NULL) == 0, "thread started");
        check(pthread_join(t, &result) == 0 && result == NULL, "mx_thread_exit ended the thread");
    }
    {   /* ...and so does mx_futex_wake_handle_close_thread_exit, after its
           store and close. */
        pthread_t t;
        check(mx_event_create(0, &futex_handle) == MX_OK, "event");
        check(pthread_create(&t, NULL, futex_exit_body, NULL) == 0, "thread started");
        check(pthread_join(t, NULL) == 0, "thread ended");
        check(futex_word == 7, "new_value stored");
        check(mx_handle_close(futex_handle) == MX_ERR_BAD_HANDLE, "handle closed");
    }
    {   /* mx_process_exit ends the process with its code. */
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            mx_process_exit(7);
        }
        int status = 0;
        check(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 7,
              "mx_process_exit(7)");
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
"#,
    );
    c
}

/// Builds and runs the program; checks that every call was made.
fn run(out: &std::path::Path) {
    let output = run_ok(&mut Command::new(out));
    let (passed, failed) = summary(&output);
    assert_eq!(failed, 0, "{}", String::from_utf8_lossy(&output.stdout));
    let listed = calls().iter().filter(|c| c.behaviour != "noreturn").count();
    assert!(passed >= listed, "{passed} passed, {listed} calls");
}

#[test]
fn every_call_links_statically_from_c_and_cxx() {
    let dir = scratch("calls");
    for ext in ["c", "cc"] {
        let source = dir.join(format!("calls.{ext}"));
        std::fs::write(&source, program()).unwrap();
        let out = build(&[source], &dir.join(format!("calls-{ext}")), &["-pthread"]);
        run(&out);
    }
}

#[test]
fn every_call_links_with_the_shared_library() {
    let dir = scratch("calls-shared");
    for (ext, compiler, flags) in [("c", "cc", C_FLAGS), ("cc", "c++", CXX_FLAGS)] {
        let source = dir.join(format!("calls.{ext}"));
        std::fs::write(&source, program()).unwrap();
        let out = dir.join(format!("calls-{ext}"));
        let mut command = Command::new(compiler);
        command
            .args(flags)
            .arg("-I")
            .arg(include_dir())
            .arg(&source)
            .arg("-L")
            .arg(library_dir())
            .arg("-lmagenta")
            .arg(format!("-Wl,-rpath,{}", library_dir().display()))
            .arg("-pthread")
            .arg("-o")
            .arg(&out);
        run_ok(&mut command);
        run(&out);
    }
}
