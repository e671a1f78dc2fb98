//! Children that never outlive the process that started them: the parent-death signal
//! (SIGTERM) armed between fork and exec, and a child whose parent is already gone by then
//! fails to start instead of running on orphaned. Used for camd's workers and by the demo.

use nix::sys::signal::Signal;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Arms `command` so that the child gets SIGTERM when the calling process dies.
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    let parent = nix::unistd::getpid();
    // SAFETY: runs in the forked child before exec, where only async-signal-safe calls are
    // allowed: prctl(PR_SET_PDEATHSIG) and getppid are plain system calls, and the closure
    // allocates nothing on its success path.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
            // The parent died before the signal was armed: do not outlive it.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        })
    }
}
