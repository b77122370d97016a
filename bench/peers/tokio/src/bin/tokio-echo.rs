//@ 04
//! tokio-echo: the echo server of chapter 04 written with tokio, to measure echo-tasks
//! against (tools/bench-peers, bench/peers/README.md).
//!
//!     build/peers/tokio/release/tokio-echo [--port N]     (default 7000; 0 picks one)
//!
//! It mirrors chapters/04-tasks/echo-tasks.c: one thread (tokio's current-thread
//! runtime), an accepting task, and one task per connection that reads into a 4096-byte
//! buffer and writes everything it read back before it reads again, until the client
//! hangs up or an error ends it. Like every course server it listens on 127.0.0.1 and
//! prints `listening on 127.0.0.1:PORT` as the first line of standard output, flushed;
//! warnings go to standard error.

use std::io::Write;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const DEFAULT_PORT: u16 = 7000;
const BUF_SIZE: usize = 4096;

fn usage() -> ! {
    eprintln!("usage: tokio-echo [--port N]\n  N in 0..65535; 0 picks a free port (default 7000)");
    std::process::exit(2);
}

fn parse_args() -> u16 {
    let mut port = DEFAULT_PORT;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--port" | "-p" => args.next(),
            _ => arg.strip_prefix("--port=").map(str::to_owned),
        };
        port = match value.map(|v| v.parse::<u16>()) {
            Some(Ok(p)) => p,
            _ => usage(),
        };
    }
    port
}

/// One client: read, write it all back, repeat until EOF or an error.
async fn serve(mut stream: TcpStream, peer: std::net::SocketAddr) {
    let mut buf = [0u8; BUF_SIZE];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) => return, // the client closed its end
            Ok(n) => n,
            Err(e) => {
                eprintln!("tokio-echo: read from {peer}: {e}");
                return;
            }
        };
        if let Err(e) = stream.write_all(&buf[..n]).await {
            eprintln!("tokio-echo: write to {peer}: {e}");
            return;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port = parse_args();
    let listener = match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("tokio-echo: listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on 127.0.0.1:{port}");
    let _ = out.flush();
    drop(out);

    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(serve(stream, peer));
            }
            Err(e) => {
                // Out of descriptors or memory passes; wait a moment rather than spin.
                eprintln!("tokio-echo: accept: {e}; trying again in 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
