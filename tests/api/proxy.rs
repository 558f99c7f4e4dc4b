//! A TCP proxy a test can cut: the server under test talks to PostgreSQL (or Redis) through
//! it, so a test can take the dependency away from that one server — the port closed
//! (connections refused, as when the service stops) or black-holed (accepted, never
//! answered) — without touching the shared service other tests use.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    /// Accepts and holds connections without a byte either way.
    Hang,
}

pub struct Proxy {
    pub port: u16,
    target: SocketAddr,
    state: Arc<Mutex<(Mode, Vec<JoinHandle<()>>)>>,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            target,
            state: Arc::new(Mutex::new((Mode::Forward, Vec::new()))),
            listener: Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let target = self.target;
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mode = state.lock().unwrap().0;
                let connection = tokio::spawn(async move {
                    if mode == Mode::Hang {
                        let _held = inbound;
                        std::future::pending::<()>().await;
                        return;
                    }
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                state.lock().unwrap().1.push(connection);
            }
        });
        *self.listener.lock().unwrap() = Some(task);
    }

    /// Drops every connection through the proxy.
    fn sever(&self) {
        for connection in self.state.lock().unwrap().1.drain(..) {
            connection.abort();
        }
    }

    /// The service "stops": open connections are cut and the port is closed (refused).
    pub fn down(&self) {
        if let Some(listener) = self.listener.lock().unwrap().take() {
            listener.abort();
        }
        self.sever();
    }

    /// The service hangs: open connections are cut, new ones are accepted and never answered.
    pub fn hang(&self) {
        self.state.lock().unwrap().0 = Mode::Hang;
        self.sever();
    }

    /// The service is back on the same port.
    pub async fn up(&self) {
        self.sever();
        self.state.lock().unwrap().0 = Mode::Forward;
        if self.listener.lock().unwrap().is_some() {
            return;
        }
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("proxy rebind {}: {e}", self.port),
            }
        };
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
    }
}
