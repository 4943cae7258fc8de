//! Standard output and standard error for every command.
//!
//! A reader that closes the pipe early (`huiqi eval … | head -c1`) has what it wanted: the
//! rest of the output is dropped quietly and the command ends as it would have. Any other
//! failure to write standard output (a full disk) is said once on standard error and turns the
//! exit code into 2 ([`failed`], read by `cli::main`). Writing standard error never fails
//! loudly: when it is gone there is nowhere left to say so.
//!
//! Invariant: the command line writes only through [`outln!`], [`out!`], [`errln!`] and
//! [`err!`] (or a writer that treats a closed pipe the same way, as the batch writer does);
//! `println!` and `eprintln!` panic on a closed pipe.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether standard output failed for a reason other than a closed pipe.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output and flushes; see the module for what a failure does.
pub fn stdout(args: fmt::Arguments<'_>) {
    let mut o = std::io::stdout().lock();
    match o.write_fmt(args).and_then(|()| o.flush()) {
        Ok(()) => {}
        Err(e) => note_failure(&e),
    }
}

/// Records a failed write to standard output: a closed pipe quietly, anything else once on
/// standard error.
pub fn note_failure(e: &std::io::Error) {
    if e.kind() != ErrorKind::BrokenPipe && !FAILED.swap(true, Ordering::Relaxed) {
        stderr(format_args!("error: cannot write the output: {e}\n"));
    }
}

/// Writes to standard error, ignoring failure.
pub fn stderr(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Whether standard output failed (other than by a closed pipe): the command exits 2.
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}

/// `print!` that survives a closed pipe.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::out::stdout(format_args!($($t)*)) };
}

/// `println!` that survives a closed pipe.
macro_rules! outln {
    ($($t:tt)*) => { $crate::cli::out::stdout(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprint!` that survives a closed pipe.
macro_rules! err {
    ($($t:tt)*) => { $crate::cli::out::stderr(format_args!($($t)*)) };
}

/// `eprintln!` that survives a closed pipe.
macro_rules! errln {
    ($($t:tt)*) => { $crate::cli::out::stderr(format_args!("{}\n", format_args!($($t)*))) };
}
