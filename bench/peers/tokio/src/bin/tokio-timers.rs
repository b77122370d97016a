//@ 05
//! tokio-timers: bench/timers.c's million one-shot timers on tokio, measured the same
//! way, so that tools/bench-peers can set the two side by side.
//!
//! The workload is bench/timers.c's: t0 is read just before the first timer is armed;
//! timer i is due at t0 + d_i, where d_i is the i-th number of splitmix64 seeded with
//! SEED, modulo 1,000,000,001 ns; each firing records now - deadline. Two variants, each
//! on a new current-thread runtime with its drivers enabled (as
//! `#[tokio::main(flavor = "current_thread")]` builds it, and as bench/timers.c's
//! executor owns a reactor):
//!
//!     timers.task.*        one task per timer, awaiting tokio::time::sleep_until: the
//!                          mirror of timers.task.* (ax_sleep_until)
//!     timers.delayqueue.*  entries of one tokio_util::time::DelayQueue, drained by one
//!                          task: the nearest thing tokio has to timers.wheel.* (bare
//!                          wheel entries), a timer wheel that holds values, not tasks
//!
//! and for each, with bench/timers.c's definitions:
//!
//!     insert_ns_per_timer       from t0 until the last timer is armed, per timer (for
//!                               tasks: spawning each, and each polling once, which is
//!                               when a tokio Sleep registers with the timer driver)
//!     total_ms                  from t0 to the last firing
//!     overshoot_{p50,p99,max}_us        now - deadline over all the timers
//!     steady_overshoot_p99_us   the same over the timers due after the last was armed
//!
//! Each is the median of ROUNDS rounds, the variants in turn, and the task rounds share
//! one runtime after a first round on it while it is new, whose arming alone is
//! reported (timers.task.insert_cold_ns_per_timer): bench/timers.c's rounds.
//!
//! The clock. tokio::time::Instant::now() is std::time::Instant::now() (tokio swaps in
//! its own clock only when built with test-util and paused; this build has neither),
//! and std's Instant on Linux reads clock_gettime(CLOCK_MONOTONIC): the clock that
//! ax_now_ns() reads in bench/timers.c. An Instant is opaque, so every time here is
//! converted to nanoseconds since t0 with duration_since, which is exact; deadlines are
//! t0 + Duration::from_nanos(d_i), the same instants as the C side's t0 + d_i.
//!
//! The resolution. tokio's timers count whole milliseconds: the time driver rounds each
//! deadline up to the next millisecond tick and sleeps in epoll_wait, whose timeout is
//! in milliseconds; DelayQueue keeps its own wheel of millisecond ticks, rounded up, and
//! one tokio Sleep for the next of them. A tokio timer so fires up to about 1 ms after
//! its deadline by design (never before it), where axle's wheel aims at the nanosecond:
//! read the overshoots with that in mind.
//!
//! Lines are `name<TAB>value<TAB>unit`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::Notify;
use tokio_util::time::DelayQueue;

const TIMERS: usize = 1_000_000;
const SEED: u64 = 0x5EED000000000001;
const SPREAD_NS: u64 = 1_000_000_001;
const ROUNDS: usize = 3;

fn fail(message: &str) -> ! {
    eprintln!("tokio-timers: {message}");
    std::process::exit(1);
}

fn report(name: &str, value: f64, unit: &str) {
    println!("{name}\t{value:.3}\t{unit}");
}

fn new_runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")))
}

/// bench/timers.c's splitmix64, step for step.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E3779B97F4A7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    z ^ (z >> 31)
}

// ---- what one run records ---------------------------------------------------------------

/// Each firing, in the order they came (deadline and lateness), and when arming ended:
/// bench/timers.c's struct run, which says why a log and not a slot per timer. Times
/// are nanoseconds since t0. Everything runs on this one thread (a
/// current-thread runtime), so the record is a thread-local, as the C side's is a
/// plain struct.
struct Run {
    t0: Option<Instant>,
    armed_at: u64,
    last_fired: u64,
    log: Vec<(u64, i64)>, // (deadline, late) of each firing
    seen: Vec<u64>,       // bit i: timer i has fired
    fired: usize,
    armed: usize, // tasks that have polled once, and so armed their timer
}

impl Run {
    const EMPTY: Run = Run {
        t0: None,
        armed_at: 0,
        last_fired: 0,
        log: Vec::new(),
        seen: Vec::new(),
        fired: 0,
        armed: 0,
    };
}

thread_local! {
    static RUN: RefCell<Run> = const { RefCell::new(Run::EMPTY) };
}

fn since_t0(t0: Instant, at: Instant) -> u64 {
    at.duration_since(t0).as_nanos() as u64
}

/// Starts a run: the bookkeeping allocated and written now, so that its page faults
/// are not counted as the timers' (bench/timers.c's run_init).
fn run_init() {
    RUN.with(|run| {
        // Written before use, not zeroed: vec![0; n] would leave its pages unmapped.
        let mut log = vec![(u64::MAX, 0i64); TIMERS];
        log.clear(); // keeps the written storage
        let mut seen = vec![u64::MAX; (TIMERS + 63) / 64];
        seen.fill(0);
        *run.borrow_mut() = Run {
            log,
            seen,
            ..Run::EMPTY
        }
    });
}

/// The deadlines, one at a time, as bench/timers.c computes them: `start` reads t0 just
/// before the first insert, and `next`, inside the insert loop, computes the next
/// timer's deadline: in ns since t0, and as the Instant to arm.
struct Deadlines {
    seed: u64,
    t0: Instant,
}

impl Deadlines {
    fn start() -> Deadlines {
        let t0 = Instant::now();
        RUN.with(|run| run.borrow_mut().t0 = Some(t0));
        Deadlines { seed: SEED, t0 }
    }

    fn next(&mut self) -> (u64, tokio::time::Instant) {
        let d = splitmix64(&mut self.seed) % SPREAD_NS;
        (d, tokio::time::Instant::from_std(self.t0 + Duration::from_nanos(d)))
    }
}

fn armed_now() {
    let now = Instant::now();
    RUN.with(|run| {
        let mut run = run.borrow_mut();
        let t0 = run.t0.expect("t0");
        run.armed_at = since_t0(t0, now);
    });
}

/// Timer i, due `deadline` ns after t0, has fired: how late? Returns true when it was
/// the last.
fn fired(i: usize, deadline: u64) -> bool {
    let now = Instant::now();
    RUN.with(|run| {
        let mut run = run.borrow_mut();
        let now = since_t0(run.t0.expect("t0"), now);
        if run.fired == TIMERS || run.seen[i / 64] & 1 << (i % 64) != 0 {
            fail(&format!("timer {i} fired twice"));
        }
        run.seen[i / 64] |= 1 << (i % 64);
        run.log.push((deadline, now as i64 - deadline as i64));
        run.last_fired = now;
        run.fired += 1;
        run.fired == TIMERS
    })
}

fn percentile_us(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = (p * (sorted.len() - 1) as f64 + 0.5) as usize;
    sorted[k] as f64 / 1000.0
}

/// What one round measured, in bench/timers.c's order: insert_ns_per_timer, total_ms,
/// overshoot_{p50,p99,max}_us, and steady_overshoot_p99_us when some timer was due
/// after arming ended.
struct Round {
    values: [f64; 5],
    steady: Option<f64>,
}

const METRICS: [(&str, &str); 5] = [
    ("insert_ns_per_timer", "ns"),
    ("total_ms", "ms"),
    ("overshoot_p50_us", "us"),
    ("overshoot_p99_us", "us"),
    ("overshoot_max_us", "us"),
];

fn summarize(variant: &str) -> Round {
    let run = RUN.with(|run| std::mem::replace(&mut *run.borrow_mut(), Run::EMPTY));
    if run.fired != TIMERS {
        fail(&format!(
            "{variant}: {} of {TIMERS} timers fired",
            run.fired
        ));
    }
    let mut late = Vec::with_capacity(TIMERS);
    let mut steady = Vec::with_capacity(TIMERS);
    for &(deadline, l) in &run.log {
        if l < 0 {
            fail(&format!("{variant}: a timer fired {} ns early", -l));
        }
        late.push(l);
        if deadline > run.armed_at {
            steady.push(l);
        }
    }
    late.sort_unstable();
    steady.sort_unstable();
    Round {
        values: [
            run.armed_at as f64 / TIMERS as f64,
            run.last_fired as f64 / 1e6,
            percentile_us(&late, 0.50),
            percentile_us(&late, 0.99),
            percentile_us(&late, 1.0),
        ],
        steady: (!steady.is_empty()).then(|| percentile_us(&steady, 0.99)),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Each metric's median over the rounds, as bench/timers.c's report.
fn report_rounds(variant: &str, rounds: &[Round]) {
    for (m, (metric, unit)) in METRICS.iter().enumerate() {
        let value = median(rounds.iter().map(|r| r.values[m]).collect());
        report(&format!("timers.{variant}.{metric}"), value, unit);
    }
    let steady: Vec<f64> = rounds.iter().filter_map(|r| r.steady).collect();
    if !steady.is_empty() {
        // else arming outlasted every deadline: no timer was steady (as bench/timers.c)
        let name = format!("timers.{variant}.steady_overshoot_p99_us");
        report(&name, median(steady), "us");
    }
}

// ---- one task per timer -----------------------------------------------------------------

/// Polls a future and, the first time, counts it as armed: the last to arm ends the
/// insert time, as bench/timers.c's sleeper_poll does after polling its ax_sleep.
struct CountArming<F> {
    inner: F,
    counted: bool,
}

impl<F: Future + Unpin> Future for CountArming<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let result = Pin::new(&mut self.inner).poll(cx);
        if !self.counted {
            self.counted = true;
            let all = RUN.with(|run| {
                let mut run = run.borrow_mut();
                run.armed += 1;
                run.armed == TIMERS
            });
            if all {
                armed_now();
            }
        }
        result
    }
}

/// One timer's task: sleeps until its deadline, then notes how late it woke.
async fn sleeper(deadline: tokio::time::Instant, due_ns: u64, index: u32, done: &'static Notify) {
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    CountArming {
        inner: sleep.as_mut(),
        counted: false,
    }
    .await;
    if fired(index as usize, due_ns) {
        done.notify_one();
    }
}

fn task_variant(runtime: &Runtime, done: &'static Notify) -> Round {
    run_init();
    // The tasks are spawned from a task of this runtime, onto its own run queue (the way
    // bench/timers.c spawns onto its executor's), and run once it yields.
    runtime.block_on(async {
        let mut deadlines = Deadlines::start();
        for i in 0..TIMERS {
            let (due_ns, deadline) = deadlines.next();
            drop(tokio::spawn(sleeper(deadline, due_ns, i as u32, done))); // detached
        }
        done.notified().await;
    });
    summarize("task")
}

// ---- DelayQueue entries -----------------------------------------------------------------

/// Takes every expired entry (its index and its deadline in ns since t0) off the queue,
/// until it is empty.
struct Drain {
    queue: DelayQueue<(u32, u32)>,
}

impl Future for Drain {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self.queue.poll_expired(cx) {
                Poll::Ready(Some(expired)) => {
                    let (i, due_ns) = expired.into_inner();
                    fired(i as usize, due_ns as u64);
                }
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

fn delayqueue_variant() -> Round {
    let runtime = new_runtime();
    run_init();
    let task = runtime.spawn(async {
        // The queue's storage written once before t0, as bench/timers.c writes its
        // entries before t0: the page faults of a first touch are not the timers' cost.
        // (clear() keeps the storage.)
        let mut queue = DelayQueue::with_capacity(TIMERS);
        let later = tokio::time::Instant::now() + Duration::from_secs(2);
        for i in 0..TIMERS {
            queue.insert_at((i as u32, 0), later);
        }
        queue.clear();
        let mut deadlines = Deadlines::start();
        for i in 0..TIMERS {
            let (due_ns, deadline) = deadlines.next();
            queue.insert_at((i as u32, due_ns as u32), deadline); // under 2^30: fits
        }
        armed_now();
        Drain { queue }.await;
    });
    if let Err(e) = runtime.block_on(task) {
        fail(&format!("delayqueue: {e}"));
    }
    drop(runtime);
    summarize("delayqueue")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        // As every benchmark answers (bench/bench.h's bench_args).
        let help = args.len() == 1 && args[0] == "--help";
        let usage = "usage: tokio-timers\n  bench/timers.c's million timers over one second, \
                     on tokio\n  prints name<TAB>value<TAB>unit lines; make bench-peers runs it";
        if help {
            println!("{usage}");
        } else {
            eprintln!("{usage}");
        }
        std::process::exit(if help { 0 } else { 2 });
    }
    report("timers.count", TIMERS as f64, "timers");
    // bench/timers.c's rounds: the task rounds share one runtime, as a long-running
    // program's tasks do, after a first round on it while it is new.
    let done: &'static Notify = Box::leak(Box::new(Notify::new()));
    let runtime = new_runtime();
    let cold = task_variant(&runtime, done);
    let (mut queue, mut task) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        queue.push(delayqueue_variant());
        task.push(task_variant(&runtime, done));
    }
    drop(runtime);
    report_rounds("delayqueue", &queue);
    report_rounds("task", &task);
    report("timers.task.insert_cold_ns_per_timer", cold.values[0], "ns");
}
