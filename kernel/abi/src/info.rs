//! Records the shell's system calls fill: one process ([`ProcInfo`], from
//! `proc_list`) and one CPU ([`CpuStats`], from `cpu_stats`). Both are
//! `repr(C)` words (plus a fixed name field), copied as little-endian bytes.

/// Process states as [`ProcInfo::state`] reports them.
pub mod state {
    /// Runnable, waiting for its CPU.
    pub const READY: u64 = 0;
    /// In ring 3 or in a system call.
    pub const RUNNING: u64 = 1;
    /// In `sleep`.
    pub const SLEEPING: u64 = 2;
    /// Waiting for an event (message, child, input).
    pub const BLOCKED: u64 = 3;
    /// Exited, not yet reaped by its parent.
    pub const ZOMBIE: u64 = 4;

    /// A short name for tables.
    pub const fn name(s: u64) -> &'static str {
        match s {
            READY => "ready",
            RUNNING => "run",
            SLEEPING => "sleep",
            BLOCKED => "block",
            ZOMBIE => "zombie",
            _ => "?",
        }
    }
}

/// Longest process name [`ProcInfo`] carries (longer ones are cut).
pub const PROC_NAME_MAX: usize = 32;

/// One process, as `proc_list` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct ProcInfo {
    /// Process id.
    pub pid: u64,
    /// Parent's pid (0: the kernel).
    pub parent: u64,
    /// One of the [`state`] constants.
    pub state: u64,
    /// CPU it last ran on.
    pub cpu: u64,
    /// [`crate::Priority`] as a number (0 high, 1 normal, 2 low).
    pub priority: u64,
    /// CPU it is pinned to, or [`crate::AFFINITY_ANY`].
    pub affinity: u64,
    /// Time on a CPU (ring 3 and system calls, not waits), nanoseconds.
    pub cpu_ns: u64,
    /// Bytes of `name` in use.
    pub name_len: u64,
    /// The program path (`/init`, `/sh`, ...), UTF-8, zero-padded.
    pub name: [u8; PROC_NAME_MAX],
}

impl ProcInfo {
    /// Number of `u64` fields before `name`.
    pub const WORDS: usize = 8;
    /// Size in bytes.
    pub const SIZE: usize = Self::WORDS * 8 + PROC_NAME_MAX;

    /// The name as text (`"?"` if not UTF-8).
    pub fn name(&self) -> &str {
        let n = (self.name_len as usize).min(PROC_NAME_MAX);
        core::str::from_utf8(&self.name[..n]).unwrap_or("?")
    }

    /// Sets `name` (cut to [`PROC_NAME_MAX`] bytes at a character boundary).
    pub fn set_name(&mut self, name: &str) {
        let mut n = name.len().min(PROC_NAME_MAX);
        while !name.is_char_boundary(n) {
            n -= 1;
        }
        self.name = [0; PROC_NAME_MAX];
        self.name[..n].copy_from_slice(&name.as_bytes()[..n]);
        self.name_len = n as u64;
    }

    /// The in-memory bytes, as the kernel copies them to user space.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let words = [
            self.pid,
            self.parent,
            self.state,
            self.cpu,
            self.priority,
            self.affinity,
            self.cpu_ns,
            self.name_len,
        ];
        let mut out = [0u8; Self::SIZE];
        for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out[Self::WORDS * 8..].copy_from_slice(&self.name);
        out
    }

    /// Decodes a record (missing bytes read as 0).
    pub fn from_bytes(bytes: &[u8]) -> ProcInfo {
        let mut b = [0u8; Self::SIZE];
        let n = bytes.len().min(Self::SIZE);
        b[..n].copy_from_slice(&bytes[..n]);
        let w = |i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[i * 8..i * 8 + 8]);
            u64::from_le_bytes(x)
        };
        let mut name = [0u8; PROC_NAME_MAX];
        name.copy_from_slice(&b[Self::WORDS * 8..]);
        ProcInfo {
            pid: w(0),
            parent: w(1),
            state: w(2),
            cpu: w(3),
            priority: w(4),
            affinity: w(5),
            cpu_ns: w(6),
            name_len: w(7),
            name,
        }
    }
}

/// One CPU's executor and idle counters, as `cpu_stats` reports them. All
/// counts are since boot; a reader takes two snapshots and divides the
/// differences by the difference of `uptime_ns` for rates. New fields are
/// only ever appended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct CpuStats {
    /// Nanoseconds since boot when the snapshot was taken.
    pub uptime_ns: u64,
    /// The CPU's index.
    pub cpu: u64,
    /// Polls of task futures.
    pub polls: u64,
    /// Wakes of tasks homed here.
    pub wakes: u64,
    /// Of `wakes`, those issued from another CPU.
    pub remote_wakes: u64,
    /// RESCHEDULE IPIs sent by this CPU.
    pub ipis_sent: u64,
    /// IPIs received by this CPU.
    pub ipis_received: u64,
    /// Successful steals by this CPU.
    pub steals: u64,
    /// Run-queue length at the snapshot.
    pub queued: u64,
    /// Times the CPU went idle.
    pub idles: u64,
    /// Time halted (`hlt`) waiting for an interrupt, nanoseconds.
    pub halt_ns: u64,
    /// Time spent polling for work while idle (an idle policy that spins
    /// before halting), nanoseconds; 0 while the kernel only halts.
    pub poll_ns: u64,
    /// Timer interrupts taken.
    pub timer_ticks: u64,
    /// Wake-to-poll latency samples.
    pub wake_count: u64,
    /// Wake-to-poll latency, median, nanoseconds (log2-bucket bound).
    pub wake_p50_ns: u64,
    /// Wake-to-poll latency, 99th percentile, nanoseconds.
    pub wake_p99_ns: u64,
    /// Wake-to-poll latency, largest, nanoseconds.
    pub wake_max_ns: u64,
}

impl CpuStats {
    /// Number of `u64` fields.
    pub const FIELDS: usize = 17;
    /// Size in bytes.
    pub const SIZE: usize = Self::FIELDS * 8;

    /// The fields in layout order.
    pub const fn to_words(&self) -> [u64; Self::FIELDS] {
        [
            self.uptime_ns,
            self.cpu,
            self.polls,
            self.wakes,
            self.remote_wakes,
            self.ipis_sent,
            self.ipis_received,
            self.steals,
            self.queued,
            self.idles,
            self.halt_ns,
            self.poll_ns,
            self.timer_ticks,
            self.wake_count,
            self.wake_p50_ns,
            self.wake_p99_ns,
            self.wake_max_ns,
        ]
    }

    /// Builds one from its fields in layout order.
    pub const fn from_words(w: [u64; Self::FIELDS]) -> CpuStats {
        CpuStats {
            uptime_ns: w[0],
            cpu: w[1],
            polls: w[2],
            wakes: w[3],
            remote_wakes: w[4],
            ipis_sent: w[5],
            ipis_received: w[6],
            steals: w[7],
            queued: w[8],
            idles: w[9],
            halt_ns: w[10],
            poll_ns: w[11],
            timer_ticks: w[12],
            wake_count: w[13],
            wake_p50_ns: w[14],
            wake_p99_ns: w[15],
            wake_max_ns: w[16],
        }
    }

    /// The in-memory bytes, as the kernel copies them to user space.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (chunk, w) in out.chunks_exact_mut(8).zip(self.to_words()) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Decodes a (possibly short) byte prefix; missing fields are 0.
    pub fn from_bytes(bytes: &[u8]) -> CpuStats {
        let mut w = [0u64; Self::FIELDS];
        for (slot, chunk) in w.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *slot = u64::from_le_bytes(b);
        }
        CpuStats::from_words(w)
    }
}

const _: () = assert!(core::mem::size_of::<ProcInfo>() == ProcInfo::SIZE);
const _: () = assert!(core::mem::size_of::<CpuStats>() == CpuStats::SIZE);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_info_bytes() {
        let mut p = ProcInfo { pid: 7, parent: 1, state: state::BLOCKED, cpu: 3, priority: 2, affinity: u64::MAX, cpu_ns: 123_456, ..Default::default() };
        p.set_name("/a-very-long-program-name-that-does-not-fit");
        assert_eq!(p.name().len(), PROC_NAME_MAX);
        let b = p.to_bytes();
        assert_eq!(ProcInfo::from_bytes(&b), p);
        assert_eq!(ProcInfo::from_bytes(&b[..8]).pid, 7);
        p.set_name("/sh");
        assert_eq!(ProcInfo::from_bytes(&p.to_bytes()).name(), "/sh");
        // A cut never splits a character.
        let mut q = ProcInfo::default();
        q.set_name("ééééééééééééééééé"); // 34 bytes
        assert_eq!(q.name().len(), 32);
        assert_eq!(state::name(state::ZOMBIE), "zombie");
    }

    #[test]
    fn cpu_stats_bytes() {
        let mut w = [0u64; CpuStats::FIELDS];
        for (i, x) in w.iter_mut().enumerate() {
            *x = i as u64 * 1000 + 1;
        }
        let s = CpuStats::from_words(w);
        assert_eq!(s.to_words(), w);
        assert_eq!(CpuStats::from_bytes(&s.to_bytes()), s);
        assert_eq!(CpuStats::from_bytes(&s.to_bytes()[..16]).cpu, s.cpu);
        assert_eq!(CpuStats::from_bytes(&[]), CpuStats::default());
    }
}
