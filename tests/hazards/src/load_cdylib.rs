//! Loads the hazards `cdylib` with `dlopen` and runs its TLS migration check.
//! Usage: `load-cdylib <path to libbeamlet_hazards.so> <switches per process>`.

use std::ffi::CString;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = CString::new(args.next().expect("the cdylib's path")).unwrap();
    let switches: u64 = args.next().map_or(1_000_000, |s| s.parse().unwrap());
    // SAFETY: `path` is a NUL-terminated string; loading runs no code of ours but
    // the library's initialisers (none beyond std's).
    let lib = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    assert!(!lib.is_null(), "dlopen failed");
    let name = c"beamlet_tls_migration";
    // SAFETY: `lib` is a live handle and `name` a NUL-terminated string.
    let sym = unsafe { libc::dlsym(lib, name.as_ptr()) };
    assert!(!sym.is_null(), "dlsym failed");
    // SAFETY: the symbol is `extern "C" fn(u64) -> i64` (see src/lib.rs).
    let check: extern "C" fn(u64) -> i64 = unsafe { std::mem::transmute(sym) };
    let migrations = check(switches);
    match migrations {
        -1 => panic!("a process saw another identity after a switch (stale TLS)"),
        -2 => panic!("the runtime inside the cdylib failed"),
        0 => panic!("no process migrated between threads: nothing was checked"),
        m => println!(
            "tls in cdylib: 3 processes x {switches} switches, {m} migrations, identity kept"
        ),
    }
}
