//! `aad monitor`: score a long recording, or a live stream, window by window.
//!
//! Memory holds one window of samples, whatever the recording's length: a WAV file is
//! read block by block ([`aad_audio::WavStream`], the decoder's own conversion), raw PCM
//! from stdin likewise. Each window is scored exactly as `aad score` scores a file holding
//! the same samples (the features of a window are those of that window cut out as a clip;
//! a test checks the scores agree bit for bit).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use aad_audio::{AudioError, ChannelPolicy, WavStream};
use aad_core::Signal;
use aad_engine::model::Model;
use aad_plot::Window;

use crate::progress::{Mode, Progress};
use crate::{CliError, EXIT_OK};

/// Score a long recording window by window: rows `start_s,end_s,score,threshold,anomaly`.
///
/// FILE is a PCM/float WAV file of any length (read block by block), or `-` for raw
/// 16-bit little-endian PCM on stdin (give --rate and --channels), so a live stream can
/// be piped in. The window defaults to the length of the model's training clips.
///
/// Examples:
///   aad monitor pump.aadm night.wav --plot night.png --csv night.csv
///   arecord -f S16_LE -r 16000 -c 1 -t raw | aad monitor pump.aadm - --rate 16000
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    after_help = "Examples:\n  aad monitor pump.aadm night.wav --plot night.png --csv night.csv\n  arecord -f S16_LE -r 16000 -c 1 -t raw | aad monitor pump.aadm - --rate 16000"
)]
pub struct Args {
    /// The model file (from `aad fit`).
    pub model: PathBuf,
    /// A WAV file, or `-` for raw s16le PCM on stdin.
    pub input: String,
    /// Window length in seconds [default: the training clips' median length].
    #[arg(long)]
    pub window: Option<f64>,
    /// Hop between window starts in seconds [default: the window].
    #[arg(long)]
    pub hop: Option<f64>,
    /// Sample rate of raw stdin input [default: the model's].
    #[arg(long)]
    pub rate: Option<u32>,
    /// Interleaved channels of raw stdin input.
    #[arg(long, default_value_t = 1)]
    pub channels: usize,
    /// Write rows here (as they come, to `OUT.partial`, renamed to OUT at the end)
    /// instead of stdout.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Draw score over time with the threshold and anomalous stretches (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Say why each window scored as it did: the columns kind, band_lo_hz, band_hi_hz,
    /// span_start_s, span_end_s (in the recording's time) and explanation (the kNN
    /// detectors, the default among them, and the autoencoders scored by their squared
    /// error).
    #[arg(long)]
    pub explain: bool,
    /// No progress on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Where samples come from.
enum Source {
    Wav(WavStream),
    Raw {
        input: Box<dyn Read>,
        channels: usize,
        policy: ChannelPolicy,
        bytes: Vec<u8>,
    },
}

impl Source {
    /// Up to `n` more mono samples into `out`; 0 at the end.
    fn read(&mut self, n: usize, out: &mut Vec<f32>) -> Result<usize, CliError> {
        match self {
            Source::Wav(w) => w
                .read(n, out)
                .map_err(|e| CliError::bad_input(e.to_string())),
            Source::Raw {
                input,
                channels,
                policy,
                bytes,
            } => {
                let frame = 2 * *channels;
                bytes.resize(n * frame, 0);
                let got = read_full(input.as_mut(), bytes)
                    .map_err(|e| CliError::bad_input(format!("stdin: {e}")))?;
                let frames = got / frame;
                out.clear();
                out.extend(bytes[..frames * frame].chunks_exact(frame).map(|f| {
                    let s = |c: usize| {
                        f32::from(i16::from_le_bytes([f[2 * c], f[2 * c + 1]])) / 32_768.0
                    };
                    match *policy {
                        ChannelPolicy::Index(c) => s(c),
                        ChannelPolicy::First => s(0),
                        // As the decoder: the sum in channel order, then one division.
                        ChannelPolicy::Mean => {
                            let mut acc = 0.0f32;
                            for c in 0..*channels {
                                acc += s(c);
                            }
                            if *channels > 1 {
                                acc / *channels as f32
                            } else {
                                acc
                            }
                        }
                    }
                }));
                Ok(frames)
            }
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(at)
}

/// Rows as they come: stdout, or `OUT.partial` renamed to OUT by [`Sink::close`].
struct Sink {
    out: Box<dyn Write>,
    partial: Option<(PathBuf, PathBuf)>,
}

impl Sink {
    fn open(csv: Option<&Path>) -> Result<Sink, CliError> {
        match csv {
            None => Ok(Sink {
                out: Box::new(std::io::stdout()),
                partial: None,
            }),
            Some(p) => {
                let mut name = p.file_name().unwrap_or_default().to_os_string();
                name.push(".partial");
                let tmp = p.with_file_name(name);
                let f = std::fs::File::create(&tmp).map_err(|e| {
                    CliError::failed(format!("{}: {}", tmp.display(), crate::files::plain_io(&e)))
                })?;
                Ok(Sink {
                    out: Box::new(std::io::BufWriter::new(f)),
                    partial: Some((tmp, p.to_path_buf())),
                })
            }
        }
    }

    fn line(&mut self, s: &str) -> Result<(), CliError> {
        writeln!(self.out, "{s}")
            .and_then(|()| self.out.flush())
            .map_err(|e| CliError::failed(format!("writing rows: {}", crate::files::plain_io(&e))))
    }

    fn close(mut self) -> Result<(), CliError> {
        self.out
            .flush()
            .map_err(|e| CliError::failed(crate::files::plain_io(&e)))?;
        drop(self.out);
        if let Some((tmp, dest)) = self.partial {
            std::fs::rename(&tmp, &dest).map_err(|e| {
                CliError::failed(format!(
                    "{}: {}",
                    dest.display(),
                    crate::files::plain_io(&e)
                ))
            })?;
        }
        Ok(())
    }
}

/// Runs `aad monitor`.
///
/// # Errors
/// An invalid model or input (exit 2), an unwritable output (exit 1).
pub fn run(a: Args) -> Result<u8, CliError> {
    let model = crate::load_model(&a.model)?;
    if a.explain {
        crate::score::check_explainable(&model)?;
    }
    let sr = model.sample_rate();
    let (mut source, total) = open_source(&a, &model)?;
    let window_s = a.window.or(model.clip_seconds()).unwrap_or(10.0);
    let hop_s = a.hop.unwrap_or(window_s);
    let win = to_samples(window_s, sr, "window")?;
    let hop = to_samples(hop_s, sr, "hop")?;
    let mode = Mode::detect(a.quiet);
    let bar = Progress::new(
        mode,
        "monitor",
        total.map_or(0, |t| (t.saturating_sub(win as u64)) / hop as u64 + 1),
    );
    let mut fx = model
        .extractor()
        .map_err(|e| CliError::failed(e.to_string()))?;
    let mut sink = Sink::open(a.csv.as_deref())?;
    sink.line(if a.explain { HEADER_EXPLAINED } else { HEADER })?;
    let mut rows: Vec<Window> = Vec::new();
    let mut buf: Vec<f32> = Vec::with_capacity(win);
    let mut block = Vec::new();
    let mut start: u64 = 0;
    let mut flagged = 0usize;
    let name = Path::new(&a.input);
    loop {
        fill(&mut source, &mut buf, win, &mut block)?;
        if buf.len() < win {
            if !buf.is_empty() && mode != Mode::Quiet {
                eprintln!(
                    "the last {:.2} s are shorter than a window and were not scored",
                    buf.len() as f64 / f64::from(sr)
                );
            }
            break;
        }
        let signal = Signal::new(buf.clone(), sr)
            .map_err(|e| CliError::bad_input(format!("{}: {e}", a.input)))?;
        let span = (start, start + win as u64);
        let (w, line) = score_window(&model, &mut fx, (&signal, name, span), a.explain)?;
        flagged += usize::from(model.decide(w.score));
        sink.line(&line)?;
        rows.push(w);
        bar.tick();
        advance(&mut source, &mut buf, win, hop, &mut block)?;
        start += hop as u64;
    }
    bar.finish();
    sink.close()?;
    if rows.is_empty() {
        // Nothing was scored, plot or no plot: bad input, with or without --plot.
        return Err(CliError::bad_input(format!(
            "{}: shorter than one window ({window_s} s): nothing was scored",
            a.input
        )));
    }
    if let Some(p) = &a.plot {
        plot(p, &a.input, &model, &rows)?;
    }
    if mode != Mode::Quiet {
        eprintln!(
            "{} windows of {window_s} s every {hop_s} s; {flagged} above the threshold",
            rows.len()
        );
    }
    Ok(EXIT_OK)
}

/// The CSV header, plain and with `--explain`.
const HEADER: &str = "start_s,end_s,score,threshold,anomaly";
const HEADER_EXPLAINED: &str = "start_s,end_s,score,threshold,anomaly,kind,band_lo_hz,band_hi_hz,span_start_s,span_end_s,explanation";

/// One window (from sample `span.0` to `span.1`) scored, and its CSV row; with
/// `explain`, the explanation's columns too (from the same features: the score is the
/// plain one, bit for bit).
fn score_window(
    model: &Model,
    fx: &mut aad_engine::registry::AnyExtractor,
    (signal, name, span): (&Signal, &Path, (u64, u64)),
    explain: bool,
) -> Result<(Window, String), CliError> {
    let sr = f64::from(signal.sample_rate());
    let (start_s, end_s) = (span.0 as f64 / sr, span.1 as f64 / sr);
    let (score, why) = if explain {
        let e = aad_engine::explain::explain_window(model, fx, signal, name, start_s)
            .map_err(|e| CliError::bad_input(e.to_string()))?;
        (e.score, crate::score::explanation_columns(&e))
    } else {
        let s = model
            .score_signal_with(fx, signal, name)
            .map_err(|e| CliError::bad_input(e.to_string()))?;
        (s, String::new())
    };
    let line = format!(
        "{start_s},{end_s},{score},{},{}{why}",
        model.threshold(),
        u8::from(model.decide(score))
    );
    Ok((
        Window {
            start_s,
            end_s,
            score,
        },
        line,
    ))
}

/// Seconds as a whole number of samples: at least one, at most a day.
fn to_samples(s: f64, sr: u32, what: &str) -> Result<usize, CliError> {
    let n = (s * f64::from(sr)).round();
    if s.is_finite() && n >= 1.0 && n <= 24.0 * 3600.0 * f64::from(sr) {
        Ok(n as usize)
    } else {
        Err(CliError::bad_input(format!(
            "--{what} {s}: must be a positive number of seconds (at most a day)"
        )))
    }
}

/// Reads until `buf` holds a window of `win` samples or the input ends.
fn fill(
    source: &mut Source,
    buf: &mut Vec<f32>,
    win: usize,
    block: &mut Vec<f32>,
) -> Result<(), CliError> {
    while buf.len() < win {
        if source.read(win - buf.len(), block)? == 0 {
            break;
        }
        buf.extend_from_slice(block);
    }
    Ok(())
}

/// Moves the window on by `hop` samples: drops them from `buf`, or, when the hop is
/// longer than the window, reads past the gap without keeping it.
fn advance(
    source: &mut Source,
    buf: &mut Vec<f32>,
    win: usize,
    hop: usize,
    block: &mut Vec<f32>,
) -> Result<(), CliError> {
    if hop <= win {
        buf.drain(..hop);
        return Ok(());
    }
    buf.clear();
    let mut skip = hop - win;
    while skip > 0 {
        let got = source.read(skip.min(1 << 16), block)?;
        if got == 0 {
            break;
        }
        skip -= got;
    }
    Ok(())
}

/// The score timeline with the threshold (of at least one window).
fn plot(path: &Path, input: &str, model: &Model, rows: &[Window]) -> Result<(), CliError> {
    let t = model.threshold();
    let title = format!(
        "{input} ({} on {}), threshold {t:.4}",
        model.detector_name(),
        model.feature().name,
    );
    aad_plot::score_timeline(path, rows, t, &title).map_err(|e| CliError::failed(e.to_string()))
}

fn open_source(a: &Args, model: &Model) -> Result<(Source, Option<u64>), CliError> {
    let sr = model.sample_rate();
    if a.input == "-" {
        let rate = a.rate.unwrap_or(sr);
        if rate != sr {
            return Err(CliError::bad_input(format!(
                "stdin: --rate {rate} Hz, the model expects {sr} Hz (resample before piping)"
            )));
        }
        if a.channels == 0 || a.channels > 64 {
            return Err(CliError::bad_input("--channels must be 1..64"));
        }
        let policy = model.channel();
        if let ChannelPolicy::Index(c) = policy
            && c >= a.channels
        {
            return Err(CliError::bad_input(format!(
                "the model reads channel {c}, the stream has {} channel(s)",
                a.channels
            )));
        }
        return Ok((
            Source::Raw {
                input: Box::new(std::io::stdin()),
                channels: a.channels,
                policy,
                bytes: Vec::new(),
            },
            None,
        ));
    }
    let s = WavStream::open(&a.input, model.channel()).map_err(|e| match e {
        AudioError::Unsupported { .. } => CliError::bad_input(format!(
            "{e} (monitor streams PCM/float WAV; convert other formats, or score them with `aad score`)"
        )),
        other => CliError::bad_input(other.to_string()),
    })?;
    if s.sample_rate() != sr {
        return Err(CliError::bad_input(format!(
            "{}: sample rate {} Hz, the model expects {sr} Hz",
            a.input,
            s.sample_rate()
        )));
    }
    let frames = s.frames();
    Ok((Source::Wav(s), Some(frames)))
}
