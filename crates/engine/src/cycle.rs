//! A band's repeating events and where their pattern breaks.
//!
//! A valve clicks as it opens and closes, once each per cycle. A fault that changes that
//! pattern (a click that goes missing) leaves frames that look like the normal quiet
//! between clicks, so no frame departs from the normal frames there: the change is in
//! *when* the events come. [`find`] reads the band's level per frame, finds its events
//! (frames well above the band's floor), the period they repeat with, and the place one
//! period from events on either side where no event came.
//!
//! A clip whose fault dropped most of its events keeps too few a period apart to show
//! one. [`normal_period`] reads the period from the normal clips when a model is fitted;
//! given it, [`find`] fits the clip's remaining events to a comb near it (their gaps
//! whole multiples of one period) and looks for the breaks between them the same way.

use ndarray::ArrayView2;

use crate::registry::{FeatureKind, FeatureSpec};

/// Feature rows are grouped into this many bands for explanations (fewer for a narrow
/// feature).
pub(crate) const BANDS: usize = 16;

/// The feature's rows grouped into [`BANDS`] bands (fewer for a narrow feature).
pub(crate) fn band_rows(dims: usize) -> Vec<std::ops::Range<usize>> {
    let per = dims.div_ceil(BANDS.min(dims).max(1)).max(1);
    (0..dims)
        .step_by(per)
        .map(|start| start..(start + per).min(dims))
        .collect()
}

/// Whether the feature is a log-Mel spectrogram in dB (whose bands have levels).
fn log_mel_db(feature: &FeatureSpec) -> bool {
    matches!(&feature.kind, FeatureKind::LogMel(c) if c.log != mel_features::LogScale::None)
}

/// The band's level per frame (the mean of its rows, dB), for a log-Mel feature in dB;
/// `None` for other features or rows beyond the frames' width.
pub(crate) fn band_level(
    feature: &FeatureSpec,
    frames: ArrayView2<'_, f32>,
    rows: std::ops::Range<usize>,
) -> Option<Vec<f64>> {
    if !log_mel_db(feature) || rows.is_empty() || rows.end > frames.ncols() {
        return None;
    }
    Some(
        frames
            .rows()
            .into_iter()
            .map(|f| rows.clone().map(|r| f64::from(f[r])).sum::<f64>() / rows.len() as f64)
            .collect(),
    )
}

/// Per band of the explanations, the period the normal clips' events repeat with,
/// seconds (`None` where they do not, see `Model::event_periods`); empty for a feature
/// other than log-Mel in dB.
pub(crate) fn normal_periods(
    feature: &FeatureSpec,
    clips: &[ndarray::Array2<f32>],
) -> Vec<Option<f64>> {
    let dims = match clips.first() {
        Some(c) if log_mel_db(feature) => c.ncols(),
        _ => return Vec::new(),
    };
    band_rows(dims)
        .into_iter()
        .map(|rows| {
            let levels: Vec<Vec<f64>> = clips
                .iter()
                .filter_map(|c| band_level(feature, c.view(), rows.clone()))
                .collect();
            normal_period(&levels, feature.seconds_per_frame())
        })
        .collect()
}

/// The upper median (the middle value, or the higher of the two middle ones); 0 for no
/// values.
pub(crate) fn median(x: &[f64]) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(0.0)
}

/// Where a band's repeating events break: an event expected one period from the events
/// on either side of it did not come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CycleBreak {
    /// The period the band's events repeat with, seconds.
    pub period_s: f64,
    /// Where the missing event was due, seconds from the start of the clip (or window).
    pub at_s: f64,
    /// How far the band stayed below the events one period away there, from 0 (as high
    /// as they) to 1 (the band stayed at its floor).
    pub depth: f64,
}

/// An event lies this far above the band's floor in its robust spreads (median absolute
/// deviations) at least, and at least [`EVENT_SHARE`] of the way to the band's maximum.
const EVENT_MADS: f64 = 6.0;
/// See [`EVENT_MADS`].
const EVENT_SHARE: f64 = 0.3;
/// Shortest period looked for, seconds: longer than an event's own frames.
const MIN_PERIOD_S: f64 = 0.25;
/// Longest period looked for, seconds (and at most a third of the clip): it bounds the
/// pairs of events a long recording gives.
const MAX_PERIOD_S: f64 = 4.0;
/// Two events match when they lie this close to one period apart, seconds (two hops of
/// the default feature).
const MATCH_S: f64 = 0.064;
/// A band repeats when at least this share of its events has a partner one period away,
/// and at least [`MIN_PAIRS`] pairs of events lie one period apart.
const MIN_PAIRED: f64 = 0.5;
/// See [`MIN_PAIRED`].
const MIN_PAIRS: usize = 3;
/// A missing event leaves the band this deep below the events one period away at least
/// (1: at the floor). Chosen with [`MIN_PAIRED`] on the synthetic set of seed 1;
/// [`MIN_PAIRS`] was raised to 3 after looking at that set's normal clips.
const MIN_DEPTH: f64 = 0.8;
/// A band has a normal period when at least this share of the normal clips repeat in it,
/// and this share of those repeat within [`PERIOD_SPREAD`] of their median period.
const NORMAL_SHARE: f64 = 0.5;
/// See [`NORMAL_SHARE`]: a machine's cycle drifts a little from clip to clip.
const PERIOD_SPREAD: f64 = 0.05;
/// A clip's events are fitted to periods within this fraction of the normal period.
const COMB_SPREAD: f64 = 0.05;
/// The largest multiple of the period two events of a comb may lie apart: further, a
/// small error in the period adds up past [`MATCH_S`].
const COMB_MULTIPLES: f64 = 8.0;
/// Fewest events a comb is fitted to.
const COMB_EVENTS: usize = 3;

/// The band's events: (centre frame, weighted by power; peak level).
fn events(x: &[f64]) -> (Vec<(f64, f64)>, f64) {
    let floor = median(x);
    let mad = 1.4826 * median(&x.iter().map(|v| (v - floor).abs()).collect::<Vec<_>>());
    let top = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let rise = (EVENT_MADS * mad).max(EVENT_SHARE * (top - floor));
    // `find` passes finite levels only.
    if top - floor <= EVENT_MADS * mad || !rise.is_finite() {
        return (Vec::new(), floor);
    }
    let threshold = floor + rise;
    let mut out = Vec::new();
    let mut t = 0;
    while t < x.len() {
        if x[t] > threshold {
            let start = t;
            while t + 1 < x.len() && x[t + 1] > threshold {
                t += 1;
            }
            let (mut w, mut wt, mut peak) = (0.0, 0.0, f64::NEG_INFINITY);
            for (i, &v) in x.iter().enumerate().take(t + 1).skip(start) {
                // dB to power, relative to the floor so it cannot overflow.
                let p = 10f64.powf(((v - floor) / 10.0).min(30.0));
                w += p;
                wt += p * i as f64;
                peak = peak.max(v);
            }
            out.push((wt / w, peak));
        }
        t += 1;
    }
    (out, floor)
}

/// The period (frames) the most event pairs lie apart, between `lo` and `hi`, the mean
/// of the pairs that support it; `None` with fewer than [`MIN_PAIRS`] pairs.
fn period(times: &[f64], lo: f64, hi: f64, tol: f64) -> Option<f64> {
    // `times` ascend: each event's pairs stop at the longest period, so a long recording
    // with many events gives pairs in proportion to its length.
    let mut diffs: Vec<f64> = times
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            times[i + 1..]
                .iter()
                .map(move |b| b - a)
                .take_while(move |&d| d <= hi)
        })
        .filter(|&d| d >= lo)
        .collect();
    diffs.sort_by(f64::total_cmp);
    // For each difference, the sorted run of differences within `tol` of it (two
    // pointers: a clip with many events has thousands of pairs). The most supported, the
    // shortest on a tie.
    let (mut from, mut to) = (0, 0);
    let mut best: Option<(usize, usize, usize)> = None;
    for (i, &d) in diffs.iter().enumerate() {
        while diffs[from] < d - tol {
            from += 1;
        }
        to = to.max(i);
        while to + 1 < diffs.len() && diffs[to + 1] <= d + tol {
            to += 1;
        }
        let support = to + 1 - from;
        if best.is_none_or(|(s, _, _)| support > s) {
            best = Some((support, from, to));
        }
    }
    let (support, from, to) = best?;
    if support < MIN_PAIRS {
        return None;
    }
    Some(diffs[from..=to].iter().sum::<f64>() / support as f64)
}

/// The period (frames) of the band's repeating events in one clip: the period most
/// pairs lie apart, when at least [`MIN_PAIRED`] of the events have a partner one
/// period away.
fn own_period(times: &[f64], n: usize, spf: f64) -> Option<f64> {
    let tol = (MATCH_S / spf).max(1.0);
    let longest = (n as f64 / 3.0).min(MAX_PERIOD_S / spf);
    let p = period(times, MIN_PERIOD_S / spf, longest, tol)?;
    let near = |u: f64| {
        let from = times.partition_point(|&t| t < u - tol);
        times.get(from).is_some_and(|&t| t <= u + tol)
    };
    let paired = times
        .iter()
        .filter(|&&t| near(t - p) || near(t + p))
        .count();
    ((paired as f64) >= MIN_PAIRED * times.len() as f64).then_some(p)
}

/// The period of the band's events in normal clips, seconds: the median of the clips'
/// own periods (each band level per frame in `levels`, `spf` seconds per frame) when at
/// least [`NORMAL_SHARE`] of the clips repeat, and that share of those lie within
/// [`PERIOD_SPREAD`] of it; `None` otherwise.
pub(crate) fn normal_period(levels: &[Vec<f64>], spf: f64) -> Option<f64> {
    if levels.is_empty() || spf <= 0.0 {
        return None;
    }
    let periods: Vec<f64> = levels
        .iter()
        .filter(|x| x.len() >= 8 && x.iter().all(|v| v.is_finite()))
        .filter_map(|x| {
            let times: Vec<f64> = events(x).0.iter().map(|e| e.0).collect();
            (times.len() >= 4)
                .then(|| own_period(&times, x.len(), spf))
                .flatten()
        })
        .collect();
    if (periods.len() as f64) < NORMAL_SHARE * levels.len() as f64 {
        return None;
    }
    let p = median(&periods);
    let close = periods
        .iter()
        .filter(|&&q| (q - p).abs() <= PERIOD_SPREAD * p)
        .count();
    ((close as f64) >= NORMAL_SHARE * periods.len() as f64).then_some(p * spf)
}

/// The period (frames) near `normal` (frames) that most pairs of `times` lie a whole
/// number of periods apart (up to [`COMB_MULTIPLES`]), when at least [`MIN_PAIRS`] pairs
/// do and at least [`MIN_PAIRED`] of the events have such a partner.
fn comb_period(times: &[f64], normal: f64, tol: f64) -> Option<f64> {
    if times.len() < COMB_EVENTS || normal <= 2.0 * tol {
        return None;
    }
    let fits = |p: f64, d: f64| {
        let k = (d / p).round();
        (1.0..=COMB_MULTIPLES).contains(&k) && (d - k * p).abs() <= tol
    };
    let pairs = |p: f64| {
        let mut n = 0;
        let mut partnered = vec![false; times.len()];
        // `times` ascend: each event's pairs stop at the largest multiple, so a long
        // recording gives pairs in proportion to its length.
        let reach = (COMB_MULTIPLES + 0.5) * p;
        for i in 0..times.len() {
            for j in (i + 1..times.len()).take_while(|&j| times[j] - times[i] <= reach) {
                if fits(p, times[j] - times[i]) {
                    n += 1;
                    partnered[i] = true;
                    partnered[j] = true;
                }
            }
        }
        (n, partnered.iter().filter(|&&b| b).count())
    };
    // Candidates a tenth of the tolerance apart at the largest multiple.
    let step = (0.1 * tol / COMB_MULTIPLES).max(1e-3 * normal);
    let steps = (COMB_SPREAD * normal / step).ceil() as i64;
    let (score, p) = (-steps..=steps)
        .map(|k| normal + k as f64 * step)
        .map(|p| (pairs(p), p))
        // Most pairs; on a tie, the period nearest the normal one.
        .max_by(|a, b| {
            (a.0.0)
                .cmp(&b.0.0)
                .then((b.1 - normal).abs().total_cmp(&(a.1 - normal).abs()))
        })?;
    let (n, partnered) = score;
    (n >= MIN_PAIRS && partnered as f64 >= MIN_PAIRED * times.len() as f64).then_some(p)
}

/// The deepest break in the repeating events of the band whose level per frame is `x`
/// (dB), `spf` seconds per frame; `None` when the band does not repeat or nothing is
/// missing. With the period of the band's events in normal clips (`normal`, seconds), a
/// clip whose own events are too few to show a period is fitted to a comb near it.
pub(crate) fn find(x: &[f64], spf: f64, normal: Option<f64>) -> Option<CycleBreak> {
    let n = x.len();
    if n < 8 || spf <= 0.0 || x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (ev, floor) = events(x);
    let times: Vec<f64> = ev.iter().map(|e| e.0).collect();
    let tol = (MATCH_S / spf).max(1.0);
    let own = (ev.len() >= 4)
        .then(|| own_period(&times, n, spf))
        .flatten();
    let (p, comb) = match (own, normal) {
        (Some(p), _) => (p, false),
        (None, Some(normal)) => (comb_period(&times, normal / spf, tol)?, true),
        (None, None) => return None,
    };
    // The peak of the event near `u`, if one came (the events ascend in time).
    let at = |u: f64| {
        let from = times.partition_point(|&t| t < u - tol);
        ev[from..]
            .iter()
            .take_while(|e| e.0 <= u + tol)
            .map(|e| e.1)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    let mut best: Option<(f64, f64)> = None;
    for q in times.iter().flat_map(|&t| [t - p, t + p]) {
        if q < 1.0 || q > n as f64 - 2.0 || at(q).is_some() {
            continue;
        }
        // The pattern must hold on both sides, or twice on one side; the depth is read
        // against those events, so that a weaker kind of event (a valve's closing click
        // in a band its opening click fills) is judged against its own kind.
        // Two events one period either side of `q` must continue the cycle beyond (two
        // stray events two periods apart are not a pattern), unless they fit a comb at
        // the normal period, which is the pattern already; two on one side already do.
        let chained = comb || at(q - 2.0 * p).is_some() || at(q + 2.0 * p).is_some();
        let partners = [(-p, p), (-p, -2.0 * p), (p, 2.0 * p)]
            .into_iter()
            .filter(|&(u, v)| chained || u * v > 0.0)
            .find_map(|(u, v)| Some((at(q + u)?, at(q + v)?)));
        let Some((pa, pb)) = partners else {
            continue;
        };
        let peak = 0.5 * (pa + pb);
        if peak <= floor {
            continue;
        }
        let a = (q - 1.0).floor().max(0.0) as usize;
        let b = ((q + 1.0).ceil() as usize).min(n - 1);
        let level = x[a..=b].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let depth = ((peak - level) / (peak - floor)).clamp(0.0, 1.0);
        if best.is_none_or(|(d, _)| depth > d) {
            best = Some((depth, q));
        }
    }
    let (depth, q) = best?;
    (depth >= MIN_DEPTH).then_some(CycleBreak {
        period_s: p * spf,
        at_s: q * spf,
        depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A band at about -20 dB with a two-frame event every `period` frames from `first`,
    /// except the events numbered in `missing`, and a little deterministic ripple.
    fn band(n: usize, first: usize, period: usize, missing: &[usize]) -> Vec<f64> {
        let mut x: Vec<f64> = (0..n)
            .map(|i| -20.0 + ((i * 7919) % 13) as f64 * 0.2)
            .collect();
        let mut k = 0;
        let mut t = first;
        while t < n {
            if !missing.contains(&k) {
                x[t] = 0.0;
                if t + 1 < n {
                    x[t + 1] = -6.0;
                }
            }
            k += 1;
            t += period;
        }
        x
    }

    #[test]
    fn a_missing_event_is_found_where_it_was_due() {
        let spf = 0.032;
        let x = band(313, 10, 37, &[4]);
        let b = find(&x, spf, None).expect("a break");
        assert!((b.period_s - 37.0 * spf).abs() < 0.05, "{b:?}");
        let due = (10 + 4 * 37) as f64 * spf;
        assert!((b.at_s - due).abs() < 0.07, "{b:?} due at {due}");
        assert!(b.depth > 0.9, "{b:?}");
    }

    #[test]
    fn an_unbroken_pattern_has_no_break() {
        assert_eq!(find(&band(313, 10, 37, &[]), 0.032, None), None);
    }

    #[test]
    fn a_band_without_events_or_with_bad_values_has_no_break() {
        let flat: Vec<f64> = (0..313).map(|i| -20.0 + (i % 3) as f64 * 0.1).collect();
        assert_eq!(find(&flat, 0.032, None), None);
        let mut x = band(313, 10, 37, &[4]);
        x[5] = f64::NAN;
        assert_eq!(find(&x, 0.032, None), None);
        assert_eq!(find(&[], 0.032, None), None);
    }

    #[test]
    fn a_missing_event_is_found_in_an_hour_of_frames() {
        // About an hour of frames with an event every 37 and one missing: 3,000 events.
        let x = band(112_500, 10, 37, &[1_500]);
        let b = find(&x, 0.032, None).expect("a break");
        let due = (10 + 1_500 * 37) as f64 * 0.032;
        assert!((b.at_s - due).abs() < 0.07, "{b:?} due at {due}");
    }

    #[test]
    fn a_clip_that_lost_most_events_is_read_against_the_normal_period() {
        let spf = 0.032;
        // Events every 37 frames from frame 10; of the first nine only 0, 2, 4, 7 and 8
        // came: too few one period apart to show the period.
        let missing = [1, 3, 5, 6];
        let x = band(313, 10, 37, &missing);
        assert_eq!(find(&x, spf, None), None);
        // The normal clips' cycle, 2 % longer than this clip's.
        let normal = 37.0 * spf * 1.02;
        let b = find(&x, spf, Some(normal)).expect("a break");
        assert!((b.period_s - 37.0 * spf).abs() < 0.05, "{b:?}");
        let due: Vec<f64> = missing.iter().map(|k| (10 + k * 37) as f64 * spf).collect();
        assert!(
            due.iter().any(|d| (b.at_s - d).abs() < 0.07),
            "{b:?} due at {due:?}"
        );
        // A normal period far from the clip's fits no comb.
        assert_eq!(find(&x, spf, Some(0.45 * normal)), None);
    }

    #[test]
    fn the_normal_period_is_the_median_when_most_clips_repeat_alike() {
        let spf = 0.032;
        let clips: Vec<Vec<f64>> = [36, 37, 37, 38]
            .iter()
            .map(|&p| band(313, 5, p, &[]))
            .collect();
        let p = normal_period(&clips, spf).expect("a period");
        assert!((p - 37.0 * spf).abs() < 0.04, "{p}");
        // Most clips without events: no period.
        let flat: Vec<f64> = (0..313).map(|i| -20.0 + (i % 3) as f64 * 0.1).collect();
        let mostly_flat = vec![clips[0].clone(), flat.clone(), flat.clone(), flat];
        assert_eq!(normal_period(&mostly_flat, spf), None);
        // Clips that repeat with periods far apart: no one period.
        let spread: Vec<Vec<f64>> = [20, 30, 45, 60]
            .iter()
            .map(|&p| band(313, 5, p, &[]))
            .collect();
        assert_eq!(normal_period(&spread, spf), None);
        assert_eq!(normal_period(&[], spf), None);
    }

    #[test]
    fn events_too_few_to_repeat_have_no_break() {
        // Three events: a pattern needs four.
        assert_eq!(find(&band(120, 10, 37, &[]), 0.032, None), None);
    }
}
