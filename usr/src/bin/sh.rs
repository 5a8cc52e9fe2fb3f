//! `sh`: the interactive shell on the serial console, started by `/init`.
//!
//! Built-ins: help, ps, top, jobs, wait, kill, nice, pin, bench, get, set, ls, mem,
//! uptime, echo, poweroff, exit. Anything else names a program in the initrd:
//! `hello a b` (or `run hello a b`) runs it in the foreground, where Ctrl-C sends it
//! SIGINT; a trailing `&` runs it in the background (`jobs`, `wait`, `kill`).
//!
//! There is no non-blocking `wait`: finished background jobs are found in the
//! process list (state zombie) and only then reaped, so the shell never blocks on a
//! job that is still running.

#![no_std]
#![no_main]

use usr::abi::wait::{signal_name, SIGINT, SIGKILL, SIGTERM};
use usr::abi::{state, PROC_NAME_MAX};
use usr::line::{Editor, Line, LINE_MAX};
use usr::*;

entry!(main);

const PROMPT: &str = "mello$ ";
/// Most words on a command line.
const MAX_WORDS: usize = 32;
/// Most background jobs tracked at once.
const MAX_JOBS: usize = 16;
/// CPU indices `top` looks at.
const MAX_CPUS: u64 = 64;

/// A background job.
#[derive(Clone, Copy)]
struct Job {
    pid: u64,
    name: [u8; PROC_NAME_MAX],
    name_len: usize,
}

impl Job {
    fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }
}

struct Shell {
    jobs: [Option<Job>; MAX_JOBS],
    /// The initrd's names, one per line.
    programs: [u8; 2048],
    programs_len: usize,
}

static mut EDITOR: Editor = Editor::new();

fn main(_args: Args) -> i32 {
    let mut sh = Shell { jobs: [None; MAX_JOBS], programs: [0; 2048], programs_len: 0 };
    sh.programs_len = initrd_list(&mut sh.programs).unwrap_or(0);
    println!("mello shell (pid {}). Type 'help' for the commands.", getpid().unwrap_or(0));
    // SAFETY: the only reference to EDITOR, in a single-threaded program.
    let editor = unsafe { &mut *core::ptr::addr_of_mut!(EDITOR) };
    let mut line = [0u8; LINE_MAX];
    loop {
        sh.reap_finished();
        match editor.read_line(PROMPT, &mut line) {
            Ok(Line::Done(n)) => match core::str::from_utf8(&line[..n]) {
                Ok(text) => {
                    if sh.execute(text) == Flow::Exit {
                        return 0;
                    }
                }
                Err(_) => println!("sh: the line is not UTF-8"),
            },
            Ok(Line::TooLong(n)) => println!("sh: line too long ({n} bytes; at most {LINE_MAX}): ignored"),
            Ok(Line::Interrupted) => {}
            Err(e) => {
                println!("sh: reading the console failed: {e}");
                let _ = sleep_ms(1000);
            }
        }
    }
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Exit,
}

/// How a child ended, for messages.
fn describe_status(status: i32) -> Option<(&'static str, u64)> {
    match (exited(status), killed_by(status)) {
        (Some(0), _) => None,
        (Some(c), _) => Some(("exit", c as u64)),
        (_, Some(s)) => Some((signal_name(s), s as u64)),
        _ => Some(("status", status as u64)),
    }
}

impl Shell {
    fn execute(&mut self, text: &str) -> Flow {
        let mut words = [""; MAX_WORDS];
        let mut n = 0;
        for w in text.split_ascii_whitespace() {
            if n == MAX_WORDS {
                println!("sh: too many words (at most {MAX_WORDS})");
                return Flow::Continue;
            }
            words[n] = w;
            n += 1;
        }
        let mut background = false;
        if n > 0 && words[n - 1] == "&" {
            background = true;
            n -= 1;
        } else if n > 0 && words[n - 1].len() > 1 && words[n - 1].ends_with('&') {
            background = true;
            words[n - 1] = &words[n - 1][..words[n - 1].len() - 1];
        }
        let words = &words[..n];
        let Some(&cmd) = words.first() else { return Flow::Continue };
        let args = &words[1..];
        match cmd {
            "help" | "?" => help(),
            "ps" => ps(),
            "top" => self.top(args),
            "run" => match args.first() {
                Some(_) => self.run(args, background),
                None => println!("usage: run PROGRAM [ARGS...] [&]"),
            },
            "jobs" => self.list_jobs(),
            "wait" => self.wait_all(),
            "kill" => kill_cmd(args),
            "nice" => nice(args),
            "pin" => pin(args),
            "bench" => self.bench(args),
            "get" => get(),
            "set" => set(args),
            "ls" => self.ls(),
            "mem" => mem(),
            "uptime" => uptime(),
            "echo" => echo(args),
            "poweroff" | "halt" => {
                println!("sh: powering off");
                poweroff(0)
            }
            "exit" => return Flow::Exit,
            _ => self.run(words, background),
        }
        Flow::Continue
    }

    /// The initrd path of program `name` (`hello` or `/hello`), if it is there.
    fn find_program(&self, name: &str) -> Option<&str> {
        let name = name.trim_start_matches('/');
        let list = core::str::from_utf8(&self.programs[..self.programs_len]).unwrap_or("");
        list.lines().find(|l| *l == name)
    }

    fn run(&mut self, argv: &[&str], background: bool) {
        // "/" + the name, copied out of `self` (waiting below borrows it mutably).
        let mut path_buf = [0u8; 64];
        let plen = match self.find_program(argv[0]) {
            None => {
                println!("sh: {}: unknown command (type 'help'; 'ls' lists the programs)", argv[0]);
                return;
            }
            Some(prog) if prog.len() + 1 > path_buf.len() => {
                println!("sh: {prog}: name too long");
                return;
            }
            Some(prog) => {
                path_buf[0] = b'/';
                path_buf[1..=prog.len()].copy_from_slice(prog.as_bytes());
                prog.len() + 1
            }
        };
        let path = core::str::from_utf8(&path_buf[..plen]).unwrap_or("/");
        let prog = &path[1..];
        let slot = if background {
            match self.jobs.iter().position(Option::is_none) {
                Some(i) => Some(i),
                None => {
                    println!("sh: too many background jobs (at most {MAX_JOBS}); 'wait' for some");
                    return;
                }
            }
        } else {
            None
        };
        let pid = match fork() {
            Ok(Fork::Child) => {
                let e = exec(path, argv);
                println!("sh: {path}: {e}");
                exit(127)
            }
            Ok(Fork::Parent(pid)) => pid,
            Err(e) => {
                println!("sh: cannot start {path}: {e}");
                return;
            }
        };
        if let Some(i) = slot {
            let mut job = Job { pid, name: [0; PROC_NAME_MAX], name_len: prog.len().min(PROC_NAME_MAX) };
            job.name[..job.name_len].copy_from_slice(&prog.as_bytes()[..job.name_len]);
            self.jobs[i] = Some(job);
            println!("[{}] {pid}", i + 1);
        } else {
            self.wait_foreground(pid, prog);
        }
    }

    /// Waits for foreground job `pid`; Ctrl-C meanwhile sends it SIGINT (the kernel
    /// does it: `pid` is the console's foreground). Background jobs that end first
    /// are reported as they are reaped.
    fn wait_foreground(&mut self, pid: u64, name: &str) {
        let _ = set_foreground(pid);
        loop {
            match wait() {
                Ok((p, status)) if p == pid => {
                    if let Some((what, n)) = describe_status(status) {
                        if what == "exit" {
                            println!("sh: {name} (pid {pid}): exit {n}");
                        } else {
                            println!("sh: {name} (pid {pid}): killed by {what}");
                        }
                    }
                    break;
                }
                Ok((p, status)) => self.job_ended(p, status),
                Err(e) => {
                    println!("sh: wait: {e}");
                    break;
                }
            }
        }
        let _ = set_foreground(0);
    }

    /// Reports (and forgets) background job `pid`, reaped with `status`.
    fn job_ended(&mut self, pid: u64, status: i32) {
        for (i, slot) in self.jobs.iter_mut().enumerate() {
            if let Some(job) = slot.filter(|j| j.pid == pid) {
                match describe_status(status) {
                    None => println!("[{}] done      {} (pid {pid})", i + 1, job.name()),
                    Some(("exit", c)) => println!("[{}] exit {c}    {} (pid {pid})", i + 1, job.name()),
                    Some((sig, _)) => println!("[{}] killed by {sig}  {} (pid {pid})", i + 1, job.name()),
                }
                *slot = None;
            }
        }
    }

    /// Reaps children that have already ended (zombies in the process list): a
    /// non-blocking wait built from `proc_list` and `wait`.
    fn reap_finished(&mut self) {
        let me = getpid().unwrap_or(0);
        loop {
            let mut list = [ProcInfo::default(); PROC_LIST_MAX];
            let Ok(total) = proc_list(&mut list) else { return };
            let zombie = list[..total.min(PROC_LIST_MAX)].iter().any(|p| p.parent == me && p.state == state::ZOMBIE);
            if !zombie {
                return;
            }
            match wait() {
                Ok((p, status)) => self.job_ended(p, status),
                Err(_) => return,
            }
        }
    }

    fn list_jobs(&mut self) {
        self.reap_finished();
        let mut list = [ProcInfo::default(); PROC_LIST_MAX];
        let total = proc_list(&mut list).unwrap_or(0);
        let mut any = false;
        for (i, job) in self.jobs.iter().enumerate() {
            let Some(job) = job else { continue };
            any = true;
            let st = list[..total.min(PROC_LIST_MAX)].iter().find(|p| p.pid == job.pid).map_or("?", |p| state::name(p.state));
            println!("[{}] {:<6} {:<7} {}", i + 1, job.pid, st, job.name());
        }
        if !any {
            println!("no background jobs");
        }
    }

    /// Waits for every background job (Ctrl-C sends SIGINT to the oldest).
    fn wait_all(&mut self) {
        while let Some(first) = self.jobs.iter().flatten().next().map(|j| j.pid) {
            let _ = set_foreground(first);
            match wait() {
                Ok((p, status)) => self.job_ended(p, status),
                Err(_) => {
                    // No children left: whatever the table says is stale.
                    self.jobs = [None; MAX_JOBS];
                }
            }
        }
        let _ = set_foreground(0);
    }

    fn ls(&self) {
        let list = core::str::from_utf8(&self.programs[..self.programs_len]).unwrap_or("");
        let mut col = 0;
        // Files with a dot (kernel.sym) are not programs.
        for name in list.lines().filter(|n| !n.contains('.')) {
            print!("{name:<16}");
            col += 1;
            if col % 5 == 0 {
                println!();
            }
        }
        if col % 5 != 0 {
            println!();
        }
    }

    /// `bench [NAME]`: the ring-3 benchmarks (`bench_*` in the initrd), one table row
    /// per measurement.
    fn bench(&mut self, args: &[&str]) {
        let list = core::str::from_utf8(&self.programs[..self.programs_len]).unwrap_or("");
        let mut names = [""; 16];
        let mut n = 0;
        for prog in list.lines().filter(|l| l.starts_with("bench_")) {
            let wanted = match args.first() {
                None => true,
                Some(a) => prog == *a || prog.trim_start_matches("bench_") == *a,
            };
            if wanted && n < names.len() {
                names[n] = prog;
                n += 1;
            }
        }
        if n == 0 {
            println!("sh: bench: no benchmark {:?} (have: {})", args.first().unwrap_or(&""), BenchNames(list));
            return;
        }
        println!("{}", usr::tsc::TABLE_HEADER);
        // Copy the names out: running a program borrows `self` mutably.
        let mut copies = [[0u8; 32]; 16];
        let mut lens = [0usize; 16];
        for i in 0..n {
            lens[i] = names[i].len().min(32);
            copies[i][..lens[i]].copy_from_slice(&names[i].as_bytes()[..lens[i]]);
        }
        for i in 0..n {
            let name = core::str::from_utf8(&copies[i][..lens[i]]).unwrap_or("?");
            self.run(&[name, "--table"], false);
        }
        println!("(units: TSC cycles unless shown; for JSON and plots use `make bench` on the host)");
    }

    /// `top [-n N]`: per-CPU executor and idle statistics and the busiest processes,
    /// every second until a key is pressed, or N times.
    fn top(&mut self, args: &[&str]) {
        let count = match args {
            [] => None,
            ["-n", n] => match n.parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    println!("usage: top [-n COUNT]");
                    return;
                }
            },
            _ => {
                println!("usage: top [-n COUNT]");
                return;
            }
        };
        if let Some(n) = count {
            top_frames(n, false);
            return;
        }
        // Live: a child draws frames; the shell waits for a key, then stops it.
        let pid = match fork() {
            Ok(Fork::Child) => {
                top_frames(u64::MAX, true);
                exit(0)
            }
            Ok(Fork::Parent(pid)) => pid,
            Err(e) => {
                println!("sh: top: {e}");
                return;
            }
        };
        let mut key = [0u8; 16];
        let _ = read(abi::STDIN, &mut key);
        let _ = kill(pid, SIGKILL);
        loop {
            match wait() {
                Ok((p, _)) if p == pid => break,
                Ok((p, status)) => self.job_ended(p, status),
                Err(_) => break,
            }
        }
        println!();
    }
}

/// Lists the `bench_*` names in an initrd listing.
struct BenchNames<'a>(&'a str);

impl core::fmt::Display for BenchNames<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, n) in self.0.lines().filter(|l| l.starts_with("bench_")).enumerate() {
            write!(f, "{}{n}", if i > 0 { ", " } else { "" })?;
        }
        Ok(())
    }
}

fn help() {
    println!(
        "commands:
  PROGRAM [ARGS] [&]     run a program from the initrd ('ls'); '&' = in the background
  run PROGRAM [ARGS] [&] the same
  jobs | wait            background jobs; wait for all of them
  kill [-INT|-TERM|-KILL] PID   end a process (Ctrl-C ends the foreground one)
  nice PID high|normal|low      set a process's priority
  pin PID CPU|any        pin a process to a CPU, or let it run anywhere
  ps                     processes
  top [-n COUNT]         per-CPU scheduler statistics, every second until a key
  bench [NAME]           ring-3 benchmarks (bench_*), as a table
  get | set KEY=VALUE    run-time tunables
  ls | mem | uptime | echo TEXT | poweroff | exit
keys: backspace, Ctrl-U (erase line), Ctrl-A/Ctrl-E, left/right, up/down (history), Ctrl-C"
    );
}

/// Parses a pid argument, with a message if it is not one.
fn parse_pid(s: Option<&&str>, usage: &str) -> Option<u64> {
    match s.map(|s| s.parse::<u64>()) {
        Some(Ok(p)) => Some(p),
        _ => {
            println!("usage: {usage}");
            None
        }
    }
}

fn kill_cmd(args: &[&str]) {
    const USAGE: &str = "kill [-INT|-TERM|-KILL|-2|-9|-15] PID";
    let (sig, rest) = match args.first() {
        Some(&s) if s.starts_with('-') => {
            let sig = match s.trim_start_matches('-').trim_start_matches("SIG") {
                "INT" | "2" => SIGINT,
                "TERM" | "15" => SIGTERM,
                "KILL" | "9" => SIGKILL,
                _ => {
                    println!("sh: kill: unknown signal {s} (INT, TERM, KILL)");
                    return;
                }
            };
            (sig, &args[1..])
        }
        _ => (SIGTERM, args),
    };
    let Some(pid) = parse_pid(rest.first(), USAGE) else { return };
    match kill(pid, sig) {
        Ok(()) => println!("sent {} to {pid}", signal_name(sig)),
        Err(Errno::SRCH) => println!("sh: kill: no process {pid}"),
        Err(Errno::PERM) => println!("sh: kill: {pid} may not be killed"),
        Err(e) => println!("sh: kill: {e}"),
    }
}

fn nice(args: &[&str]) {
    const USAGE: &str = "nice PID high|normal|low";
    let Some(pid) = parse_pid(args.first(), USAGE) else { return };
    let p = match args.get(1) {
        Some(&"high") => Priority::High,
        Some(&"normal") => Priority::Normal,
        Some(&"low") => Priority::Low,
        _ => {
            println!("usage: {USAGE}");
            return;
        }
    };
    match set_priority_of(pid, p) {
        Ok(()) => println!("{pid}: priority {}", args[1]),
        Err(Errno::SRCH) => println!("sh: nice: no process {pid}"),
        Err(e) => println!("sh: nice: {e}"),
    }
}

fn pin(args: &[&str]) {
    const USAGE: &str = "pin PID CPU|any";
    let Some(pid) = parse_pid(args.first(), USAGE) else { return };
    let cpu = match args.get(1) {
        Some(&"any") => AFFINITY_ANY,
        Some(c) => match c.parse::<u64>() {
            Ok(c) => c,
            Err(_) => {
                println!("usage: {USAGE}");
                return;
            }
        },
        None => {
            println!("usage: {USAGE}");
            return;
        }
    };
    match set_affinity_of(pid, cpu) {
        Ok(()) => println!("{pid}: affinity {}", args[1]),
        Err(Errno::SRCH) => println!("sh: pin: no process {pid}"),
        Err(Errno::INVAL) => println!("sh: pin: no CPU {}", args[1]),
        Err(e) => println!("sh: pin: {e}"),
    }
}

fn priority_name(p: u64) -> &'static str {
    match p {
        0 => "high",
        1 => "normal",
        2 => "low",
        _ => "?",
    }
}

/// Nanoseconds as `s.mmm`.
struct Secs(u64);

impl core::fmt::Display for Secs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = alloc_free_fmt(self.0 / 1_000_000_000, (self.0 / 1_000_000) % 1000);
        f.pad(s.as_str())
    }
}

/// A tiny fixed string for padded output.
struct Small {
    buf: [u8; 32],
    len: usize,
}

impl Small {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("?")
    }
}

impl core::fmt::Write for Small {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = (self.len + s.len()).min(self.buf.len());
        self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..end - self.len]);
        self.len = end;
        Ok(())
    }
}

fn alloc_free_fmt(whole: u64, milli: u64) -> Small {
    let mut s = Small { buf: [0; 32], len: 0 };
    let _ = core::fmt::Write::write_fmt(&mut s, format_args!("{whole}.{milli:03}"));
    s
}

/// Tenths as `x.y` (for percentages and microseconds).
fn tenths(v: u64) -> Small {
    let mut s = Small { buf: [0; 32], len: 0 };
    let _ = core::fmt::Write::write_fmt(&mut s, format_args!("{}.{}", v / 10, v % 10));
    s
}

fn ps() {
    let mut list = [ProcInfo::default(); PROC_LIST_MAX];
    let total = match proc_list(&mut list) {
        Ok(t) => t,
        Err(e) => {
            println!("sh: ps: {e}");
            return;
        }
    };
    println!("  PID  PPID STATE  CPU PRIO    AFFINITY       TIME NAME");
    for p in &list[..total.min(PROC_LIST_MAX)] {
        let mut aff = Small { buf: [0; 32], len: 0 };
        if p.affinity == AFFINITY_ANY {
            let _ = core::fmt::Write::write_str(&mut aff, "any");
        } else {
            let _ = core::fmt::Write::write_fmt(&mut aff, format_args!("cpu{}", p.affinity));
        }
        println!(
            "{:>5} {:>5} {:<6} {:>3} {:<7} {:<8} {:>10} {}",
            p.pid,
            p.parent,
            state::name(p.state),
            p.cpu,
            priority_name(p.priority),
            aff.as_str(),
            Secs(p.cpu_ns),
            p.name()
        );
    }
    if total > PROC_LIST_MAX {
        println!("({} more not shown)", total - PROC_LIST_MAX);
    }
}

/// Per-pid CPU time in the previous `top` frame.
struct ProcTimes {
    pid: [u64; PROC_LIST_MAX],
    ns: [u64; PROC_LIST_MAX],
    n: usize,
}

/// Draws `frames` frames of `top`, one a second (`clear`: redraw in place).
fn top_frames(frames: u64, clear: bool) {
    let mut prev = [CpuStats::default(); MAX_CPUS as usize];
    let mut times = ProcTimes { pid: [0; PROC_LIST_MAX], ns: [0; PROC_LIST_MAX], n: 0 };
    let snapshot = |prev: &mut [CpuStats; MAX_CPUS as usize], times: &mut ProcTimes| {
        for (cpu, slot) in prev.iter_mut().enumerate() {
            *slot = cpu_stats(cpu as u64).unwrap_or_default();
        }
        let mut list = [ProcInfo::default(); PROC_LIST_MAX];
        let total = proc_list(&mut list).unwrap_or(0).min(PROC_LIST_MAX);
        times.n = total;
        for (i, p) in list[..total].iter().enumerate() {
            times.pid[i] = p.pid;
            times.ns[i] = p.cpu_ns;
        }
    };
    snapshot(&mut prev, &mut times);
    for _ in 0..frames {
        let _ = sleep_ms(1000);
        if clear {
            print!("\x1b[H\x1b[2J");
        }
        let st = stats().unwrap_or_default();
        println!(
            "top: up {} s, {} CPUs, {} processes, {} of {} MiB free{}",
            Secs(st.uptime_ns),
            st.num_cpus,
            st.processes,
            (st.frames_free * 4096) >> 20,
            (st.frames_total * 4096) >> 20,
            if clear { " (any key stops)" } else { "" }
        );
        println!("CPU  polls/s  local wakes/s  remote wakes/s  IPIs/s  steals/s queue  idle%  halt%  poll%  wake p50/p99 us");
        for (cpu, prev) in prev.iter_mut().enumerate() {
            let Ok(now) = cpu_stats(cpu as u64) else { continue };
            let p = *prev;
            let dt = now.uptime_ns.saturating_sub(p.uptime_ns).max(1);
            let rate = |a: u64, b: u64| a.saturating_sub(b).saturating_mul(1_000_000_000) / dt;
            let pct = |a: u64, b: u64| (a.saturating_sub(b).saturating_mul(1000) / dt).min(1000);
            // The kernel adds a halt when it ends: a CPU that neither polled nor went
            // idle again during the interval spent all of it in one halt.
            let halt = if now.polls == p.polls && now.idles == p.idles { 1000 } else { pct(now.halt_ns, p.halt_ns) };
            let poll = pct(now.poll_ns, p.poll_ns);
            println!(
                "{:>3} {:>8} {:>14} {:>15} {:>7} {:>9} {:>5} {:>6} {:>6} {:>6}  {}/{}",
                cpu,
                rate(now.polls, p.polls),
                rate(now.wakes.saturating_sub(now.remote_wakes), p.wakes.saturating_sub(p.remote_wakes)),
                rate(now.remote_wakes, p.remote_wakes),
                rate(now.ipis_received, p.ipis_received),
                rate(now.steals, p.steals),
                now.queued,
                tenths((halt + poll).min(1000)).as_str(),
                tenths(halt).as_str(),
                tenths(poll).as_str(),
                tenths(now.wake_p50_ns / 100).as_str(),
                tenths(now.wake_p99_ns / 100).as_str(),
            );
            *prev = now;
        }
        // The busiest processes over the last interval.
        let mut list = [ProcInfo::default(); PROC_LIST_MAX];
        let total = proc_list(&mut list).unwrap_or(0).min(PROC_LIST_MAX);
        let mut busy = [(0u64, 0usize); PROC_LIST_MAX]; // (ns in the interval, index)
        for (i, p) in list[..total].iter().enumerate() {
            let before = (0..times.n).find(|&j| times.pid[j] == p.pid).map_or(0, |j| times.ns[j]);
            busy[i] = (p.cpu_ns.saturating_sub(before), i);
        }
        busy[..total].sort_unstable_by_key(|&(ns, _)| core::cmp::Reverse(ns));
        println!("  PID  CPU%  STATE  CPU NAME");
        for &(ns, i) in busy[..total].iter().take(5) {
            let p = &list[i];
            println!("{:>5} {:>5} {:<6} {:>3} {}", p.pid, tenths(ns / 1_000_000).as_str(), state::name(p.state), p.cpu, p.name());
        }
        times.n = total;
        for (i, p) in list[..total].iter().enumerate() {
            times.pid[i] = p.pid;
            times.ns[i] = p.cpu_ns;
        }
    }
}

fn get() {
    let mut buf = [0u8; 1024];
    match tunables_get(&mut buf) {
        Ok(n) => {
            for kv in core::str::from_utf8(&buf[..n]).unwrap_or("?").split_ascii_whitespace() {
                println!("{kv}");
            }
        }
        Err(e) => println!("sh: get: {e}"),
    }
}

fn set(args: &[&str]) {
    let [assignment] = args else {
        println!("usage: set KEY=VALUE   ('get' lists the keys)");
        return;
    };
    let mut buf = [0u8; 1024];
    match tunables_set(assignment, &mut buf) {
        Ok(_) => println!("ok: {assignment}"),
        Err(Errno::INVAL) if buf[0] != 0 => println!("sh: set: {}", c_str(&buf)),
        Err(e) => println!("sh: set: {e}"),
    }
}

fn mem() {
    match stats() {
        Ok(s) => println!(
            "memory: {} KiB total, {} KiB free, {} KiB used ({} frames of 4 KiB)",
            s.frames_total * 4,
            s.frames_free * 4,
            (s.frames_total - s.frames_free) * 4,
            s.frames_total
        ),
        Err(e) => println!("sh: mem: {e}"),
    }
}

fn uptime() {
    match stats() {
        Ok(s) => println!(
            "up {} s, {} CPUs, {} processes, {} syscalls, {} context switches",
            Secs(s.uptime_ns),
            s.num_cpus,
            s.processes,
            s.syscalls,
            s.ctx_switches
        ),
        Err(e) => println!("sh: uptime: {e}"),
    }
}

fn echo(args: &[&str]) {
    let mut first = true;
    for a in args {
        if !first {
            print!(" ");
        }
        print!("{a}");
        first = false;
    }
    println!();
}
