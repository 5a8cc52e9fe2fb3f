//! Program arguments, as the kernel placed them on the user stack.

use abi::UserStr;

/// The `argv` the program was started with (see the crate docs for the
/// layout the kernel provides).
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const UserStr,
}

impl Args {
    /// Most arguments looked at (guards against a garbage `argc`).
    pub const MAX: usize = 4096;

    /// Wraps the kernel-provided `argc`/`argv`.
    ///
    /// # Safety
    /// `argv` must point to `argc` valid `UserStr`s, each naming readable
    /// memory, all of it unchanged for the rest of the program.
    pub unsafe fn from_raw(argc: u64, argv: *const UserStr) -> Args {
        let argc = if argv.is_null() {
            0
        } else {
            (argc as usize).min(Self::MAX)
        };
        Args { argc, argv }
    }

    /// Number of arguments (including the program name, if the caller of
    /// `exec` passed one).
    pub fn len(&self) -> usize {
        self.argc
    }

    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// The bytes of argument `i`.
    pub fn get_bytes(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: `from_raw`'s contract: argv[0..argc] are valid UserStrs
        // naming memory that lives as long as the program.
        unsafe {
            let s = self.argv.add(i).read_unaligned();
            if s.len == 0 {
                return Some(&[]);
            }
            if s.ptr == 0 {
                return None;
            }
            Some(core::slice::from_raw_parts(
                s.ptr as *const u8,
                s.len as usize,
            ))
        }
    }

    /// Argument `i` as text (`None` if out of range or not UTF-8).
    pub fn get(&self, i: usize) -> Option<&'static str> {
        core::str::from_utf8(self.get_bytes(i)?).ok()
    }

    /// All arguments as text (non-UTF-8 ones as `"\u{fffd}"`).
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        (0..self.argc).map(|i| self.get(i).unwrap_or("\u{fffd}"))
    }
}
