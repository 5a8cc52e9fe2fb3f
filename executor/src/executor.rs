//! The `Executor`: per-CPU state, spawning, the wake-side enqueue + notify, migration and
//! statistics. The loop itself (`run`, `block_on`, polling, idling) is in `run.rs`.

use alloc::boxed::Box;
use core::future::Future;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crate::handshake::SleepFlag;
use crate::hist::Log2Histogram;
use crate::join::JoinHandle;
use crate::idle::{Halt, IdlePolicy};
use crate::policy::{PolicySlot, StealHalf, StealPolicy};
use crate::queue::{Pusher, RunQueues};
use crate::stats::{bump, bump_local, CpuStats, Stats};
use crate::task::{allocate, NewTask, TaskId, TaskRef};
use crate::timer::TimerQueue;
use crate::Platform;

/// Scheduling priority. A CPU always runs its High tasks before Normal ones and Normal
/// before Low (strict: a High task that never stops yielding starves the others).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Run first (interrupt bottom halves, latency-critical services).
    High = 0,
    /// The default.
    #[default]
    Normal = 1,
    /// Run when nothing else is ready (background work).
    Low = 2,
}

/// How to spawn a task; `SpawnOptions::default()` is what [`Executor::spawn`] uses.
#[derive(Copy, Clone, Debug)]
pub struct SpawnOptions {
    /// Its priority.
    pub priority: Priority,
    /// Its home CPU; `None` = the calling CPU (round-robin from a foreign thread).
    pub cpu: Option<usize>,
    /// If true it never leaves its home CPU (not stolen, not migrated).
    pub pinned: bool,
    /// A name for debugging ([`task_info`](crate::task_info)).
    pub name: &'static str,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions { priority: Priority::Normal, cpu: None, pinned: false, name: "task" }
    }
}

/// Everything one CPU owns. Aligned so neighbouring CPUs do not share cache lines.
#[repr(align(128))]
pub(crate) struct PerCpu {
    pub queues: RunQueues,
    /// "I may halt": set (SeqCst fence after) before the idle re-check, cleared after.
    /// Wakers push, fence, then read it to decide whether to notify. See `kick`.
    pub sleeping: SleepFlag,
    /// Id of the task being polled, 0 if none.
    pub current: AtomicU64,
    /// Name field of that task's header; set before `current`, valid while it is
    /// non-zero (see `current_task_name_here`).
    pub current_name: AtomicPtr<&'static str>,
    pub timers: TimerQueue,
    /// Deadline last passed to `Platform::set_deadline` (`u64::MAX` = none). Owner-only.
    pub programmed: AtomicU64,
    /// The idle policy's word of state for this CPU (e.g. an adaptive window). Owner-only.
    pub idle_state: AtomicU64,
    /// The CPU this one last woke a task on (`NOBODY`: none since its last idle period).
    /// Its next poll watches that CPU's progress (`run::idle`). Owner-only.
    pub awaited: AtomicUsize,
    pub stats: Stats,
}

/// A per-CPU lock-free async executor. See the crate docs.
pub struct Executor {
    platform: &'static dyn Platform,
    pub(crate) cpus: Box<[PerCpu]>,
    steal_policy: PolicySlot<dyn StealPolicy>,
    idle_policy: PolicySlot<dyn IdlePolicy>,
    /// Whether a busy CPU notifies a halted one to come and steal (see `wake_thief`).
    wake_thieves: AtomicBool,
    /// Timer precision: arm the timer this many ticks before a deadline and spin the rest.
    timer_spin: AtomicU64,
    /// `every - 1` for the wake-latency sample rate `every` (a power of two): a wake is
    /// stamped when its CPU's wake count is a multiple of `every`. See `count_wake`.
    sample_mask: AtomicU64,
    next_id: AtomicU64,
    /// Round-robin home for spawns from foreign threads.
    next_home: AtomicUsize,
    /// Bit `i` set while CPU `i` (< 64) is in `idle`. Only a hint, for waking a thief when
    /// work piles up; correctness never depends on it (the per-CPU `sleeping` does that).
    pub(crate) idle_mask: AtomicU64,
    /// Scheduler-trace mask and sink (`trace.rs`).
    pub(crate) tracer: crate::trace::Tracer,
}

/// `PerCpu::programmed` after [`Executor::timer_clobbered`]: matches no deadline the
/// idle path compares it with (`u64::MAX` means "none", real deadlines are smaller).
pub(crate) const CLOBBERED: u64 = u64::MAX - 1;

/// `PerCpu::awaited` when this CPU has woken no other since its last idle period.
pub(crate) const NOBODY: usize = usize::MAX;

/// Default wake-latency sample rate: one wake in this many is timed (see
/// [`Executor::set_latency_sample`]).
pub const DEFAULT_LATENCY_SAMPLE: u64 = 16;

static DEFAULT_STEAL: &'static dyn StealPolicy = &StealHalf;
static DEFAULT_IDLE: &'static dyn IdlePolicy = &Halt;

impl Executor {
    /// Create an executor for `num_cpus` CPUs on `platform` and leak it (the kernel keeps
    /// it for ever; tests leak one per test).
    pub fn new(platform: &'static dyn Platform, num_cpus: usize) -> &'static Executor {
        assert!(num_cpus > 0, "executor needs at least one CPU");
        let cpus = (0..num_cpus)
            .map(|_| PerCpu {
                queues: RunQueues::new(),
                sleeping: SleepFlag::new(),
                current: AtomicU64::new(0),
                current_name: AtomicPtr::new(core::ptr::null_mut()),
                timers: TimerQueue::new(),
                programmed: AtomicU64::new(u64::MAX),
                idle_state: AtomicU64::new(0),
                awaited: AtomicUsize::new(NOBODY),
                stats: Stats::default(),
            })
            .collect();
        Box::leak(Box::new(Executor {
            platform,
            cpus,
            steal_policy: PolicySlot::new(&DEFAULT_STEAL),
            idle_policy: PolicySlot::new(&DEFAULT_IDLE),
            wake_thieves: AtomicBool::new(true),
            timer_spin: AtomicU64::new(0),
            sample_mask: AtomicU64::new(DEFAULT_LATENCY_SAMPLE - 1),
            next_id: AtomicU64::new(1),
            next_home: AtomicUsize::new(0),
            idle_mask: AtomicU64::new(0),
            tracer: crate::trace::Tracer::new(),
        }))
    }

    /// Number of CPUs.
    pub fn num_cpus(&self) -> usize {
        self.cpus.len()
    }

    /// The platform it runs on.
    pub fn platform(&self) -> &'static dyn Platform {
        self.platform
    }

    /// `platform().now()`.
    pub fn now(&self) -> u64 {
        self.platform.now()
    }

    /// Convert a duration to platform ticks, rounding up (so timers are never early).
    pub fn duration_to_ticks(&self, d: core::time::Duration) -> u64 {
        let t = (d.as_nanos() * self.platform.ticks_per_second() as u128).div_ceil(1_000_000_000);
        t.min(u64::MAX as u128) as u64
    }

    /// Convert platform ticks to nanoseconds (rounding down).
    pub fn ticks_to_nanos(&self, ticks: u64) -> u64 {
        let ns = ticks as u128 * 1_000_000_000 / self.platform.ticks_per_second().max(1) as u128;
        ns.min(u64::MAX as u128) as u64
    }

    /// Spawn `f` with home = the calling CPU, Normal priority, migratable.
    pub fn spawn<F>(&'static self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(SpawnOptions::default(), f)
    }

    /// Spawn `f` pinned to `cpu` (Normal priority).
    pub fn spawn_on<F>(&'static self, cpu: usize, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(SpawnOptions { cpu: Some(cpu), pinned: true, ..Default::default() }, f)
    }

    /// Spawn `f` with explicit options. Panics if `opts.cpu` is out of range.
    pub fn spawn_with<F>(&'static self, opts: SpawnOptions, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let me = self.platform.cpu_id();
        let home = match opts.cpu {
            Some(c) => c,
            None if me < self.num_cpus() => me,
            None => self.next_home.fetch_add(1, Ordering::Relaxed) % self.num_cpus(),
        };
        assert!(home < self.num_cpus(), "spawn: cpu {home} out of range");
        let id = self.new_task_id(me);
        let new = NewTask {
            exec: self,
            home,
            id,
            priority: opts.priority,
            pinned: opts.pinned,
            name: opts.name,
        };
        let (queued, handle) = allocate(new, f);
        let stats = &self.cpus[home].stats;
        if home == me {
            bump_local(&stats.local.local_spawns);
        } else {
            bump(&stats.shared.spawned);
        }
        self.enqueue(queued, me);
        JoinHandle::new(handle)
    }

    /// A unique id without a shared counter on the spawn path: `(seq << 16) | (cpu + 1)`
    /// from the spawning CPU's own sequence, or the shared counter (tag 0xffff) elsewhere.
    fn new_task_id(&self, me: usize) -> TaskId {
        if me < self.num_cpus() && me < 0xfffe {
            let seq = bump_local(&self.cpus[me].stats.local.next_id);
            TaskId((seq << 16) | (me as u64 + 1))
        } else {
            TaskId((self.next_id.fetch_add(1, Ordering::Relaxed) << 16) | 0xffff)
        }
    }

    /// Push a SCHEDULED task on its home CPU's queue and, if that CPU may be halted, notify
    /// it. `me` is the calling CPU (`platform.cpu_id()`), passed in to read it once per wake.
    pub(crate) fn enqueue(&self, task: TaskRef, me: usize) {
        // Relaxed: the task is SCHEDULED and in nobody's queue, so `migrate` cannot be
        // changing `home` now; we saw the last change through the state's Acquire.
        let home = task.header().home.load(Ordering::Relaxed);
        let pusher = if home != me {
            Pusher::Other
        } else if task.header().pinned && self.platform.in_task_context() {
            Pusher::OwnerTask
        } else {
            Pusher::Owner
        };
        self.cpus[home].queues.push(task, pusher);
        if home != me {
            if let Some(pc) = self.cpus.get(me) {
                pc.awaited.store(home, Ordering::Relaxed);
            }
            self.kick(home);
        }
    }

    /// Notify `cpu` if it announced that it may halt. The pairing with `run::idle`:
    ///
    /// ```text
    ///   waker:  push task ; fence(SeqCst) ; if sleeping { notify }
    ///   idler:  sleeping = true ; fence(SeqCst) ; if queues empty { halt }
    /// ```
    ///
    /// With a SeqCst fence on both sides, at least one side sees the other's write (Dekker):
    /// either the waker sees `sleeping` and notifies (and a notify that lands before the
    /// halt keeps it from halting: interrupts are off until `sti; hlt`), or the idler sees
    /// the task and does not halt. The swap makes only one waker pay for the notify.
    /// A CPU never kicks itself: if it is running this code, it is not halted.
    pub(crate) fn kick(&self, cpu: usize) {
        let pc = &self.cpus[cpu];
        if pc.sleeping.should_notify() {
            bump(&pc.stats.shared.notifies);
            self.platform.notify(cpu);
        } else {
            self.platform.poke(cpu);
        }
    }

    /// Called by a busy `cpu` now and then: if migratable tasks wait in its queues and some
    /// other CPU is idle, notify one idle CPU so that it wakes up and steals. (A halted CPU
    /// cannot notice work piling up elsewhere by itself.)
    pub(crate) fn wake_thief(&self, cpu: usize) {
        let others = self.idle_mask.load(Ordering::Relaxed) & !1u64.checked_shl(cpu as u32).unwrap_or(0);
        if others == 0
            || !self.wake_thieves.load(Ordering::Relaxed)
            || !self.steal_policy().wake_thieves()
            || self.stealable(cpu) == 0
        {
            return;
        }
        self.kick(others.trailing_zeros() as usize);
    }

    /// Count a wake that scheduled a task homed on `home`, issued from CPU `me`. Returns
    /// whether to time this one (stamp it for the wake-latency histogram): every wake is
    /// counted, one in `set_latency_sample` of the local and of the remote ones is timed,
    /// so that the two clock reads a timed wake costs are paid rarely.
    pub(crate) fn count_wake(&self, home: usize, me: usize) -> bool {
        let s = &self.cpus[home].stats;
        let n = if me == home {
            bump_local(&s.local.local_wakes)
        } else {
            s.shared.remote_wakes.fetch_add(1, Ordering::Relaxed) + 1
        };
        n & self.sample_mask.load(Ordering::Relaxed) == 0
    }

    /// Time one wake in `every` (rounded up to a power of two; default
    /// [`DEFAULT_LATENCY_SAMPLE`]; 1 = every wake) for the wake-latency histogram. Wakes
    /// are all counted either way; a timed wake costs two `Platform::now` reads.
    pub fn set_latency_sample(&self, every: u64) {
        let every = every.max(1).checked_next_power_of_two().unwrap_or(1 << 63);
        self.sample_mask.store(every - 1, Ordering::Relaxed);
    }

    /// Snapshot of `cpu`'s counters and wake-latency summary.
    pub fn stats(&self, cpu: usize) -> CpuStats {
        self.cpus[cpu].stats.snapshot(self.queued(cpu))
    }

    /// `cpu`'s full wake-latency histogram (ticks), e.g. to print or merge it.
    pub fn wake_latency(&self, cpu: usize) -> &Log2Histogram {
        &self.cpus[cpu].stats.wake_latency
    }

    /// Approximate run-queue length of `cpu` (all priorities, pinned or not).
    pub fn queued(&self, cpu: usize) -> usize {
        self.cpus[cpu].queues.len()
    }

    /// Whether any task waits in `cpu`'s run queues (cheaper than `queued() > 0`).
    pub fn has_queued(&self, cpu: usize) -> bool {
        !self.cpus[cpu].queues.is_empty()
    }

    /// Number of timers registered on `cpu` (takes its timer lock briefly).
    pub fn pending_timers(&self, cpu: usize) -> usize {
        self.cpus[cpu].timers.len()
    }

    /// The earliest timer deadline registered on `cpu`, if any (a lock-free read of the
    /// cached value). For a platform that arms its timer itself while a task runs long.
    pub fn next_deadline(&self, cpu: usize) -> Option<u64> {
        self.cpus[cpu].timers.next_deadline()
    }

    /// Tells the executor that `cpu`'s timer is no longer armed as it last asked: it was
    /// reprogrammed outside [`Platform::set_deadline`], or it fired. The next idle then
    /// programs it again even if the earliest deadline did not change, and an idle CPU
    /// about to halt goes round its loop instead. A platform's timer interrupt handler
    /// must call it (on `cpu` itself): an interrupt that comes before the deadline would
    /// otherwise leave the CPU halted with nothing armed.
    pub fn timer_clobbered(&self, cpu: usize) {
        self.cpus[cpu].programmed.store(CLOBBERED, Ordering::Relaxed);
    }

    /// Approximate number of migratable queued tasks on `cpu` (what `migrate` can move).
    pub fn stealable(&self, cpu: usize) -> usize {
        self.cpus[cpu].queues.migratable_len()
    }

    /// Move up to `max` migratable queued tasks from `from` to `to`, highest priority first,
    /// re-homing them (their later wakes go to `to`). Returns how many moved. Callable from
    /// any CPU: idle stealing (`to` = the thief) and the kernel's periodic balancer.
    pub fn migrate(&self, from: usize, to: usize, max: usize) -> usize {
        if from == to || from >= self.num_cpus() || to >= self.num_cpus() {
            return 0;
        }
        let mut moved = 0;
        while moved < max {
            let Some(task) = self.cpus[from].queues.pop_migratable() else { break };
            // Relaxed: the task is SCHEDULED and ours alone until pushed; the push below
            // (Release) publishes the new home to whoever pops it, and later wakers read
            // it after an Acquire of the state the next poll released.
            task.header().home.store(to, Ordering::Relaxed);
            self.trace(crate::trace::class::STEAL, || crate::Event::Migrate { task: task.header().id, from, to });
            self.cpus[to].queues.push(task, Pusher::Other);
            moved += 1;
        }
        if moved > 0 {
            let add = |c: &AtomicU64| c.fetch_add(moved as u64, Ordering::Relaxed);
            add(&self.cpus[from].stats.shared.migrated_out);
            add(&self.cpus[to].stats.shared.migrated_in);
            if to != self.platform.cpu_id() {
                self.kick(to);
            }
        }
        moved
    }

    /// Replace the steal policy (default [`StealHalf`]). Takes effect at the next steal.
    pub fn set_steal_policy(&self, p: &'static dyn StealPolicy) {
        self.steal_policy.set(p);
    }

    pub(crate) fn steal_policy(&self) -> &'static dyn StealPolicy {
        self.steal_policy.get()
    }

    /// Replace the idle policy (default [`Halt`](crate::idle::Halt)). Takes effect at each
    /// CPU's next idle period; adaptive state already learnt is kept.
    pub fn set_idle_policy(&self, p: &'static dyn IdlePolicy) {
        self.idle_policy.set(p);
    }

    pub(crate) fn idle_policy(&self) -> &'static dyn IdlePolicy {
        self.idle_policy.get()
    }

    /// Whether busy CPUs notify halted ones to come and steal (default true; a steal
    /// policy that never steals turns it off regardless).
    pub fn set_wake_thieves(&self, on: bool) {
        self.wake_thieves.store(on, Ordering::Relaxed);
    }

    /// Timer precision: arm each CPU's timer `d` early and spin to the deadline, so that a
    /// timer wake does not pay the interrupt's (or a host's) lateness. Zero turns it off.
    pub fn set_timer_spin(&self, d: core::time::Duration) {
        self.timer_spin.store(self.duration_to_ticks(d), Ordering::Relaxed);
    }

    pub(crate) fn timer_spin_ticks(&self) -> u64 {
        self.timer_spin.load(Ordering::Relaxed)
    }

    /// Platform ticks per microsecond (at least 1).
    pub(crate) fn ticks_per_us(&self) -> u64 {
        (self.platform.ticks_per_second() / 1_000_000).max(1)
    }

    /// The name of the task being polled on the calling CPU, if any: for an interrupt
    /// handler (a watchdog's NMI) that stopped a poll and wants to say whose it was.
    pub fn current_task_name_here(&self) -> Option<&'static str> {
        let pc = self.cpus.get(self.platform.cpu_id())?;
        if pc.current.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let p = pc.current_name.load(Ordering::Relaxed);
        // SAFETY: `current` is non-zero, and we run on the CPU that set it, so we are
        // inside that poll (or an interrupt of it, or just after it): the loop stores
        // the name before `current` and clears `current` before it drops its reference,
        // so the header is alive; `p` points at its `name`, never null once set.
        (!p.is_null()).then(|| unsafe { *p })
    }

    /// The task being polled on `cpu`, if any.
    pub fn current_task(&self, cpu: usize) -> Option<TaskId> {
        match self.cpus[cpu].current.load(Ordering::Relaxed) {
            0 => None,
            id => Some(TaskId(id)),
        }
    }
}
