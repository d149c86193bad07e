//! Progress on stderr: a bar on a terminal, periodic plain lines in a log, nothing with
//! `--quiet`.

use std::io::IsTerminal;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bars (stderr is a terminal).
    Bar,
    /// A line every 10 s and one at the end (stderr is a file or pipe).
    Lines,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// Bars on a terminal, lines otherwise, nothing when `quiet`.
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// One stage's progress; `tick` from any thread. The same observers as the
/// experiment's: [`Bars`] on a terminal, `LogProgress`'s timed lines in a log, nothing
/// with `--quiet`.
pub struct Progress {
    // Dropped before `ui`, whose printer thread it reports to.
    stage: std::sync::Arc<dyn aad_experiment::progress::StageProgress>,
    _ui: Box<dyn aad_experiment::progress::Progress>,
}

impl Progress {
    /// A stage of `total` units.
    pub fn new(mode: Mode, stage: &str, total: u64) -> Progress {
        let ui = experiment_progress(mode);
        Progress {
            stage: ui.stage(stage, total),
            _ui: ui,
        }
    }

    /// One more unit done.
    pub fn tick(&self) {
        self.stage.advance(1);
    }

    /// Ends the stage (a last line in a log).
    pub fn finish(&self) {
        self.stage.finish();
    }
}

/// The experiment's progress as terminal bars (one per running stage) with messages
/// printed above them.
pub struct Bars {
    mp: indicatif::MultiProgress,
}

impl Bars {
    /// Bars drawn on stderr.
    pub fn new() -> Bars {
        Bars {
            mp: indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr()),
        }
    }
}

impl Default for Bars {
    fn default() -> Self {
        Bars::new()
    }
}

/// One stage's bar.
struct Bar(indicatif::ProgressBar);

impl aad_experiment::progress::StageProgress for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }

    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }

    fn set_detail(&self, detail: &str) {
        self.0.set_message(detail.to_string());
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl aad_experiment::progress::Progress for Bars {
    fn message(&self, line: &str) {
        if self.mp.println(line).is_err() {
            eprintln!("{line}");
        }
    }

    fn stage(
        &self,
        name: &str,
        total: u64,
    ) -> std::sync::Arc<dyn aad_experiment::progress::StageProgress> {
        let pb = self.mp.add(indicatif::ProgressBar::new(total));
        // A total of 0 is an unknown length (a stream on stdin): a count, not "2/0".
        let template = if total == 0 {
            "{prefix:>10} {spinner} {pos} {msg} ({elapsed})"
        } else {
            "{prefix:>10} [{bar:32}] {pos}/{len} {msg} ({elapsed}, eta {eta})"
        };
        pb.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_prefix(name.to_string());
        std::sync::Arc::new(Bar(pb))
    }
}

/// The experiment's progress for `mode`: bars, timed lines, or messages only.
pub fn experiment_progress(mode: Mode) -> Box<dyn aad_experiment::progress::Progress> {
    match mode {
        Mode::Bar => Box::new(Bars::new()),
        Mode::Lines => Box::new(aad_experiment::progress::LogProgress::start()),
        Mode::Quiet => Box::new(aad_experiment::progress::MessagesOnly),
    }
}
