//! `camd-worker worker KEY`: the process the supervisor starts for each group of cameras. It is not meant
//! to be run by hand. It reads its orders from stdin (see worker_protocol), runs a `Worker`, and
//! stops every camera (rings `stopped`) on SIGTERM, SIGINT or end of input, within the stop
//! timeout, then exits. It dies with the supervisor: the parent-death signal is SIGTERM, and a
//! closed stdin means the same.

use crate::process_title;
use crate::worker::Worker;
use camd::clock::SystemClock;
use camd::error::{Error, Kind, Result};
use camd::logging;
use camd::worker_protocol::{Message, Report, Setup};
use std::io::BufRead;
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::Arc;

enum Order {
    Message(Result<Message>),
    /// A signal or the end of input.
    Shutdown(&'static str),
}

// Until the setup order names the log target, stderr is the only place to say what is wrong
// (a worker inherits camd's stderr: the journal, under systemd).
#[allow(clippy::print_stderr)]
pub fn main() -> ExitCode {
    let (tx, orders) = mpsc::channel();
    let stdin_tx = tx.clone();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let order = match line {
                Ok(line) => Order::Message(Message::decode(&line)),
                Err(e) => Order::Message(Err(Error::new(
                    Kind::Protocol,
                    format!("cannot read orders: {e}"),
                ))),
            };
            if stdin_tx.send(order).is_err() {
                return;
            }
        }
        let _ = stdin_tx.send(Order::Shutdown("the supervisor closed its pipe"));
    });
    match signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if signals.forever().next().is_some() {
                    let _ = tx.send(Order::Shutdown("signalled"));
                }
            });
        }
        Err(e) => eprintln!("camd-worker: cannot handle signals: {e}"),
    }
    let mut setup = match orders.recv() {
        Ok(Order::Message(Ok(Message::Setup(setup)))) => setup,
        _ => {
            eprintln!(
                "camd-worker: started without a setup message (this command is run by `camd run`)"
            );
            return ExitCode::from(2);
        }
    };
    let _ = logging::init_to(setup.settings.log_level, Some(setup.log_to));
    let mut worker = match Worker::new(&setup.runtime_dir, setup.ring_gid, Arc::new(SystemClock)) {
        Ok(worker) => worker,
        Err(e) => {
            log::error!("worker {}: {e}", setup.worker);
            return ExitCode::FAILURE;
        }
    };
    worker.set_reporter(Arc::new(report));
    // GStreamer is up (on a first start it has scanned every plugin, which takes tens of seconds
    // on a slow board): the supervisor starts counting this worker's silence as a hang now.
    report(Report::Ready);
    retitle(&setup, &worker);
    let reason = loop {
        match orders.recv() {
            Ok(Order::Message(Ok(Message::Start(entry)))) => {
                let entry = *entry;
                let name = entry.camera.name.clone();
                match worker.add(entry.camera) {
                    Ok(()) => report(Report::Running(name)),
                    Err(e) => {
                        log::error!("worker {}: camera {name} cannot start: {e}", setup.worker);
                        report(Report::Failed {
                            camera: name,
                            reason: e.to_string(),
                        });
                    }
                }
                retitle(&setup, &worker);
            }
            Ok(Order::Message(Ok(Message::Stop(name)))) => {
                if !worker.remove(&name, setup.settings.stop_timeout) {
                    log::warn!(
                        "worker {}: camera {name} did not stop within {:?}",
                        setup.worker,
                        setup.settings.stop_timeout
                    );
                }
                retitle(&setup, &worker);
            }
            Ok(Order::Message(Ok(Message::Settings(settings)))) => {
                logging::change_level(
                    setup.settings.log_level,
                    settings.log_level,
                    &format!("worker {}: ", setup.worker),
                );
                setup.settings = settings;
            }
            Ok(Order::Message(Ok(Message::Setup(_)))) => {
                log::warn!("worker {}: a second setup message is ignored", setup.worker)
            }
            Ok(Order::Message(Err(e))) => log::error!("worker {}: {e}", setup.worker),
            Ok(Order::Shutdown(reason)) => break reason,
            Err(_) => break "no more orders",
        }
    };
    log::debug!("worker {}: stopping ({reason})", setup.worker);
    let late = worker.stop(setup.settings.stop_timeout);
    if !late.is_empty() {
        log::warn!(
            "worker {}: cameras {} did not stop within {:?}",
            setup.worker,
            late.join(", "),
            setup.settings.stop_timeout
        );
    }
    // Threads that did not stop are abandoned: exit now, without waiting for them.
    std::process::exit(0)
}

/// Tells the supervisor, on stdout (a pipe only it reads). A supervisor that is gone cannot
/// hear it: the error is ignored, and the closed stdin stops this worker anyway.
#[allow(clippy::print_stdout)]
fn report(report: Report) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.encode().as_bytes());
    let _ = out.flush();
}

/// `camd worker #0: door garage`
fn retitle(setup: &Setup, worker: &Worker) {
    let names: Vec<&str> = worker.camera_names().collect();
    let _ = process_title::set(&format!(
        "camd worker {}: {}",
        setup.worker,
        names.join(" ")
    ));
}
