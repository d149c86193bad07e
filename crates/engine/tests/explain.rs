//! Explanations name the injected fault: the band of a new tone, a click as a transient,
//! and when it happens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_core::{FeatureExtractor, Signal};
use aad_engine::explain::{Kind, Statistic};
use aad_engine::model::{FitOptions, Model};

const SR: u32 = 16_000;

/// 4 s of a machine: a 500 Hz hum with partials in noise; `seed` varies noise and level.
fn machine(seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12_345);
    let gain = 1.0 + 0.05 * ((seed % 7) as f32 - 3.0) / 3.0;
    (0..4 * SR)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let t = i as f32 / SR as f32;
            let hum = (t * 500.0 * std::f32::consts::TAU).sin()
                + 0.5 * (t * 1000.0 * std::f32::consts::TAU).sin();
            gain * (0.05 * hum + 0.05 * noise)
        })
        .collect()
}

/// `x` with three clicks, 2 ms broadband bursts at 2.0, 2.1 and 2.2 s (`seed` draws them).
fn with_clicks(mut x: Vec<f32>, seed: u32) -> Vec<f32> {
    let mut state = seed;
    for c in [2.0f32, 2.1, 2.2] {
        let at = (c * SR as f32) as usize;
        for v in &mut x[at..at + 32] {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v += ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 1.5;
        }
    }
    x
}

fn model() -> Model {
    let normal: Vec<Signal> = (0..24)
        .map(|s| Signal::new(machine(s), SR).unwrap())
        .collect();
    Model::fit_signals(&normal, &FitOptions::default()).unwrap()
}

#[test]
fn a_new_tone_is_explained_by_its_band_as_tonal_with_its_time_span() {
    let m = model();
    let mut x = machine(99);
    for (i, v) in x.iter_mut().enumerate() {
        let t = i as f32 / SR as f32;
        if (1.5..3.5).contains(&t) {
            *v += 0.02 * (t * 3_000.0 * std::f32::consts::TAU).sin();
        }
    }
    let s = Signal::new(x, SR).unwrap();
    assert!(m.decide(m.score_signal(&s).unwrap()), "the tone is flagged");
    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    let b = &e.bands[e.band];
    assert!(b.lo_hz <= 3_000.0 && 3_000.0 <= b.hi_hz, "{e:#?}");
    // Switched on for half the clip, the tone moves the band's fluctuation and its mean.
    assert_eq!(e.kind, Kind::Tonal, "{e:#?}");
    assert!(
        matches!(e.statistic, Statistic::Mean | Statistic::Std),
        "{e:#?}"
    );
    assert!(e.span_s.0 < 3.5 && e.span_s.1 > 1.5, "{e:#?}");
    assert!(b.mean_change > 0.0, "{e:#?}");
    assert!(
        e.sentence.starts_with("Tonal change in the "),
        "{}",
        e.sentence
    );
    let shares: f64 = e.bands.iter().map(|b| b.mean + b.std + b.max).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
}

#[test]
fn clicks_are_explained_as_transients_when_they_happen() {
    let m = model();
    // Three clicks: 2 ms broadband bursts near 2.0 s.
    let x = with_clicks(machine(98), 7);
    let s = Signal::new(x, SR).unwrap();
    assert!(
        m.decide(m.score_signal(&s).unwrap()),
        "the clicks are flagged"
    );
    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    assert_eq!(e.kind, Kind::Transient, "{e:#?}");
    assert!(e.span_s.0 <= 2.25 && e.span_s.1 >= 2.0, "{e:#?}");
}

#[test]
fn the_explanation_does_not_change_the_score() {
    let m = model();
    let s = Signal::new(machine(97), SR).unwrap();
    let before = m.score_signal(&s).unwrap();
    aad_engine::explain::explain_signal(&m, &s).unwrap();
    assert_eq!(m.score_signal(&s).unwrap(), before);
}

#[test]
fn an_autoencoder_is_explained_by_its_reconstruction_error_bit_for_bit_and_after_loading() {
    let normal: Vec<Signal> = (0..12)
        .map(|s| Signal::new(machine(s), SR).unwrap())
        .collect();
    let opts = FitOptions {
        detector: "ae".into(),
        epochs: Some(20),
        ..FitOptions::default()
    };
    let m = Model::fit_signals(&normal, &opts).unwrap();
    assert!(aad_engine::explain::supports(&m));
    assert_eq!(m.error_profile().len(), 128, "one normal error per Mel row");
    // A knock: 0.3 s of loud broadband noise from 2.0 s.
    let mut x = machine(96);
    let mut state = 11u32;
    for v in &mut x[2 * SR as usize..(2.3 * SR as f32) as usize] {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *v += ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 1.5;
    }
    let s = Signal::new(x, SR).unwrap();
    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    assert_eq!(e.score.to_bits(), m.score_signal(&s).unwrap().to_bits());
    assert_eq!(e.statistic, Statistic::Error);
    let shares: f64 = e.bands.iter().map(|b| b.error).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
    // An autoencoder this briefly trained (20 epochs of 3 batches) still outputs little,
    // so the loud knock errs *less* than the quiet normal frames: the explanation reports
    // what the detector computes, whatever that is. Where it lies is checked on synthetic
    // data with trained networks (examples/explain_truth.rs, docs/explanations.md).
    assert!(
        e.span_s.0 < e.span_s.1 && e.span_s.1 <= 4.0 + 1e-9,
        "{e:#?}"
    );
    assert_eq!(e.departure.len(), 126);
    assert!(
        e.sentence
            .ends_with("of the autoencoder's reconstruction error above normal"),
        "{}",
        e.sentence
    );
    // The profile survives saving, and the loaded model explains alike.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ae.aadm");
    m.save(&path).unwrap();
    let back = Model::load(&path).unwrap();
    assert_eq!(back.error_profile(), m.error_profile());
    assert_eq!(aad_engine::explain::explain_signal(&back, &s).unwrap(), e);
}

#[test]
fn a_frame_level_knn_is_explained_by_its_distances_to_the_nearest_normal_frames() {
    let normal: Vec<Signal> = (0..12)
        .map(|s| Signal::new(machine(s), SR).unwrap())
        .collect();
    let opts = FitOptions {
        detector: "knn_frames".into(),
        ..FitOptions::default()
    };
    let m = Model::fit_signals(&normal, &opts).unwrap();
    assert!(aad_engine::explain::supports(&m));
    // Three 2 ms broadband clicks near 2.0 s.
    let x = with_clicks(machine(95), 5);
    let s = Signal::new(x, SR).unwrap();
    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    assert_eq!(e.score.to_bits(), m.score_signal(&s).unwrap().to_bits());
    assert_eq!(e.statistic, Statistic::Error);
    let shares: f64 = e.bands.iter().map(|b| b.error).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
    assert!(e.span_s.0 < 2.3 && e.span_s.1 > 1.9, "{e:#?}");
    assert!(
        e.sentence
            .ends_with("of the distance to the nearest normal frames"),
        "{}",
        e.sentence
    );
}

/// 8 s of a valve: a 10 ms, 2 kHz click every 0.6 s (from a phase and with gains `seed`
/// draws) in faint noise; the clicks numbered in `missing` do not come. Returns the clip
/// and the times the missing clicks were due.
fn valve(seed: u32, missing: &[usize]) -> (Vec<f32>, Vec<f64>) {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(99);
    let mut next = move || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let mut x: Vec<f32> = (0..8 * SR).map(|_| 0.01 * next()).collect();
    let first = 0.1 + 0.5 * (next() + 0.5);
    let mut due = Vec::new();
    for k in 0..14 {
        let at = first + 0.6 * k as f32;
        let start = (at * SR as f32) as usize;
        let gain = 1.0 + 0.4 * next();
        if missing.contains(&k) {
            due.push(f64::from(at));
            continue;
        }
        if start + 160 > x.len() {
            continue;
        }
        for (i, v) in x[start..start + 160].iter_mut().enumerate() {
            let t = i as f32 / SR as f32;
            *v += gain * 0.5 * (-t / 0.003).exp() * (t * 2_000.0 * std::f32::consts::TAU).sin();
        }
    }
    (x, due)
}

#[test]
fn missing_valve_clicks_are_explained_as_a_broken_cycle_where_they_were_due() {
    let normal: Vec<Signal> = (0..24)
        .map(|s| Signal::new(valve(s, &[]).0, SR).unwrap())
        .collect();
    let m = Model::fit_signals(&normal, &FitOptions::default()).unwrap();
    let whole = Signal::new(valve(50, &[]).0, SR).unwrap();
    let e = aad_engine::explain::explain_signal(&m, &whole).unwrap();
    assert_eq!(e.cycle, None, "a whole cycle has no break: {e:#?}");

    let (x, due) = valve(51, &[4, 8, 9]);
    let s = Signal::new(x, SR).unwrap();
    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    let b = &e.bands[e.band];
    assert!(b.lo_hz <= 2_000.0 && 2_000.0 <= b.hi_hz, "{e:#?}");
    let c = e.cycle.expect("a break in the clicks' cycle");
    assert!((c.period_s - 0.6).abs() < 0.04, "{c:?}");
    assert_eq!(e.kind, Kind::Transient, "{e:#?}");
    // The span is one frame (32 ms) where a missing click was due.
    assert!(
        due.iter()
            .any(|&t| e.span_s.0 - 0.032 <= t && t <= e.span_s.1 + 0.032),
        "due at {due:?}: {e:#?}"
    );
    assert!(e.sentence.contains("did not come"), "{}", e.sentence);

    // The model recorded the clicks' period in their band, and keeps it on disk.
    let period = m.event_periods()[e.band].expect("the normal clips' period");
    assert!((period - 0.6).abs() < 0.04, "{:?}", m.event_periods());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("valve.aadm");
    m.save(&path).unwrap();
    assert_eq!(
        Model::load(&path).unwrap().event_periods(),
        m.event_periods()
    );

    // Of 14 clicks only 0, 2, 7, 8 and 13 came: no three pairs lie one period apart, so
    // only the normal clips' period places the missing ones.
    let (x, due) = valve(52, &[1, 3, 4, 5, 6, 9, 10, 11, 12]);
    let s = Signal::new(x, SR).unwrap();
    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    let c = e.cycle.expect("a break against the normal period");
    assert!((c.period_s - 0.6).abs() < 0.04, "{c:?}");
    assert!(
        due.iter()
            .any(|&t| e.span_s.0 - 0.032 <= t && t <= e.span_s.1 + 0.032),
        "due at {due:?}: {e:#?}"
    );
}

#[test]
fn clicks_a_fault_adds_are_the_explanation_not_the_one_after_they_stop() {
    let m = model();
    // A click every 0.5 s from 0.5 s to 2.5 s, then none: the clicks are the fault, and
    // the one "due" at 3.0 s is not a missing event of this machine.
    let mut x = machine(96);
    let mut state = 3u32;
    for k in 0..5 {
        let at = ((0.5 + 0.5 * k as f32) * SR as f32) as usize;
        for v in &mut x[at..at + 32] {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v += ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 1.5;
        }
    }
    let s = Signal::new(x, SR).unwrap();
    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    assert_eq!(e.cycle, None, "{e:#?}");
    assert_eq!(e.kind, Kind::Transient, "{e:#?}");
    assert!(e.span_s.0 < 2.6 && e.span_s.1 > 0.5, "{e:#?}");
}

#[test]
fn a_fast_click_train_reads_as_a_level_in_the_features_and_as_transients_in_the_waveform() {
    let m = model();
    // A 1 ms, 3 kHz click 27 times a second throughout: every 32 ms frame holds one, so
    // the band's level per frame is steady.
    let mut x = machine(95);
    let mut t = 0.01f32;
    while t < 3.99 {
        let at = (t * SR as f32) as usize;
        for (i, v) in x[at..at + 160].iter_mut().enumerate() {
            let s = i as f32 / SR as f32;
            *v += 0.3 * (-s / 0.001).exp() * (s * 3_000.0 * std::f32::consts::TAU).sin();
        }
        t += 1.0 / 27.0;
    }
    let s = Signal::new(x, SR).unwrap();
    assert!(
        m.decide(m.score_signal(&s).unwrap()),
        "the clicks are flagged"
    );
    let features = m.extractor().unwrap().extract(&s).unwrap();
    let plain = aad_engine::explain::explain(&m, features.view()).unwrap();
    assert_ne!(plain.kind, Kind::Transient, "{plain:#?}");
    assert_eq!(plain.pulses, None);

    let e = aad_engine::explain::explain_signal(&m, &s).unwrap();
    let b = &e.bands[e.band];
    assert!(b.lo_hz <= 3_000.0 && 3_000.0 <= b.hi_hz, "{e:#?}");
    assert_eq!(e.kind, Kind::Transient, "{e:#?}");
    let p = e.pulses.expect("a pulse train");
    assert!((p.rate_hz - 27.0).abs() < 0.3, "{p:?}");
    let rate = format!("{:.1} a second", p.rate_hz);
    assert!(e.sentence.contains(&rate), "{}", e.sentence);
    // Only the kind and the sentence change: the same score, band and span.
    assert_eq!(e.score.to_bits(), plain.score.to_bits());
    assert_eq!(
        (e.band, e.statistic, e.span_s),
        (plain.band, plain.statistic, plain.span_s)
    );
}
