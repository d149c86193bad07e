//! How a run reports what it is doing: the [`Progress`] observer. The library draws
//! nothing itself: [`LogProgress`] writes plain timed lines to stderr (for logs and
//! notebooks), [`MessagesOnly`] only the messages; the `aad` command brings its own
//! terminal bars. Implement [`Progress`] to route a run's progress elsewhere (a GUI, a
//! job tracker, a test that records it).
//!
//! ```
//! use aad_experiment::progress::{Progress, StageProgress};
//! use std::sync::{Arc, Mutex};
//!
//! /// Keeps every message.
//! #[derive(Default)]
//! struct Recorder(Mutex<Vec<String>>);
//! struct Silent;
//! impl StageProgress for Silent {
//!     fn advance(&self, _n: u64) {}
//! }
//! impl Progress for Recorder {
//!     fn message(&self, line: &str) {
//!         self.0.lock().unwrap().push(line.to_string());
//!     }
//!     fn stage(&self, _name: &str, _total: u64) -> Arc<dyn StageProgress> {
//!         Arc::new(Silent)
//!     }
//! }
//! let r = Recorder::default();
//! r.message("skipped a.wav: truncated");
//! r.stage("extract", 10).advance(3);
//! assert_eq!(r.0.lock().unwrap().len(), 1);
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::outcome::format_duration;

/// Where a run reports messages and the progress of its stages. Called from worker
/// threads, hence `Send + Sync`.
pub trait Progress: Send + Sync {
    /// One line for the user: a skipped file, a warning, a note.
    fn message(&self, line: &str);
    /// A stage of `total` units begins (`0`: not known yet); progress goes to the
    /// returned counter.
    fn stage(&self, name: &str, total: u64) -> Arc<dyn StageProgress>;
}

/// The progress of one stage.
pub trait StageProgress: Send + Sync {
    /// `n` more units done.
    fn advance(&self, n: u64);
    /// The stage's size, once known.
    fn set_total(&self, _total: u64) {}
    /// What the stage works on now (e.g. the machine group).
    fn set_detail(&self, _detail: &str) {}
    /// The stage ended.
    fn finish(&self) {}
}

/// Messages on stderr, no progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct MessagesOnly;

struct Nothing;

impl StageProgress for Nothing {
    fn advance(&self, _n: u64) {}
}

impl Progress for MessagesOnly {
    fn message(&self, line: &str) {
        eprintln!("{line}");
    }

    fn stage(&self, _name: &str, _total: u64) -> Arc<dyn StageProgress> {
        Arc::new(Nothing)
    }
}

/// A stage's counters, shared with the printer.
struct Counter {
    name: String,
    total: AtomicU64,
    done: AtomicU64,
    started: Instant,
    detail: Mutex<String>,
    finished: AtomicBool,
}

impl StageProgress for Counter {
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    fn set_detail(&self, detail: &str) {
        if let Ok(mut d) = self.detail.lock() {
            detail.clone_into(&mut d);
        }
    }

    fn finish(&self) {
        // Printed here, not by the ticker, so the line comes before what follows.
        if !self.finished.swap(true, Ordering::Relaxed) {
            eprintln!("{}", self.line());
        }
    }
}

impl Counter {
    /// `train: 4318/11664 (58.0/s, 1m14s, eta 2m06s) [6dB/fan/id_00]`; `monitor: 12 (...)`
    /// when the total is unknown (0).
    fn line(&self) -> String {
        let (done, total) = (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        );
        let s = self.started.elapsed().as_secs_f64();
        let rate = done as f64 / s.max(1e-9);
        let eta = if done > 0 && total > done {
            format!(", eta {}", format_duration((total - done) as f64 / rate))
        } else {
            String::new()
        };
        let detail = self.detail.lock().map(|d| d.clone()).unwrap_or_default();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" [{detail}]")
        };
        // A total of 0 is an unknown length (a stream): the count alone.
        let count = if total == 0 {
            done.to_string()
        } else {
            format!("{done}/{total}")
        };
        format!(
            "{}: {count} ({rate:.1}/s, {}{eta}){detail}",
            self.name,
            format_duration(s)
        )
    }
}

/// Messages on stderr as they come, and every 10 s one plain line per running stage
/// (stage, done/total, rate, elapsed, ETA, what it works on), plus one when a stage
/// ends: a log is never silent for long. A background thread prints; it stops when
/// this is dropped.
pub struct LogProgress {
    stages: Arc<Mutex<Vec<Arc<Counter>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LogProgress {
    /// Seconds between lines.
    pub const EVERY: Duration = Duration::from_secs(10);

    /// Starts the printer.
    pub fn start() -> LogProgress {
        let stages: Arc<Mutex<Vec<Arc<Counter>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (st, halt) = (stages.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut last = Instant::now();
            loop {
                let stopping = halt.load(Ordering::Relaxed);
                let due = last.elapsed() >= Self::EVERY;
                if let Ok(mut v) = st.lock() {
                    v.retain(|c| {
                        let ended = c.finished.load(Ordering::Relaxed);
                        if due && !ended {
                            eprintln!("{}", c.line());
                        }
                        !ended
                    });
                }
                if due {
                    last = Instant::now();
                }
                if stopping {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        LogProgress {
            stages,
            stop,
            thread: Some(thread),
        }
    }
}

impl Progress for LogProgress {
    fn message(&self, line: &str) {
        eprintln!("{line}");
    }

    fn stage(&self, name: &str, total: u64) -> Arc<dyn StageProgress> {
        let c = Arc::new(Counter {
            name: name.to_string(),
            total: AtomicU64::new(total),
            done: AtomicU64::new(0),
            started: Instant::now(),
            detail: Mutex::default(),
            finished: AtomicBool::new(false),
        });
        if let Ok(mut v) = self.stages.lock() {
            v.push(c.clone());
        }
        c
    }
}

impl Drop for LogProgress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Prints what was left out, one message per item while a reason holds few, else one
/// per reason with the count and the first item (a wrong `--channel` once made a line
/// per file). `verb` is e.g. "skipped", `noun` "file" or "group".
pub(crate) fn grouped<R: std::fmt::Display>(
    p: &dyn Progress,
    verb: &str,
    noun: &str,
    items: &[(String, R)],
) {
    let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
    for (item, why) in items {
        let why = why.to_string();
        match reasons.iter_mut().find(|(w, _)| *w == why) {
            Some((_, v)) => v.push(item),
            None => reasons.push((why, vec![item])),
        }
    }
    for (why, its) in reasons {
        if its.len() <= 3 {
            for it in its {
                p.message(&format!("{verb} {noun} {it}: {why}"));
            }
        } else {
            let n = its.len();
            p.message(&format!("{verb} {n} {noun}s: {why} (first: {})", its[0]));
        }
    }
}

/// Advances a training stage by one unit per epoch, and lends the autoencoder cores that
/// the stage's workers left idle (see [`SpareCores`]).
pub(crate) struct EpochCounter<'a> {
    pub(crate) stage: &'a dyn StageProgress,
    pub(crate) done: u64,
    pub(crate) spare: Option<Lease<'a>>,
}

impl aad_models::TrainObserver for EpochCounter<'_> {
    fn on_epoch(&mut self, _report: &aad_models::EpochReport) -> bool {
        self.stage.advance(1);
        self.done += 1;
        true
    }

    fn threads(&mut self) -> Option<usize> {
        self.spare.as_mut().map(Lease::threads)
    }
}

/// The most threads one autoencoder borrows: it trains 1.63x faster on two threads than
/// on one and little faster on more (docs/benchmarks.md), so idle cores are shared out
/// one per running autoencoder.
const MAX_LENT_THREADS: usize = 2;

/// Cores whose workers found no job left: an autoencoder still training may borrow them
/// (the native engine's results do not depend on its thread count).
#[derive(Debug, Default)]
pub(crate) struct SpareCores(std::sync::atomic::AtomicUsize);

impl SpareCores {
    /// A worker leaves for good: its core is free.
    pub(crate) fn release(&self, n: usize) {
        self.0.fetch_add(n, std::sync::atomic::Ordering::AcqRel);
    }

    /// Takes up to `n` free cores; returns how many it got.
    fn take(&self, n: usize) -> usize {
        use std::sync::atomic::Ordering;
        let mut got = 0;
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
                got = free.min(n);
                Some(free - got)
            });
        got
    }

    /// A lease for one job, holding nothing yet.
    pub(crate) fn lease(&self) -> Lease<'_> {
        Lease {
            pool: self,
            held: 0,
        }
    }
}

/// The cores one job borrowed, given back when it ends.
#[derive(Debug)]
pub(crate) struct Lease<'a> {
    pool: &'a SpareCores,
    held: usize,
}

impl Lease<'_> {
    /// The job's thread count from now on: its own, plus what it could borrow.
    fn threads(&mut self) -> usize {
        self.held += self.pool.take(MAX_LENT_THREADS - 1 - self.held);
        1 + self.held
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.release(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_cores_are_lent_one_per_job_and_given_back() {
        let spare = SpareCores::default();
        let (mut a, mut b) = (spare.lease(), spare.lease());
        assert_eq!(a.threads(), 1, "nothing idle yet");
        spare.release(1);
        assert_eq!(a.threads(), 2);
        assert_eq!(b.threads(), 1, "the one idle core is taken");
        spare.release(3);
        assert_eq!((a.threads(), b.threads()), (2, 2), "at most two each");
        drop(a);
        assert_eq!(spare.take(usize::MAX), 3, "the lease gave its core back");
    }

    #[test]
    fn a_stage_line_says_where_it_is_and_how_long_is_left() {
        let p = LogProgress::start();
        let s = p.stage("train", 10);
        s.advance(4);
        s.set_detail("6dB/fan/id_00");
        let line = p.stages.lock().unwrap()[0].line();
        assert!(line.starts_with("train: 4/10 ("), "{line}");
        assert!(
            line.contains(", eta ") && line.ends_with("[6dB/fan/id_00]"),
            "{line}"
        );
        s.finish();
        // A stream of unknown length (`aad monitor M -`) counts without a total.
        let stream = p.stage("monitor", 0);
        stream.advance(2);
        let line = p.stages.lock().unwrap()[1].line();
        assert!(line.starts_with("monitor: 2 ("), "{line}");
        assert!(!line.contains("2/0"), "{line}");
    }
}
