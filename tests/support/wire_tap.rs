//! A recording TCP proxy, so that a test can say what crossed the wire (issue 16, credentials
//! on the wire): no `Authorization: Basic`, the password neither in clear nor in base64, only
//! TLS records on an `rtsps://` connection.
//!
//! [`WireTap::start`] listens on 127.0.0.1 (a free port) and forwards each connection it accepts
//! to the target port, both ways, on two threads per connection, keeping every byte each side
//! sent. Point the client at the tap's port instead of the server's; RTSP's `Content-Base` then
//! names the tap too, so every request goes through it. With `protocols = tcp` the RTP travels
//! inside the RTSP connection and the tap sees it; over UDP it sees only RTSP.
//!
//! Dropping the tap closes its listening socket and every connection (the client sees the
//! server go away) and ends its threads.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What one direction of one connection carried, in order.
type Recording = Arc<Mutex<Vec<u8>>>;

/// What the tap's threads share with it.
#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    /// Per accepted connection, in the order accepted: (client to server, server to client).
    recordings: Mutex<Vec<(Recording, Recording)>>,
    /// Both sockets of every connection, to shut down on drop.
    sockets: Mutex<Vec<TcpStream>>,
    /// The forwarding threads, to join on drop.
    pumps: Mutex<Vec<JoinHandle<()>>>,
}

/// A running recording proxy to 127.0.0.1:`target_port`; stops on drop.
pub struct WireTap {
    /// The port clients connect to (on 127.0.0.1).
    pub port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl WireTap {
    /// Listens on 127.0.0.1 (any free port: [`WireTap::port`]) and forwards every connection to
    /// 127.0.0.1:`target_port`. A connection the target refuses is closed at once.
    pub fn start(target_port: u16) -> WireTap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen on 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("wire-tap-{port}"))
                .spawn(move || accept(listener, target_port, &shared))
                .expect("spawn the wire tap's thread")
        };
        WireTap {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Everything the clients sent, connection after connection in the order accepted.
    pub fn client_bytes(&self) -> Vec<u8> {
        self.concatenated(|(to_server, _)| to_server)
    }

    /// Everything the server sent back, connection after connection.
    pub fn server_bytes(&self) -> Vec<u8> {
        self.concatenated(|(_, to_client)| to_client)
    }

    /// [`WireTap::client_bytes`] as text, invalid UTF-8 (RTP, TLS) replaced.
    pub fn client_text(&self) -> String {
        String::from_utf8_lossy(&self.client_bytes()).into_owned()
    }

    /// [`WireTap::server_bytes`] as text, invalid UTF-8 replaced.
    pub fn server_text(&self) -> String {
        String::from_utf8_lossy(&self.server_bytes()).into_owned()
    }

    /// How many connections the tap has forwarded so far.
    pub fn connections(&self) -> usize {
        self.shared.recordings.lock().unwrap().len()
    }

    fn concatenated(&self, side: fn(&(Recording, Recording)) -> &Recording) -> Vec<u8> {
        let recordings = self.shared.recordings.lock().unwrap();
        recordings
            .iter()
            .flat_map(|pair| side(pair).lock().unwrap().clone())
            .collect()
    }
}

impl Drop for WireTap {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept; the acceptor sees `stopping` and drops the listener.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for socket in self.shared.sockets.lock().unwrap().drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
        let pumps: Vec<JoinHandle<()>> = self.shared.pumps.lock().unwrap().drain(..).collect();
        for pump in pumps {
            let _ = pump.join();
        }
    }
}

/// Accepts connections until the tap stops, forwarding each to the target.
fn accept(listener: TcpListener, target_port: u16, shared: &Shared) {
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
            continue;
        };
        let (to_server, to_client) = (Recording::default(), Recording::default());
        shared
            .recordings
            .lock()
            .unwrap()
            .push((to_server.clone(), to_client.clone()));
        let mut sockets = shared.sockets.lock().unwrap();
        sockets.push(client.try_clone().expect("clone a socket"));
        sockets.push(server.try_clone().expect("clone a socket"));
        drop(sockets);
        let pumps = [
            pump(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                to_server,
            ),
            pump(server, client, to_client),
        ];
        shared.pumps.lock().unwrap().extend(pumps);
    }
}

/// A thread copying `from` to `to`, recording each byte; at the end of `from` it ends `to`'s
/// writing side (the peer sees the half-close), on an error it closes both.
fn pump(mut from: TcpStream, mut to: TcpStream, recording: Recording) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) => {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    recording.lock().unwrap().extend_from_slice(&buffer[..n]);
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    })
}
