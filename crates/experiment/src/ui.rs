//! Progress and messages on stderr for [`crate::pipeline::run`]: the only module that
//! draws (indicatif bars on a terminal, plain timed lines in a log).

use aad_models::{EpochReport, TrainObserver};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::outcome::format_duration;

/// Messages and progress on stderr: bars on a terminal; when stderr is a file or a pipe,
/// a plain line per running stage every 10 s (stage, done/total, rate, ETA) and one when
/// it ends, so a log is never silent for long.
pub(crate) struct Ui {
    mp: MultiProgress,
    lines: Option<LineTicker>,
}

/// The background printer of [`Ui`]'s plain-line mode.
struct LineTicker {
    bars: std::sync::Arc<std::sync::Mutex<Vec<ProgressBar>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn progress_line(pb: &ProgressBar) -> String {
    let (pos, len) = (pb.position(), pb.length().unwrap_or(0));
    let s = pb.elapsed().as_secs_f64();
    let rate = pos as f64 / s.max(1e-9);
    let eta = if pos > 0 && len > pos {
        format!(", eta {}", format_duration((len - pos) as f64 / rate))
    } else {
        String::new()
    };
    let msg = pb.message();
    let msg = if msg.is_empty() {
        String::new()
    } else {
        format!(" [{msg}]")
    };
    format!(
        "{}: {pos}/{len} ({rate:.1}/s, {}{eta}){msg}",
        pb.prefix(),
        format_duration(s)
    )
}

impl LineTicker {
    fn start() -> LineTicker {
        use std::sync::atomic::Ordering;
        let bars = std::sync::Arc::new(std::sync::Mutex::new(Vec::<ProgressBar>::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (b, st) = (bars.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut last = std::time::Instant::now();
            loop {
                let stopping = st.load(Ordering::Relaxed);
                let due = last.elapsed() >= std::time::Duration::from_secs(10);
                if let Ok(mut v) = b.lock() {
                    v.retain(|pb| {
                        if pb.is_finished() {
                            eprintln!("{}", progress_line(pb));
                            false
                        } else {
                            if due {
                                eprintln!("{}", progress_line(pb));
                            }
                            true
                        }
                    });
                }
                if due {
                    last = std::time::Instant::now();
                }
                if stopping {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        LineTicker {
            bars,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for LineTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Ui {
    pub(crate) fn new(progress: bool) -> Self {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        let target = if progress && terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Ui {
            mp: MultiProgress::with_draw_target(target),
            lines: (progress && !terminal).then(LineTicker::start),
        }
    }

    pub(crate) fn line(&self, s: &str) {
        if self.mp.is_hidden() {
            eprintln!("{s}");
        } else {
            let _ = self.mp.println(s);
        }
    }

    /// Prints what was left out, one line per item while a reason holds few, else one
    /// line per reason with the count and the first item (a wrong `--channel` once made
    /// a line per file). `verb` is e.g. "skipped", `noun` "file" or "group".
    pub(crate) fn grouped(&self, verb: &str, noun: &str, items: &[(String, String)]) {
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for (item, why) in items {
            match reasons.iter_mut().find(|(w, _)| *w == why.as_str()) {
                Some((_, v)) => v.push(item),
                None => reasons.push((why, vec![item])),
            }
        }
        for (why, its) in reasons {
            if its.len() <= 3 {
                for it in its {
                    self.line(&format!("{verb} {noun} {it}: {why}"));
                }
            } else {
                let n = its.len();
                self.line(&format!("{verb} {n} {noun}s: {why} (first: {})", its[0]));
            }
        }
    }

    pub(crate) fn bar(&self, len: u64, what: &str) -> ProgressBar {
        let pb = self.mp.add(ProgressBar::new(len));
        pb.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:32}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_prefix(what.to_string());
        if let Some(t) = &self.lines
            && let Ok(mut v) = t.bars.lock()
        {
            v.push(pb.clone());
        }
        pb
    }
}

/// Advances the training bar by one unit per epoch.
pub(crate) struct BarObserver<'a> {
    pub(crate) bar: &'a ProgressBar,
    pub(crate) done: u64,
}

impl TrainObserver for BarObserver<'_> {
    fn on_epoch(&mut self, _report: &EpochReport) -> bool {
        self.bar.inc(1);
        self.done += 1;
        true
    }
}
