//! The headers against the Rust definitions: every constant, type, size,
//! alignment, field offset and prototype, checked by compiling C and C++.
//!
//! The expected values are generated here, at test time, from the Rust
//! side (`mx-core`'s `Status`, `Signals`, `Rights`, `abi`, this crate's
//! `ctypes`), into `expected.h`; `tests/c/abi.c` includes it after
//! `<magenta/syscalls.h>` and turns every entry into `_Static_assert`s. So a
//! header that disagrees with Rust does not compile, and a name the Rust side
//! has (a new signal or right, say) but the header lacks does not compile
//! either.

mod common;

use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::process::Command;

use bitflags::Flags;
use magenta::ctypes::*;
use mx_core::abi::{self, HandleBasicInfo, PortPacket, WaitItem};
use mx_core::{Koid, ObjectType, Rights, Signals, Status, Time};

use common::*;

/// The C name of a Rust scalar type.
trait CType {
    const C: &'static str;
}
impl CType for i32 {
    const C: &'static str = "int32_t";
}
impl CType for u32 {
    const C: &'static str = "uint32_t";
}
impl CType for u64 {
    const C: &'static str = "uint64_t";
}
impl CType for usize {
    const C: &'static str = "size_t";
}

/// `expected.h`, built up entry by entry.
#[derive(Default)]
struct Expected {
    text: String,
    constants: usize,
    layouts: usize,
    prototypes: usize,
}

impl Expected {
    /// A constant: its value and the C type its macro must have.
    fn constant(&mut self, name: &str, value: i128, c_type: &str) {
        // Suffixed, so that no literal is too large for its type.
        let signed = ["int", "mx_handle_t", "mx_status_t"].contains(&c_type);
        let suffix = if signed { "ll" } else { "ull" };
        writeln!(self.text, "CONSTANT({name}, ({value}{suffix}), {c_type})").unwrap();
        self.constants += 1;
    }

    /// A typedef of a scalar: the type it must be.
    fn typedef<T: CType>(&mut self, name: &str) {
        writeln!(self.text, "TYPEDEF({name}, {})", T::C).unwrap();
        self.layouts += 1;
    }

    /// Size and alignment of a C type.
    fn size<T>(&mut self, c_type: &str) {
        writeln!(
            self.text,
            "SIZE({c_type}, {}, {})",
            size_of::<T>(),
            align_of::<T>()
        )
        .unwrap();
        self.layouts += 1;
    }

    /// Size of a C type without a Rust counterpart of its own (a view of a
    /// union), from the layout of the fields found in the Rust type.
    fn size_only(&mut self, c_type: &str, size: usize) {
        writeln!(self.text, "SIZE_ONLY({c_type}, {size})").unwrap();
        self.layouts += 1;
    }

    /// Offset and size of a field.
    fn field(&mut self, c_type: &str, field: &str, offset: usize, size: usize) {
        writeln!(self.text, "FIELD({c_type}, {field}, {offset}, {size})").unwrap();
        self.layouts += 1;
    }

    /// A prototype, as C spells it.
    fn prototype(&mut self, name: &str, ret: &str, args: &[&str]) {
        writeln!(
            self.text,
            "PROTOTYPE({name}, {ret} (*)({}))",
            args.join(", ")
        )
        .unwrap();
        self.prototypes += 1;
    }
}

/// The C name of a signal flag of `mx-core`.
fn signal_c_name(rust: &str) -> String {
    if let Some(n) = rust.strip_prefix("USER_") {
        format!("MX_USER_SIGNAL_{n}")
    } else if ["SOCKET_", "CHANNEL_", "EVENT_", "EPAIR_"]
        .iter()
        .any(|p| rust.starts_with(p))
    {
        format!("MX_{rust}")
    } else {
        format!("MX_SIGNAL_{rust}")
    }
}

/// Where `PortPacket::signal` puts `trigger`, `observed` and `count` in the
/// payload: (name, byte offset, size).
fn signal_layout() -> Vec<(&'static str, usize, usize)> {
    let packet = PortPacket::signal(
        0,
        abi::PKT_TYPE_SIGNAL_ONE,
        Signals::from_bits_retain(0x1111_1111),
        Signals::from_bits_retain(0x2222_2222),
        0x3333_3333_3333_3333,
    );
    let bytes: Vec<u8> = packet
        .payload
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect();
    let find = |needle: &[u8]| {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("field in payload")
    };
    vec![
        ("trigger", find(&0x1111_1111u32.to_ne_bytes()), 4),
        ("observed", find(&0x2222_2222u32.to_ne_bytes()), 4),
        ("count", find(&0x3333_3333_3333_3333u64.to_ne_bytes()), 8),
    ]
}

/// Every exported function with its Rust type (checked by the compiler here)
/// and its C prototype (checked by the C compiler in `abi.c`).
macro_rules! prototypes {
    ($expected:ident, $exported:ident; $(
        $name:ident($($arg:ty = $carg:literal),*) -> $ret:ty = $cret:literal;
    )*) => {$(
        let _: unsafe extern "C" fn($($arg),*) -> $ret = magenta::$name;
        $expected.prototype(stringify!($name), $cret, &[$($carg),*]);
        $exported.push(stringify!($name));
    )*};
}

fn expected() -> (Expected, Vec<&'static str>) {
    let mut e = Expected::default();

    // Status codes: all of them, by their own names.
    e.constant("MX_OK", Status::OK.into_raw().into(), "int");
    for status in Status::ALL_ERRORS {
        e.constant(status.name().unwrap(), status.into_raw().into(), "int");
    }

    // Signals: every named flag (aliases included), and the groups.
    for flag in Signals::FLAGS.iter().filter(|f| !f.name().is_empty()) {
        e.constant(
            &signal_c_name(flag.name()),
            flag.value().bits().into(),
            "mx_signals_t",
        );
    }
    e.constant(
        "MX_SIGNAL_NONE",
        Signals::NONE.bits().into(),
        "mx_signals_t",
    );
    e.constant(
        "MX_USER_SIGNAL_ALL",
        Signals::USER_ALL.bits().into(),
        "mx_signals_t",
    );

    // Rights: every named flag, and the defaults.
    for flag in Rights::FLAGS.iter().filter(|f| !f.name().is_empty()) {
        e.constant(
            &format!("MX_RIGHT_{}", flag.name()),
            flag.value().bits().into(),
            "mx_rights_t",
        );
    }
    e.constant("MX_RIGHT_NONE", Rights::NONE.bits().into(), "mx_rights_t");
    for (name, rights) in [
        ("MX_DEFAULT_SOCKET_RIGHTS", Rights::SOCKET_DEFAULT),
        ("MX_DEFAULT_EVENT_RIGHTS", Rights::EVENT_DEFAULT),
        ("MX_DEFAULT_EVENT_PAIR_RIGHTS", Rights::EVENTPAIR_DEFAULT),
        ("MX_DEFAULT_PORT_RIGHTS", Rights::PORT_DEFAULT),
        ("MX_DEFAULT_CHANNEL_RIGHTS", Rights::CHANNEL_DEFAULT),
    ] {
        e.constant(name, rights.bits().into(), "mx_rights_t");
    }

    // Object types and properties, info topics.
    for (name, ty) in [
        ("MX_OBJ_TYPE_NONE", ObjectType::NONE),
        ("MX_OBJ_TYPE_CHANNEL", ObjectType::CHANNEL),
        ("MX_OBJ_TYPE_EVENT", ObjectType::EVENT),
        ("MX_OBJ_TYPE_PORT", ObjectType::PORT),
        ("MX_OBJ_TYPE_SOCKET", ObjectType::SOCKET),
        ("MX_OBJ_TYPE_EVENT_PAIR", ObjectType::EVENT_PAIR),
    ] {
        e.constant(name, ty.0.into(), "mx_obj_type_t");
    }
    e.constant(
        "MX_OBJ_PROP_WAITABLE",
        abi::OBJ_PROP_WAITABLE.into(),
        "mx_obj_props_t",
    );
    e.constant(
        "MX_INFO_HANDLE_VALID",
        abi::INFO_HANDLE_VALID.into(),
        "uint32_t",
    );
    e.constant(
        "MX_INFO_HANDLE_BASIC",
        abi::INFO_HANDLE_BASIC.into(),
        "uint32_t",
    );

    // Handles, koids, time, sockets, waiting.
    e.constant(
        "MX_HANDLE_INVALID",
        abi::HANDLE_INVALID.into(),
        "mx_handle_t",
    );
    e.constant("MX_KOID_INVALID", Koid::INVALID.0.into(), "mx_koid_t");
    e.constant("MX_TIME_INFINITE", Time::INFINITE.0.into(), "mx_time_t");
    e.constant(
        "MX_CLOCK_MONOTONIC",
        abi::CLOCK_MONOTONIC.into(),
        "uint32_t",
    );
    e.constant("MX_SOCKET_STREAM", abi::SOCKET_STREAM.into(), "uint32_t");
    e.constant(
        "MX_SOCKET_DATAGRAM",
        abi::SOCKET_DATAGRAM.into(),
        "uint32_t",
    );
    e.constant(
        "MX_SOCKET_HALF_CLOSE",
        abi::SOCKET_HALF_CLOSE.into(),
        "uint32_t",
    );
    let max_items = u32::try_from(abi::WAIT_MANY_MAX_ITEMS).unwrap();
    e.constant("MX_WAIT_MANY_MAX_ITEMS", max_items.into(), "uint32_t");

    // Ports.
    e.constant("MX_PKT_TYPE_USER", abi::PKT_TYPE_USER.into(), "uint32_t");
    e.constant(
        "MX_PKT_TYPE_SIGNAL_ONE",
        abi::PKT_TYPE_SIGNAL_ONE.into(),
        "uint32_t",
    );
    e.constant(
        "MX_PKT_TYPE_SIGNAL_REP",
        abi::PKT_TYPE_SIGNAL_REP.into(),
        "uint32_t",
    );
    e.constant(
        "MX_WAIT_ASYNC_ONCE",
        abi::WAIT_ASYNC_ONCE.into(),
        "uint32_t",
    );
    e.constant(
        "MX_WAIT_ASYNC_REPEATING",
        abi::WAIT_ASYNC_REPEATING.into(),
        "uint32_t",
    );

    // Scalar typedefs: the Rust aliases the entry points use.
    e.typedef::<mx_status_t>("mx_status_t");
    e.typedef::<mx_handle_t>("mx_handle_t");
    e.typedef::<mx_signals_t>("mx_signals_t");
    e.typedef::<mx_rights_t>("mx_rights_t");
    e.typedef::<mx_time_t>("mx_time_t");
    e.typedef::<mx_koid_t>("mx_koid_t");
    // `<magenta/linux.h>`'s `pid_t` is the system's, as the Rust alias.
    e.typedef::<pid_t>("pid_t");
    e.size::<mx_signals_t>("mx_signals_t");
    e.size::<Signals>("mx_signals_t");
    e.size::<Rights>("mx_rights_t");
    e.size::<Koid>("mx_koid_t");
    e.size::<Time>("mx_time_t");
    e.size::<ObjectType>("mx_obj_type_t");

    // Structs.
    macro_rules! field {
        ($c:literal, $cfield:literal, $rust:ty, $($rfield:tt).+, $fty:ty) => {
            e.field($c, $cfield, offset_of!($rust, $($rfield).+), size_of::<$fty>())
        };
    }
    e.size::<WaitItem>("mx_wait_item_t");
    field!("mx_wait_item_t", "handle", WaitItem, handle, mx_handle_t);
    field!("mx_wait_item_t", "waitfor", WaitItem, waitfor, Signals);
    field!("mx_wait_item_t", "pending", WaitItem, pending, Signals);

    e.size::<HandleBasicInfo>("mx_info_handle_basic_t");
    field!(
        "mx_info_handle_basic_t",
        "koid",
        HandleBasicInfo,
        koid,
        Koid
    );
    field!(
        "mx_info_handle_basic_t",
        "rights",
        HandleBasicInfo,
        rights,
        Rights
    );
    field!(
        "mx_info_handle_basic_t",
        "type",
        HandleBasicInfo,
        type_,
        u32
    );
    field!(
        "mx_info_handle_basic_t",
        "related_koid",
        HandleBasicInfo,
        related_koid,
        Koid
    );
    field!(
        "mx_info_handle_basic_t",
        "props",
        HandleBasicInfo,
        props,
        u32
    );

    {
        use magenta::ctypes::mx_channel_call_args_t as Args;
        e.size::<Args>("mx_channel_call_args_t");
        for (name, offset) in [
            ("wr_bytes", offset_of!(Args, wr_bytes)),
            ("wr_handles", offset_of!(Args, wr_handles)),
            ("rd_bytes", offset_of!(Args, rd_bytes)),
            ("rd_handles", offset_of!(Args, rd_handles)),
        ] {
            e.field("mx_channel_call_args_t", name, offset, size_of::<usize>());
        }
        for (name, offset) in [
            ("wr_num_bytes", offset_of!(Args, wr_num_bytes)),
            ("wr_num_handles", offset_of!(Args, wr_num_handles)),
            ("rd_num_bytes", offset_of!(Args, rd_num_bytes)),
            ("rd_num_handles", offset_of!(Args, rd_num_handles)),
        ] {
            e.field("mx_channel_call_args_t", name, offset, size_of::<u32>());
        }
    }

    e.size::<PortPacket>("mx_port_packet_t");
    e.size::<[u64; 4]>("mx_packet_user_t");
    field!("mx_port_packet_t", "key", PortPacket, key, u64);
    field!("mx_port_packet_t", "type", PortPacket, type_, u32);
    field!("mx_port_packet_t", "status", PortPacket, status, i32);
    field!("mx_port_packet_t", "user", PortPacket, payload, [u64; 4]);
    field!(
        "mx_port_packet_t",
        "user.u64",
        PortPacket,
        payload,
        [u64; 4]
    );
    // The signal form of the union is defined by `PortPacket`'s accessors:
    // find where they put each field.
    let payload = offset_of!(PortPacket, payload);
    for (name, offset, size) in signal_layout() {
        e.field(
            "mx_port_packet_t",
            &format!("signal.{name}"),
            payload + offset,
            size,
        );
        e.field("mx_packet_signal_t", name, offset, size);
    }
    // Two reserved words follow `count`: the signal form is 32 bytes, the
    // whole union.
    e.field("mx_port_packet_t", "signal", payload, 32);
    e.size_only("mx_packet_signal_t", 32);

    // Prototypes of the exported functions.
    let mut exported = Vec::new();
    prototypes! { e, exported;
        mx_time_get(u32 = "uint32_t") -> mx_time_t = "mx_time_t";
        mx_deadline_after(u64 = "uint64_t") -> mx_time_t = "mx_time_t";
        mx_nanosleep(mx_time_t = "mx_time_t") -> mx_status_t = "mx_status_t";
        mx_handle_close(mx_handle_t = "mx_handle_t") -> mx_status_t = "mx_status_t";
        mx_handle_duplicate(
            mx_handle_t = "mx_handle_t", mx_rights_t = "mx_rights_t", *mut mx_handle_t = "mx_handle_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_handle_replace(
            mx_handle_t = "mx_handle_t", mx_rights_t = "mx_rights_t", *mut mx_handle_t = "mx_handle_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_object_signal(mx_handle_t = "mx_handle_t", u32 = "uint32_t", u32 = "uint32_t")
            -> mx_status_t = "mx_status_t";
        mx_object_signal_peer(mx_handle_t = "mx_handle_t", u32 = "uint32_t", u32 = "uint32_t")
            -> mx_status_t = "mx_status_t";
        mx_object_wait_one(
            mx_handle_t = "mx_handle_t", mx_signals_t = "mx_signals_t", mx_time_t = "mx_time_t",
            *mut mx_signals_t = "mx_signals_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_object_wait_many(*mut mx_wait_item_t = "mx_wait_item_t*", u32 = "uint32_t", mx_time_t = "mx_time_t")
            -> mx_status_t = "mx_status_t";
        mx_object_get_info(
            mx_handle_t = "mx_handle_t", u32 = "uint32_t", *mut core::ffi::c_void = "void*",
            usize = "size_t", *mut usize = "size_t*", *mut usize = "size_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_event_create(u32 = "uint32_t", *mut mx_handle_t = "mx_handle_t*") -> mx_status_t = "mx_status_t";
        mx_eventpair_create(u32 = "uint32_t", *mut mx_handle_t = "mx_handle_t*", *mut mx_handle_t = "mx_handle_t*")
            -> mx_status_t = "mx_status_t";
        mx_socket_create(u32 = "uint32_t", *mut mx_handle_t = "mx_handle_t*", *mut mx_handle_t = "mx_handle_t*")
            -> mx_status_t = "mx_status_t";
        mx_socket_write(
            mx_handle_t = "mx_handle_t", u32 = "uint32_t", *const core::ffi::c_void = "const void*",
            usize = "size_t", *mut usize = "size_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_port_create(u32 = "uint32_t", *mut mx_handle_t = "mx_handle_t*") -> mx_status_t = "mx_status_t";
        mx_port_queue(mx_handle_t = "mx_handle_t", *const core::ffi::c_void = "const void*", usize = "size_t")
            -> mx_status_t = "mx_status_t";
        mx_port_wait(
            mx_handle_t = "mx_handle_t", mx_time_t = "mx_time_t", *mut core::ffi::c_void = "void*",
            usize = "size_t"
        ) -> mx_status_t = "mx_status_t";
        mx_port_cancel(mx_handle_t = "mx_handle_t", mx_handle_t = "mx_handle_t", u64 = "uint64_t")
            -> mx_status_t = "mx_status_t";
        mx_object_wait_async(
            mx_handle_t = "mx_handle_t", mx_handle_t = "mx_handle_t", u64 = "uint64_t",
            mx_signals_t = "mx_signals_t", u32 = "uint32_t"
        ) -> mx_status_t = "mx_status_t";
        mx_socket_read(
            mx_handle_t = "mx_handle_t", u32 = "uint32_t", *mut core::ffi::c_void = "void*",
            usize = "size_t", *mut usize = "size_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_channel_create(u32 = "uint32_t", *mut mx_handle_t = "mx_handle_t*", *mut mx_handle_t = "mx_handle_t*")
            -> mx_status_t = "mx_status_t";
        mx_channel_write(
            mx_handle_t = "mx_handle_t", u32 = "uint32_t", *const core::ffi::c_void = "const void*",
            u32 = "uint32_t", *const mx_handle_t = "const mx_handle_t*", u32 = "uint32_t"
        ) -> mx_status_t = "mx_status_t";
        mx_channel_read(
            mx_handle_t = "mx_handle_t", u32 = "uint32_t", *mut core::ffi::c_void = "void*",
            *mut mx_handle_t = "mx_handle_t*", u32 = "uint32_t", u32 = "uint32_t",
            *mut u32 = "uint32_t*", *mut u32 = "uint32_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_channel_call(
            mx_handle_t = "mx_handle_t", u32 = "uint32_t", mx_time_t = "mx_time_t",
            *const magenta::ctypes::mx_channel_call_args_t = "const mx_channel_call_args_t*",
            *mut u32 = "uint32_t*", *mut u32 = "uint32_t*", *mut mx_status_t = "mx_status_t*"
        ) -> mx_status_t = "mx_status_t";
        mx_linux_channel_from_fd(core::ffi::c_int = "int", *mut mx_handle_t = "mx_handle_t*")
            -> mx_status_t = "mx_status_t";
        mx_linux_spawn(
            *const core::ffi::c_char = "const char*",
            *const *mut core::ffi::c_char = "char* const*",
            *const *mut core::ffi::c_char = "char* const*",
            *const mx_handle_t = "const mx_handle_t*", *const u32 = "const uint32_t*",
            u32 = "uint32_t", *mut pid_t = "pid_t*"
        ) -> mx_status_t = "mx_status_t";
    }
    (e, exported)
}

#[test]
fn headers_match_the_rust_definitions() {
    let (expected, _) = expected();
    let dir = scratch("abi");
    std::fs::write(dir.join("expected.h"), &expected.text).unwrap();
    let abi_c = c_sources().join("abi.c");
    let abi_cc = dir.join("abi.cc");
    // The same checks from C++ (static_assert, decltype instead of _Generic).
    std::fs::copy(&abi_c, &abi_cc).unwrap();
    let include = format!("-I{}", dir.display());
    for source in [abi_c, abi_cc] {
        let out = dir.join(source.file_name().unwrap()).with_extension("bin");
        let binary = build(&[source], &out, &[&include]);
        let output = run_ok(&mut Command::new(binary));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let want = format!(
            "{} constants, {} layout checks, {} prototypes",
            expected.constants, expected.layouts, expected.prototypes
        );
        assert!(stdout.contains(&want), "expected {want:?}, got {stdout:?}");
        println!("{}: {stdout}", out.display());
    }
}

#[test]
fn every_header_stands_alone_in_c11_and_cxx17() {
    let dir = scratch("headers");
    for header in [
        "errors.h",
        "rights.h",
        "types.h",
        "compiler.h",
        "process.h",
        "processargs.h",
        "linux.h",
        "syscalls/object.h",
        "syscalls/port.h",
        "syscalls/types.h",
        "syscalls.h",
    ] {
        for ext in ["c", "cc"] {
            let source = dir.join(format!("{}.{ext}", header.replace('/', "_")));
            // Something to compile besides the header (an empty translation
            // unit is itself a pedantic warning).
            std::fs::write(
                &source,
                format!("#include <magenta/{header}>\nint mx_header_check;\n"),
            )
            .unwrap();
            compile_only(&source, &source.with_extension(format!("{ext}.o")), &[]);
        }
    }
}

/// A C file that checks every entry of `names.txt` against the headers,
/// and every call of `calls.txt` against its prototype, at compile time.
fn names_and_calls_check() -> String {
    let mut c = String::from(
        "#include <magenta/syscalls.h>\n#include <magenta/processargs.h>\n\
         #include <magenta/linux.h>\n#include <stddef.h>\n\
         #ifdef __cplusplus\n#include <type_traits>\n\
         #define CHECK(cond, what) static_assert(cond, what)\n#define ALIGNOF(t) alignof(t)\n\
         #define PROTOTYPE_OK(name, ...) (std::is_same<decltype(&name), __VA_ARGS__>::value)\n\
         #else\n#define CHECK(cond, what) _Static_assert(cond, what)\n#define ALIGNOF(t) _Alignof(t)\n\
         #define PROTOTYPE_OK(name, ...) _Generic((&name), __VA_ARGS__: 1, default: 0)\n#endif\n",
    );
    for entry in list("names.txt") {
        let (name, kind, facts) = (
            &entry[1],
            entry[2].as_str(),
            entry.get(3).map_or("", String::as_str),
        );
        let nums: Vec<&str> = facts.split_whitespace().collect();
        match kind {
            "const" => {
                let (cast, suffix) = if facts.starts_with('-') {
                    ("long long", "ll")
                } else {
                    ("unsigned long long", "ull")
                };
                writeln!(
                    c,
                    "CHECK(({cast})({name}) == {facts}{suffix}, \"{name} = {facts}\");"
                )
                .unwrap();
            }
            "macro" => writeln!(
                c,
                "#ifndef {name}\n#error \"{name} is not defined\"\n#endif"
            )
            .unwrap(),
            "type" => writeln!(
                c,
                "CHECK(sizeof({name}) == {} && ALIGNOF({name}) == {}, \"layout of {name}\");",
                nums[0], nums[1]
            )
            .unwrap(),
            "field" => {
                let (ty, field) = name.split_once('.').unwrap();
                writeln!(
                    c,
                    "CHECK(offsetof({ty}, {field}) == {} && sizeof((({ty}*)0)->{field}) == {}, \"{name}\");",
                    nums[0], nums[1]
                )
                .unwrap();
            }
            "incomplete" => {
                writeln!(c, "CHECK(sizeof({name}*) == sizeof(void*), \"{name}\");").unwrap()
            }
            other => panic!("names.txt: kind {other:?} of {name}"),
        }
    }
    for call in calls() {
        writeln!(
            c,
            "CHECK(PROTOTYPE_OK({}, {} (*)({})), \"prototype of {}\");",
            call.name, call.ret, call.params, call.name
        )
        .unwrap();
    }
    c.push_str("int mx_names_checked;\n");
    c
}

#[test]
fn headers_have_every_name_and_call_of_the_lists() {
    let dir = scratch("names");
    let source = names_and_calls_check();
    for ext in ["c", "cc"] {
        let path = dir.join(format!("names.{ext}"));
        std::fs::write(&path, &source).unwrap();
        compile_only(&path, &path.with_extension(format!("{ext}.o")), &[]);
    }
}

#[test]
fn the_rust_definitions_agree_with_names_txt() {
    let names: std::collections::HashMap<String, String> = list("names.txt")
        .into_iter()
        .filter(|e| e[2] == "const")
        .map(|e| (e[1].clone(), e[3].clone()))
        .collect();
    let (expected, _) = expected();
    let mut checked = 0;
    for line in expected.text.lines().filter(|l| l.starts_with("CONSTANT(")) {
        let mut parts = line["CONSTANT(".len()..].split(", ");
        let name = parts.next().unwrap();
        let value = parts.next().unwrap().trim_start_matches('(');
        let value = value
            .trim_end_matches(')')
            .trim_end_matches("ull")
            .trim_end_matches("ll");
        assert_eq!(names.get(name).map(String::as_str), Some(value), "{name}");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} Rust constants");
}

#[test]
fn headers_define_nothing_that_names_txt_lacks() {
    let listed: std::collections::HashSet<String> = list("names.txt")
        .into_iter()
        .map(|e| e[1].clone())
        .collect();
    let mut missing = Vec::new();
    let mut stack = vec![include_dir().join("magenta")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let line = line.trim_start();
                let name = if let Some(rest) = line.strip_prefix("#define ") {
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                } else if line.starts_with('}') || line.starts_with("typedef ") {
                    line.trim_end_matches(';')
                        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .find(|w| w.ends_with("_t"))
                } else {
                    None
                };
                if let Some(name) = name {
                    let guard = name.starts_with("MAGENTA_") && name.ends_with("_H_");
                    if !guard && name != "MX_COMPILER_ATTR_" && !listed.contains(name) {
                        missing.push(format!("{}: {name}", path.display()));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in names.txt: {missing:#?}");
}

#[test]
fn libmagenta_exports_exactly_the_calls_of_calls_txt() {
    let mut listed: Vec<String> = calls().into_iter().map(|c| c.name).collect();
    listed.sort_unstable();
    let before = listed.len();
    listed.dedup();
    assert_eq!(listed.len(), before, "a call is listed twice");
    for lib in ["libmagenta.so", "libmagenta.a"] {
        assert_eq!(exported(&library_dir().join(lib)), listed, "{lib}");
    }
    // The prototypes checked against Rust above are all listed.
    let (_, rust) = expected();
    for name in rust {
        assert!(listed.iter().any(|l| l == name), "{name}");
    }
}
