//! Program start-up and the panic handler.

use crate::args::Args;
use abi::UserStr;

/// Runs `main` with the kernel-provided arguments and exits with its result.
/// Called by the `_start` that [`crate::entry!`] defines.
///
/// # Safety
/// `argc`/`argv` must be as described in the crate docs.
pub unsafe fn start(argc: u64, argv: *const UserStr, main: fn(Args) -> i32) -> ! {
    // SAFETY: forwarded from the caller.
    let args = unsafe { Args::from_raw(argc, argv) };
    // `--table` anywhere: benchmark reports as one table row (the shell's `bench`).
    crate::tsc::set_table_mode(args.iter().any(|a| a == "--table"));
    let code = main(args);
    crate::sys::exit(code)
}

/// Exit code of a program that panicked.
pub const PANIC_EXIT_CODE: i32 = 101;

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let pid = crate::sys::getpid().unwrap_or(0);
    match info.location() {
        Some(l) => crate::eprintln!(
            "pid {pid} panicked at {}:{}: {}",
            l.file(),
            l.line(),
            info.message()
        ),
        None => crate::eprintln!("pid {pid} panicked: {}", info.message()),
    }
    crate::sys::exit(PANIC_EXIT_CODE)
}
