//! The per-CPU loop: fire due timers, poll one ready task, steal when empty, else idle.
//! Also `block_on`, and what happens to a task after its poll.

use alloc::sync::Arc;
use core::cell::Cell;
use core::future::Future;
use core::pin::pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll};

use crate::executor::{Executor, CLOBBERED, NOBODY};
use crate::idle::{IdleOutcome, STARVED_AFTER_US};
use crate::stats::{add_local, bump_local};
use crate::state::{AfterPoll, CANCELLED, HANDLE, JOIN_WAKER};
use crate::task::TaskRef;
use crate::waker::{block_on_waker, borrowed_waker, BlockOnSignal};

impl Executor {
    /// The loop of CPU `cpu`: poll ready tasks by priority, run expired timers, steal when
    /// idle (see [`set_steal_policy`](Executor::set_steal_policy)), then `platform.idle()`.
    /// Returns only when `stop()` is true; it is checked on every iteration and inside the
    /// idle re-check, so whoever sets it must then `notify` every CPU.
    pub fn run(&'static self, cpu: usize, stop: &dyn Fn() -> bool) {
        assert!(cpu < self.num_cpus(), "run: cpu {cpu} out of range");
        self.platform().enter_cpu(cpu);
        crate::context::enter(self);
        while !stop() {
            if self.tick(cpu) || self.steal(cpu) {
                continue;
            }
            self.idle(cpu, &|| !stop());
        }
    }

    /// Run the loop of CPU `cpu` on the calling thread until `f` completes, and return its
    /// output. `f` itself is polled here (it need not be `Send`), whenever it is woken,
    /// between the CPU's tasks. For tests and boot; do not run it on a CPU whose `run` loop
    /// is already going elsewhere.
    pub fn block_on<F: Future>(&'static self, cpu: usize, f: F) -> F::Output {
        assert!(cpu < self.num_cpus(), "block_on: cpu {cpu} out of range");
        self.platform().enter_cpu(cpu);
        crate::context::enter(self);
        let sig = Arc::new(BlockOnSignal { exec: self, cpu, woken: AtomicBool::new(true) });
        let waker = block_on_waker(sig.clone());
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(f);
        loop {
            // Acquire: pairs with the waker's Release store, so `f` sees what it was woken for.
            if sig.woken.swap(false, Ordering::Acquire) {
                if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                    return v;
                }
            }
            if self.tick(cpu) || sig.woken.load(Ordering::Relaxed) || self.steal(cpu) {
                continue;
            }
            // Re-checked after `sleeping` is published: Dekker with the waker's kick.
            self.idle(cpu, &|| !sig.woken.load(Ordering::Relaxed));
        }
    }

    /// One step: fire due timers, then poll at most one task. Returns whether it did work.
    fn tick(&'static self, cpu: usize) -> bool {
        let fired = self.fire_timers(cpu);
        let pc = &self.cpus[cpu];
        match pc.queues.pop() {
            Some(task) => {
                // Every 8th poll, see whether an idle CPU should come and steal.
                if pc.stats.local.polls.load(Ordering::Relaxed).is_multiple_of(8) {
                    self.wake_thief(cpu);
                }
                self.run_task(cpu, task);
                true
            }
            None => fired > 0,
        }
    }

    /// Fire `cpu`'s expired timers (waking their tasks), in deadline order.
    fn fire_timers(&self, cpu: usize) -> usize {
        let pc = &self.cpus[cpu];
        if pc.timers.next_deadline().is_none() {
            return 0;
        }
        let n = pc.timers.fire(self.now());
        if n > 0 {
            pc.stats.local.timers_fired.fetch_add(n as u64, Ordering::Relaxed);
            self.trace(crate::trace::class::TIMER, || crate::Event::TimersFired { count: n });
        }
        n
    }

    /// Ask the steal policy for work. Returns whether it got any.
    fn steal(&'static self, cpu: usize) -> bool {
        if self.num_cpus() == 1 || self.steal_policy().steal(self, cpu) == 0 {
            return false;
        }
        bump_local(&self.cpus[cpu].stats.local.steals);
        self.trace(crate::trace::class::STEAL, || crate::Event::Steal);
        true
    }

    /// True when `cpu` has a ready task or an expired timer.
    fn has_work(&self, cpu: usize) -> bool {
        let pc = &self.cpus[cpu];
        !pc.queues.is_empty() || pc.timers.next_deadline().is_some_and(|d| self.now() >= d)
    }

    /// Idle `cpu`. First poll: spin for the idle policy's window (and, with a timer spin,
    /// up to a deadline that close), checking for work. Then halt: program the timer,
    /// announce `sleeping`, and let the platform halt if, with interrupts off, there is
    /// still no work and `keep_going()` holds. Polling leaves `sleeping` clear, so wakes
    /// that land meanwhile send no IPI; the halt keeps the lost-wake-up-free protocol.
    fn idle(&self, cpu: usize, keep_going: &dyn Fn() -> bool) {
        let pc = &self.cpus[cpu];
        let local = &pc.stats.local;
        bump_local(&local.idles);
        let policy = self.idle_policy();
        let tpu = self.ticks_per_us();
        let spin = self.timer_spin_ticks();
        let start = self.now();
        let mut until = start.saturating_add(policy.window(&pc.idle_state, tpu));
        if let Some(d) = pc.timers.next_deadline().filter(|d| d.saturating_sub(start) <= spin) {
            until = until.max(d);
        }
        let mut now = start;
        // The CPU this one last woke a task on: if it runs nothing for STARVED_AFTER_US
        // while that task waits, the host is not running it (a host with fewer free cores
        // than busy vCPUs), and spinning here only takes host time from it. Then halt now.
        let awaited = pc.awaited.load(Ordering::Relaxed); // owner-only: no locked swap
        pc.awaited.store(NOBODY, Ordering::Relaxed);
        let mut watch = self.cpus.get(awaited).map(|t| {
            (t, t.stats.local.polls.load(Ordering::Relaxed), start.saturating_add(STARVED_AFTER_US * tpu))
        });
        let mut starved = false;
        if until > start {
            self.trace(crate::trace::class::IDLE, || crate::Event::IdlePollBegin);
            loop {
                if !keep_going() {
                    add_local(&local.poll_ticks, now - start);
                    self.trace(crate::trace::class::IDLE, || crate::Event::IdlePollEnd);
                    return;
                }
                if self.has_work(cpu) {
                    add_local(&local.poll_ticks, now - start);
                    self.trace(crate::trace::class::IDLE, || crate::Event::IdlePollEnd);
                    bump_local(&local.poll_hits);
                    policy.record(&pc.idle_state, tpu, IdleOutcome::PollHit { waited: now - start });
                    return;
                }
                if now >= until {
                    break;
                }
                if let Some((t, polls, _)) = watch.filter(|&(_, _, at)| now >= at) {
                    // No poll finished there since this one began, none is running, and
                    // work waits: that CPU has not run at all.
                    if t.stats.local.polls.load(Ordering::Relaxed) == polls
                        && t.current.load(Ordering::Relaxed) == 0
                        && !t.queues.is_empty()
                    {
                        starved = true;
                        bump_local(&local.polls_starved);
                        break;
                    }
                    watch = None;
                }
                core::hint::spin_loop();
                now = self.now();
            }
            add_local(&local.poll_ticks, now - start);
            self.trace(crate::trace::class::IDLE, || crate::Event::IdlePollEnd);
        }
        let polled = now - start;

        // The timer fires `spin` early; the poll above spins the rest of the way.
        let next = pc.timers.next_deadline().map(|d| d.saturating_sub(spin));
        if next.unwrap_or(u64::MAX) != pc.programmed.load(Ordering::Relaxed) {
            pc.programmed.store(next.unwrap_or(u64::MAX), Ordering::Relaxed);
            self.platform().set_deadline(cpu, next);
        }
        let bit = 1u64.checked_shl(cpu as u32).unwrap_or(0);
        self.idle_mask.fetch_or(bit, Ordering::Relaxed);
        pc.sleeping.announce(); // the idler's half of the pairing (handshake.rs)
        let halted = Cell::new(false);
        let halt_start = self.now();
        self.platform().idle(cpu, &|| {
            // A timer interrupt since the timer was programmed (the platform reported it
            // with `timer_clobbered`) means nothing is armed now: halting would wait for
            // ever if the interrupt came before the deadline (e.g. armed early for the
            // timer spin). Go round the loop instead; it programs the timer again.
            let h = keep_going() && !self.has_work(cpu) && pc.programmed.load(Ordering::Relaxed) != CLOBBERED;
            halted.set(h);
            h
        });
        pc.sleeping.clear();
        self.idle_mask.fetch_and(!bit, Ordering::Relaxed);
        if halted.get() {
            let t = self.now().saturating_sub(halt_start);
            bump_local(&local.halts);
            add_local(&local.halt_ticks, t);
            policy.record(&pc.idle_state, tpu, IdleOutcome::Halted { polled, halted: t, starved });
        }
    }

    /// Poll one task popped from `cpu`'s queue (we own its queue reference).
    fn run_task(&'static self, cpu: usize, task: TaskRef) {
        let pc = &self.cpus[cpu];
        let hdr = task.header();
        let prev = hdr.state.start_poll(); // (2)
        if prev & CANCELLED != 0 {
            self.drop_cancelled(cpu, &task);
            return;
        }
        // A timed wake left its stamp (see `count_wake`). Load, and store only when set: no
        // locked swap per poll. A stamp written by a wake racing with this poll may be
        // lost or recorded one poll late: statistics, never correctness.
        let stamp = hdr.wake_stamp.load(Ordering::Relaxed);
        if stamp != 0 {
            hdr.wake_stamp.store(0, Ordering::Relaxed);
            pc.stats.wake_latency.record_local(self.now().saturating_sub(stamp));
        }
        hdr.running_on.store(cpu, Ordering::Relaxed);
        pc.current_name.store(&hdr.name as *const &'static str as *mut _, Ordering::Relaxed);
        pc.current.store(hdr.id.0, Ordering::Relaxed);
        // SAFETY: `task` keeps its reference for the whole poll.
        let waker = unsafe { borrowed_waker(&task) };
        let mut cx = Context::from_waker(&waker);
        self.trace(crate::trace::class::POLL, || crate::Event::PollBegin { task: hdr.id, name: hdr.name });
        // SAFETY: we hold RUNNING, so nobody else touches the stage.
        let res = unsafe { (hdr.vtable.poll)(task.as_ptr(), &mut cx) };
        self.trace(crate::trace::class::POLL, || crate::Event::PollEnd { task: hdr.id, ready: res.is_ready() });
        pc.current.store(0, Ordering::Relaxed);
        bump_local(&pc.stats.local.polls);
        match res {
            Poll::Ready(()) => self.complete(cpu, task),
            Poll::Pending => self.after_pending(cpu, task),
        }
    }

    /// The future returned Ready (its output is in the stage).
    fn complete(&self, cpu: usize, task: TaskRef) {
        let hdr = task.header();
        let prev = hdr.state.complete(); // (5)
        // Counted before the joiner is woken, so that it sees the count.
        bump_local(&self.cpus[cpu].stats.local.completed);
        if prev & HANDLE == 0 {
            // Nobody will ever take the output; COMPLETE is set and HANDLE was already
            // gone, so the stage is ours alone.
            // SAFETY: exclusive access as just argued.
            unsafe { (hdr.vtable.drop_stage)(task.as_ptr()) };
        } else if prev & JOIN_WAKER != 0 {
            hdr.join_waker.wake();
        }
    }

    /// The future returned Pending: release RUNNING; re-queue once if woken meanwhile.
    fn after_pending(&self, cpu: usize, task: TaskRef) {
        match task.header().state.finish_pending() {
            // (4)
            AfterPoll::Requeue => {
                // Our reference goes back in; the other kind of task gets the next turn.
                self.cpus[cpu].queues.requeued_after_poll(task.header().pinned);
                self.enqueue(task, cpu)
            }
            AfterPoll::Idle => {
                let _ = task.into_raw(); // its reference went in the transition
            }
            AfterPoll::IdleLastRef => drop(task), // TaskRef::drop frees or resurrects it
            AfterPoll::Cancelled => self.drop_cancelled(cpu, &task),
        }
    }

    /// Drop a cancelled task's future here, on the loop, while holding RUNNING.
    fn drop_cancelled(&self, cpu: usize, task: &TaskRef) {
        let hdr = task.header();
        // SAFETY: we hold RUNNING, so the stage is ours.
        unsafe { (hdr.vtable.drop_stage)(task.as_ptr()) };
        hdr.state.cancelled_dropped(); // (7)
        bump_local(&self.cpus[cpu].stats.local.cancelled);
    }
}
