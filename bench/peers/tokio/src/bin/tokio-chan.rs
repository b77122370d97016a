//@ 07
//! tokio-chan: bench/backpressure.c's three numbers on tokio, measured the same way, so
//! that tools/bench-peers can set the two side by side:
//!
//!     chan.msgs_per_s   MESSAGES u64 values from one task to another through
//!                       tokio::sync::mpsc::channel(CAPACITY): messages per second, from
//!                       spawning both tasks to the receiver seeing the end (the median
//!                       of ROUNDS runs)
//!     sem.acquire_ns    one task acquiring a permit of a free tokio::sync::Semaphore and
//!                       dropping it, ROUND_TRIPS times: ns per round trip (median)
//!     mutex.lock_ns     the same for tokio::sync::Mutex: lock, then drop the guard
//!
//! Each measurement gets a new current-thread runtime with its drivers enabled, as
//! `#[tokio::main(flavor = "current_thread")]` builds it (and as axle's executor owns a
//! reactor). The sender ends the stream by dropping its Sender, where axle's closes
//! the channel; the receiver checks every value, as axle's does. Lines are
//! `name<TAB>value<TAB>unit`.

use std::sync::Arc;
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{mpsc, Mutex, Semaphore};

const MESSAGES: u64 = 1_000_000;
const CAPACITY: usize = 1024;
const ROUND_TRIPS: u64 = 1_000_000;
const ROUNDS: usize = 5;

fn fail(message: &str) -> ! {
    eprintln!("tokio-chan: {message}");
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

fn chan_msgs_per_s() -> f64 {
    let runtime = new_runtime();
    let start = Instant::now();
    let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
    let sender = runtime.spawn(async move {
        for i in 0..MESSAGES {
            if tx.send(i).await.is_err() {
                return Err("the receiver went away");
            }
        }
        Ok(())
    });
    let receiver = runtime.spawn(async move {
        let mut expected = 0;
        while let Some(value) = rx.recv().await {
            if value != expected {
                return Err("a value out of order");
            }
            expected += 1;
        }
        if expected == MESSAGES {
            Ok(())
        } else {
            Err("values missing")
        }
    });
    let sent = runtime.block_on(sender);
    let received = runtime.block_on(receiver);
    let elapsed = start.elapsed();
    match (sent, received) {
        (Ok(Ok(())), Ok(Ok(()))) => {}
        (s, r) => fail(&format!("channel: sending {s:?}, receiving {r:?}")),
    }
    MESSAGES as f64 / elapsed.as_secs_f64()
}

fn sem_acquire_ns() -> f64 {
    let runtime = new_runtime();
    let sem = Arc::new(Semaphore::new(1));
    let start = Instant::now();
    let cycler = runtime.spawn(async move {
        for _ in 0..ROUND_TRIPS {
            let permit = sem.acquire().await.map_err(|e| e.to_string())?;
            drop(permit);
        }
        Ok::<(), String>(())
    });
    let result = runtime.block_on(cycler);
    let elapsed = start.elapsed();
    if !matches!(result, Ok(Ok(()))) {
        fail(&format!("acquire and release: {result:?}"));
    }
    elapsed.as_nanos() as f64 / ROUND_TRIPS as f64
}

fn mutex_lock_ns() -> f64 {
    let runtime = new_runtime();
    let mutex = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let cycler = runtime.spawn(async move {
        for _ in 0..ROUND_TRIPS {
            let mut guard = mutex.lock().await;
            *guard += 1;
        }
    });
    if let Err(e) = runtime.block_on(cycler) {
        fail(&format!("lock and unlock: {e}"));
    }
    start.elapsed().as_nanos() as f64 / ROUND_TRIPS as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    if let Some(arg) = args.next() {
        let help = arg == "--help" && args.next().is_none();
        let usage = "usage: tokio-chan\n  bench/backpressure.c's measures on tokio: mpsc messages per second between two tasks, an uncontended Semaphore acquire and Mutex lock\n  prints name<TAB>value<TAB>unit lines; make bench-peers runs it";
        if help {
            println!("{usage}");
            return;
        }
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let mut msgs = [0.0; ROUNDS];
    let mut acquire = [0.0; ROUNDS];
    let mut lock = [0.0; ROUNDS];
    for i in 0..ROUNDS {
        msgs[i] = chan_msgs_per_s();
        acquire[i] = sem_acquire_ns();
        lock[i] = mutex_lock_ns();
    }
    report("chan.msgs_per_s", median(msgs), "msg/s");
    report("sem.acquire_ns", median(acquire), "ns");
    report("mutex.lock_ns", median(lock), "ns");
}
