//@ 04
//! tokio-tasks: what a tokio task costs, measured the way bench/tasks.c measures an axle
//! task, so that tools/bench-peers can set the two side by side. It mirrors
//! bench/tasks.c's three numbers, with the same counts and definitions:
//!
//!     tasks.spawn_ns      spawning, running and joining one trivial task: a parent task
//!                         spawns BATCH children, awaits their JoinHandles in order, and
//!                         repeats until SPAWNED have run (the median of ROUNDS runs)
//!     tasks.parked_bytes  memory per parked task: PARKED tasks all waiting on one
//!                         tokio::sync::Notify (axle's: one ax_event), from the growth of
//!                         VmRSS (/proc/self/status) once every one of them has been polled
//!                         and parked, divided by their number
//!     tasks.switch_ns     two tasks that wake each other in turn, SWITCHES times: one
//!                         switch is one task parking and the other running (the median
//!                         of ROUNDS runs)
//!
//! and tasks.parked_future_bytes, the size of one parked task's future (the rest of
//! tasks.parked_bytes is tokio's task header and scheduler handle, and the allocator's).
//!
//! Every runtime is tokio's current-thread runtime with its drivers enabled, as
//! `#[tokio::main(flavor = "current_thread")]` builds it (axle's executor also owns a
//! reactor). Each measurement gets a new runtime, as each of bench/tasks.c's gets a new
//! executor, and the clock runs around the same steps. Lines are `name<TAB>value<TAB>unit`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::Notify;

const SPAWNED: usize = 1_000_000;
const BATCH: usize = 1000;
const PARKED: usize = 1_000_000;
const SWITCHES: u64 = 1_000_000;
const ROUNDS: usize = 5;

fn fail(message: &str) -> ! {
    eprintln!("tokio-tasks: {message}");
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

fn median(mut values: [f64; ROUNDS]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[ROUNDS / 2]
}

// ---- spawn ------------------------------------------------------------------------------

/// Spawns `total` trivial children, BATCH at a time, and joins each batch in order.
async fn spawner(total: usize) -> Result<(), String> {
    let mut children = Vec::with_capacity(BATCH);
    let mut done = 0;
    while done < total {
        for i in 0..BATCH {
            children.push(tokio::spawn(async move { i })); // the smallest task
        }
        for (i, child) in children.drain(..).enumerate() {
            match child.await {
                Ok(got) if got == i => {}
                Ok(got) => return Err(format!("child {i} returned {got}")),
                Err(e) => return Err(format!("child {i}: {e}")),
            }
        }
        done += BATCH;
    }
    Ok(())
}

fn spawn_ns() -> f64 {
    let runtime = new_runtime();
    let start = Instant::now();
    let parent = runtime.spawn(spawner(SPAWNED));
    let result = runtime.block_on(parent);
    let elapsed = start.elapsed();
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => fail(&format!("spawning: {e}")),
        Err(e) => fail(&format!("spawning: {e}")),
    }
    elapsed.as_nanos() as f64 / SPAWNED as f64
}

// ---- parked -----------------------------------------------------------------------------

extern "C" {
    fn malloc_trim(pad: usize) -> std::os::raw::c_int; // glibc, as bench/tasks.c calls it
}

/// Resident memory in KiB.
fn rss_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| fail(&format!("cannot read /proc/self/status: {e}")));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| fail("cannot read VmRSS from /proc/self/status"))
}

static WAITING: AtomicUsize = AtomicUsize::new(0); // waiters polled and parked
static WOKEN: AtomicUsize = AtomicUsize::new(0); // waiters that ran to the end

/// A parked task: its whole future is one wait on the shared event.
async fn waiter(event: &'static Notify) {
    let notified = event.notified();
    WAITING.fetch_add(1, Ordering::Relaxed);
    notified.await;
    WOKEN.fetch_add(1, Ordering::Relaxed);
}

fn parked_bytes() -> (f64, usize) {
    let runtime = new_runtime();
    let event: &'static Notify = Box::leak(Box::new(Notify::new()));
    let future_size = std::mem::size_of_val(&waiter(event));
    unsafe { malloc_trim(0) }; // count from what is really in use
    let before = rss_kb();
    // As in bench/tasks.c, the tasks are spawned before the runtime runs, and one last
    // task spawned after them runs only once every waiter has polled and parked.
    for _ in 0..PARKED {
        drop(runtime.spawn(waiter(event))); // detached: nobody joins it
    }
    let last = runtime.spawn(async {});
    if let Err(e) = runtime.block_on(last) {
        fail(&format!("last task: {e}"));
    }
    let waiting = WAITING.load(Ordering::Relaxed);
    if waiting != PARKED {
        fail(&format!("expected {PARKED} parked tasks, found {waiting}"));
    }
    let after = rss_kb();
    event.notify_waiters();
    let last = runtime.spawn(async {}); // behind every waiter just woken
    if let Err(e) = runtime.block_on(last) {
        fail(&format!("waking the parked tasks: {e}"));
    }
    let woken = WOKEN.load(Ordering::Relaxed);
    if woken != PARKED {
        fail(&format!("woke {woken} of {PARKED} parked tasks"));
    }
    (
        (after - before) as f64 * 1024.0 / PARKED as f64,
        future_size,
    )
}

// ---- switch -----------------------------------------------------------------------------

/// Two players and one ball: the player whose turn it is counts a switch, passes the
/// turn and wakes the other, then parks. On a current-thread runtime both players run
/// on this thread, so the table is a thread-local, as bench/tasks.c's is a plain struct.
struct Table {
    turn: usize,
    switches: u64,
    target: u64,
    players: [Option<Waker>; 2],
}

thread_local! {
    static TABLE: RefCell<Table> = const {
        RefCell::new(Table { turn: 0, switches: 0, target: 0, players: [None, None] })
    };
}

struct Player {
    me: usize,
}

impl Future for Player {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let me = self.me;
        TABLE.with(|table| {
            let mut t = table.borrow_mut();
            if t.switches >= t.target {
                if let Some(other) = &t.players[1 - me] {
                    other.wake_by_ref(); // so the other sees the end too
                }
                return Poll::Ready(());
            }
            match &t.players[me] {
                Some(mine) if mine.will_wake(cx.waker()) => {}
                _ => t.players[me] = Some(cx.waker().clone()), // first poll: keep a waker
            }
            if t.turn == me {
                t.switches += 1;
                t.turn = 1 - me;
                if let Some(other) = &t.players[1 - me] {
                    other.wake_by_ref(); // queues the other task; nothing runs here
                }
            }
            Poll::Pending
        })
    }
}

fn switch_ns() -> f64 {
    let runtime = new_runtime();
    TABLE.with(|table| {
        *table.borrow_mut() = Table {
            turn: 0,
            switches: 0,
            target: SWITCHES,
            players: [None, None],
        }
    });
    let players = [
        runtime.spawn(Player { me: 0 }),
        runtime.spawn(Player { me: 1 }),
    ];
    let start = Instant::now();
    for player in players {
        if let Err(e) = runtime.block_on(player) {
            fail(&format!("ping-pong: {e}"));
        }
    }
    let elapsed = start.elapsed();
    let switches = TABLE.with(|table| {
        let mut t = table.borrow_mut();
        t.players = [None, None]; // drop the wakers before the runtime
        t.switches
    });
    if switches != SWITCHES {
        fail(&format!(
            "ping-pong: {switches} switches, expected {SWITCHES}"
        ));
    }
    elapsed.as_nanos() as f64 / SWITCHES as f64
}

fn main() {
    let mut spawn = [0.0; ROUNDS];
    let mut switches = [0.0; ROUNDS];
    for i in 0..ROUNDS {
        spawn[i] = spawn_ns();
        switches[i] = switch_ns();
    }
    report("tasks.spawn_ns", median(spawn), "ns");
    let (parked, future_size) = parked_bytes();
    report("tasks.parked_bytes", parked, "bytes");
    report("tasks.parked_future_bytes", future_size as f64, "bytes");
    report("tasks.switch_ns", median(switches), "ns");
}
