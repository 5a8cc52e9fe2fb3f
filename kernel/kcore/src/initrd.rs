//! The initrd: a cpio "newc" archive of user programs, read in place.
//!
//! Format (per entry): a 110-byte ASCII header — magic `070701` (or
//! `070702`, whose checksum is ignored) and 13 fields of 8 hex digits:
//! ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
//! rdevmajor, rdevminor, namesize, check — then the NUL-terminated name
//! (`namesize` bytes including the NUL), padding to a multiple of 4 from the
//! start of the header, then `filesize` bytes of data, padding to 4. The
//! archive ends with an entry named `TRAILER!!!`; anything after it (cpio
//! pads to 512 bytes) is ignored.
//!
//! [`Initrd::parse`] checks all of this and never panics; [`newc::write`]
//! builds such archives (used by the `mkinitrd` host tool and by tests).

use alloc::vec::Vec;
use core::fmt;

/// Length of a newc header.
pub const HEADER_LEN: usize = 110;
/// Name of the closing entry.
pub const TRAILER: &str = "TRAILER!!!";
/// `mode` bits giving the file type.
pub const S_IFMT: u32 = 0o170_000;
/// File type of a regular file.
pub const S_IFREG: u32 = 0o100_000;
/// File type of a directory.
pub const S_IFDIR: u32 = 0o040_000;

/// Why an archive was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitrdError {
    /// The header at this offset is cut short by the end of the archive.
    Truncated {
        /// Offset of the entry's header.
        offset: usize,
    },
    /// No `070701`/`070702` magic at this offset.
    BadMagic {
        /// Offset of the entry's header.
        offset: usize,
    },
    /// A header field is not 8 hex digits.
    BadField {
        /// Offset of the entry's header.
        offset: usize,
        /// Name of the field.
        field: &'static str,
    },
    /// The name is empty, lacks its NUL, or is not UTF-8.
    BadName {
        /// Offset of the entry's header.
        offset: usize,
    },
    /// The name or data runs past the end of the archive.
    OutOfBounds {
        /// Offset of the entry's header.
        offset: usize,
    },
    /// The archive ends without a `TRAILER!!!` entry.
    MissingTrailer,
    /// Memory for the entry list could not be allocated.
    NoMemory,
    /// (Writer) an entry cannot be represented: name empty, containing NUL
    /// or equal to the trailer, or name/data longer than 4 GiB.
    Unrepresentable {
        /// Index of the entry.
        index: usize,
    },
}

impl fmt::Display for InitrdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InitrdError::Truncated { offset } => write!(f, "truncated header at offset {offset}"),
            InitrdError::BadMagic { offset } => {
                write!(f, "bad magic at offset {offset} (not a cpio newc archive?)")
            }
            InitrdError::BadField { offset, field } => {
                write!(f, "bad {field} field in header at offset {offset}")
            }
            InitrdError::BadName { offset } => {
                write!(f, "bad file name in entry at offset {offset}")
            }
            InitrdError::OutOfBounds { offset } => {
                write!(
                    f,
                    "entry at offset {offset} runs past the end of the archive"
                )
            }
            InitrdError::MissingTrailer => f.write_str("archive has no TRAILER!!! entry"),
            InitrdError::NoMemory => f.write_str("out of memory"),
            InitrdError::Unrepresentable { index } => {
                write!(f, "entry {index} cannot be stored in a newc archive")
            }
        }
    }
}

/// One archive member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Name as stored, with any leading `./` or `/` removed.
    pub name: &'a str,
    /// Mode bits (type and permissions).
    pub mode: u32,
    /// Contents (empty for directories).
    pub data: &'a [u8],
}

impl Entry<'_> {
    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
}

/// A parsed archive, borrowing the archive bytes.
#[derive(Clone, Debug, Default)]
pub struct Initrd<'a> {
    entries: Vec<Entry<'a>>,
}

const FIELDS: [&str; 13] = [
    "ino",
    "mode",
    "uid",
    "gid",
    "nlink",
    "mtime",
    "filesize",
    "devmajor",
    "devminor",
    "rdevmajor",
    "rdevminor",
    "namesize",
    "check",
];
const MODE: usize = 1;
const FILESIZE: usize = 6;
const NAMESIZE: usize = 11;

impl<'a> Initrd<'a> {
    /// Parses and validates a whole archive.
    pub fn parse(bytes: &'a [u8]) -> Result<Initrd<'a>, InitrdError> {
        let mut entries = Vec::new();
        let mut offset = 0usize;
        loop {
            if offset >= bytes.len() {
                return Err(InitrdError::MissingTrailer);
            }
            let header = bytes
                .get(offset..)
                .and_then(|rest| rest.get(..HEADER_LEN))
                .ok_or(InitrdError::Truncated { offset })?;
            if &header[..6] != b"070701" && &header[..6] != b"070702" {
                return Err(InitrdError::BadMagic { offset });
            }
            let mut fields = [0u32; 13];
            for (i, (slot, field)) in fields.iter_mut().zip(FIELDS).enumerate() {
                let start = 6 + 8 * i;
                *slot = header
                    .get(start..start + 8)
                    .and_then(parse_hex)
                    .ok_or(InitrdError::BadField { offset, field })?;
            }
            let oob = InitrdError::OutOfBounds { offset };
            let name_start = offset.checked_add(HEADER_LEN).ok_or(oob)?;
            let name_end = name_start
                .checked_add(fields[NAMESIZE] as usize)
                .ok_or(oob)?;
            let raw_name = bytes.get(name_start..name_end).ok_or(oob)?;
            let name = match raw_name.split_last() {
                Some((0, name)) if !name.is_empty() && !name.contains(&0) => {
                    core::str::from_utf8(name).map_err(|_| InitrdError::BadName { offset })?
                }
                _ => return Err(InitrdError::BadName { offset }),
            };
            let data_start = align4(name_end).ok_or(oob)?;
            let data_end = data_start
                .checked_add(fields[FILESIZE] as usize)
                .ok_or(oob)?;
            if name == TRAILER {
                return Ok(Initrd { entries });
            }
            let data = bytes.get(data_start..data_end).ok_or(oob)?;
            entries.try_reserve(1).map_err(|_| InitrdError::NoMemory)?;
            entries.push(Entry {
                name: normalize(name),
                mode: fields[MODE],
                data,
            });
            // The final padding may be missing at the very end; the next
            // iteration then reports the missing trailer.
            offset = align4(data_end).ok_or(oob)?;
        }
    }

    /// All entries (files, directories, anything else), in archive order.
    pub fn entries(&self) -> &[Entry<'a>] {
        &self.entries
    }

    /// The regular files as `(name, data)`, in archive order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + '_ {
        self.entries
            .iter()
            .filter(|e| e.is_file())
            .map(|e| (e.name, e.data))
    }

    /// The contents of the regular file at `path`; `"/init"`, `"init"` and
    /// `"./init"` all name the same file.
    pub fn find(&self, path: &str) -> Option<&'a [u8]> {
        let path = normalize(path);
        self.entries
            .iter()
            .find(|e| e.is_file() && e.name == path)
            .map(|e| e.data)
    }
}

/// Strips leading `/` and `./` components.
fn normalize(mut name: &str) -> &str {
    loop {
        if let Some(rest) = name.strip_prefix('/') {
            name = rest;
        } else if let Some(rest) = name.strip_prefix("./") {
            name = rest;
        } else {
            return name;
        }
    }
}

/// Rounds up to a multiple of 4, or `None` on overflow.
fn align4(x: usize) -> Option<usize> {
    Some(x.checked_add(3)? & !3)
}

/// Parses exactly 8 hex digits (either case).
fn parse_hex(field: &[u8]) -> Option<u32> {
    if field.len() != 8 {
        return None;
    }
    field.iter().try_fold(0u32, |acc, &c| {
        let d = (c as char).to_digit(16)?;
        Some((acc << 4) | d)
    })
}

/// Writing newc archives.
pub mod newc {
    use super::{InitrdError, S_IFREG, TRAILER};
    use alloc::format;
    use alloc::vec::Vec;

    /// Builds an archive of regular files (mode `0755`) named as given,
    /// ending with the trailer. Fails only for entries a newc archive cannot
    /// hold: empty names, names containing NUL or equal to `TRAILER!!!`, or
    /// sizes that do not fit the 32-bit fields.
    pub fn write(entries: &[(&str, &[u8])]) -> Result<Vec<u8>, InitrdError> {
        let mut out = Vec::new();
        for (index, (name, data)) in entries.iter().enumerate() {
            let bad = InitrdError::Unrepresentable { index };
            if name.is_empty() || name.contains('\0') || *name == TRAILER {
                return Err(bad);
            }
            let namesize = u32::try_from(name.len() + 1).map_err(|_| bad)?;
            let filesize = u32::try_from(data.len()).map_err(|_| bad)?;
            let ino = u32::try_from(index + 1).map_err(|_| bad)?;
            entry(
                &mut out,
                ino,
                S_IFREG | 0o755,
                1,
                name,
                namesize,
                data,
                filesize,
            );
        }
        entry(&mut out, 0, 0, 1, TRAILER, TRAILER.len() as u32 + 1, &[], 0);
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        out: &mut Vec<u8>,
        ino: u32,
        mode: u32,
        nlink: u32,
        name: &str,
        namesize: u32,
        data: &[u8],
        filesize: u32,
    ) {
        let fields = [ino, mode, 0, 0, nlink, 0, filesize, 0, 0, 0, 0, namesize, 0];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        pad4(out);
        out.extend_from_slice(data);
        pad4(out);
    }

    fn pad4(out: &mut Vec<u8>) {
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }
}

#[cfg(test)]
mod tests;
