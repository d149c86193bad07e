//! Machine sound models and the anomalies injected into them.
//!
//! Each model draws its per-machine-id parameters once (`new`), then renders clips with
//! per-clip variation (operating point, speed drift, level, timing jitter). An anomaly is
//! rendered as a separate component so its level can be set relative to the machine.

use biquad::Type;
use rand::Rng;

use super::dsp::*;
use super::{AnomalyKind, AnomalyTruth, MachineKind};

pub(crate) struct Ctx {
    pub fs: f32,
    pub n: usize,
}

impl Ctx {
    fn t(&self, i: usize) -> f32 {
        i as f32 / self.fs
    }
}

/// A rendered clip before mixing: the machine itself, and the anomaly component (empty
/// for normal clips, or for anomalies that change the machine's own pattern).
pub(crate) struct Rendered {
    pub machine: Vec<f32>,
    pub anomaly: Vec<f32>,
    /// Where the anomaly lies, for scoring explanations (empty for normal clips).
    pub truth: AnomalyTruth,
}

/// Mean of a speed profile: a shaft-locked tone's average frequency is its nominal one
/// times this.
fn mean(speed: &[f32]) -> f64 {
    speed.iter().map(|&v| f64::from(v)).sum::<f64>() / speed.len().max(1) as f64
}

/// The -3 dB band of a band-pass at `fc` with quality `q`.
fn band_of(fc: f32, q: f32) -> Option<(f64, f64)> {
    let half = f64::from(fc) / (2.0 * f64::from(q));
    Some(((f64::from(fc) - half).max(0.0), f64::from(fc) + half))
}

pub(crate) enum Model {
    Fan(Fan),
    Valve(Valve),
    Pump(Pump),
    Slider(Slider),
}

impl Model {
    pub(crate) fn new(kind: MachineKind, rng: &mut Rng8) -> Model {
        match kind {
            MachineKind::Fan => Model::Fan(Fan::new(rng)),
            MachineKind::Valve => Model::Valve(Valve::new(rng)),
            MachineKind::Pump => Model::Pump(Pump::new(rng)),
            MachineKind::Slider => Model::Slider(Slider::new(rng)),
        }
    }

    /// Renders one clip; `severity` in [0, 1] scales pattern anomalies.
    pub(crate) fn render(
        &self,
        rng: &mut Rng8,
        ctx: &Ctx,
        anomaly: Option<(AnomalyKind, f32)>,
    ) -> Rendered {
        match self {
            Model::Fan(m) => m.render(rng, ctx, anomaly),
            Model::Valve(m) => m.render(rng, ctx, anomaly),
            Model::Pump(m) => m.render(rng, ctx, anomaly),
            Model::Slider(m) => m.render(rng, ctx, anomaly),
        }
    }
}

// ---------------------------------------------------------------- shared anomaly parts

/// A new tonal component locked to the shaft speed at a non-integer order (a bearing or
/// gear-mesh tone) with shaft-rate sidebands and a second harmonic: "humming".
/// Adds transients at Poisson times (`rate` per second) to `out`: each with random
/// modes `(count, f_lo, f_hi, tau_lo, tau_hi)` and a gain in [0.3, 1).
fn poisson_transients(
    rng: &mut Rng8,
    ctx: &Ctx,
    out: &mut [f32],
    rate: f64,
    (count, f_lo, f_hi, tau_lo, tau_hi): (usize, f64, f64, f64, f64),
    mut times: Option<&mut Vec<f64>>,
) {
    let mut t = 0.0f64;
    loop {
        t += -(1.0 - rng.random::<f64>()).ln() / rate;
        if t >= ctx.n as f64 / f64::from(ctx.fs) {
            break;
        }
        let modes = random_modes(rng, count, f_lo, f_hi, tau_lo, tau_hi);
        if let Some(times) = times.as_deref_mut() {
            times.push(t);
        }
        add_transient(
            out,
            ctx.fs,
            (t * f64::from(ctx.fs)) as isize,
            &modes,
            uniform(rng, 0.3, 1.0) as f32,
        );
    }
}

fn bearing_hum(
    rng: &mut Rng8,
    ctx: &Ctx,
    speed: &[f32],
    shaft_hz: f32,
    truth: &mut AnomalyTruth,
) -> Vec<f32> {
    let mut out = vec![0.0; ctx.n];
    let f = uniform(rng, 180.0, 2200.0) as f32;
    let m = mean(speed);
    truth.freq_hz = [f, 2.0 * f, f + shaft_hz, f - shaft_hz]
        .iter()
        .map(|&x| f64::from(x) * m)
        .collect();
    let ph = uniform(rng, 0.0, std::f64::consts::TAU) as f32;
    add_tone(&mut out, ctx.fs, f, speed, 1.0, ph);
    add_tone(&mut out, ctx.fs, 2.0 * f, speed, 0.4, ph);
    add_tone(&mut out, ctx.fs, f + shaft_hz, speed, 0.3, 1.0);
    add_tone(&mut out, ctx.fs, f - shaft_hz, speed, 0.3, 2.0);
    out
}

/// Imbalance: a strong shaft-rate component and amplitude modulation of `carrier`.
fn imbalance(
    ctx: &Ctx,
    speed: &[f32],
    shaft_hz: f32,
    carrier: &[f32],
    truth: &mut AnomalyTruth,
) -> Vec<f32> {
    let mut out = vec![0.0; ctx.n];
    truth.variant = Some(AnomalyKind::Imbalance);
    let m = mean(speed);
    truth.freq_hz = vec![f64::from(shaft_hz) * m, f64::from(2.0 * shaft_hz) * m];
    add_tone(&mut out, ctx.fs, shaft_hz, speed, 1.0, 0.0);
    add_tone(&mut out, ctx.fs, 2.0 * shaft_hz, speed, 0.5, 0.3);
    let mut ph = 0.0f32;
    for (i, o) in out.iter_mut().enumerate() {
        ph += std::f32::consts::TAU * shaft_hz * speed[i] / ctx.fs;
        *o += 0.6 * carrier[i] * ph.sin();
    }
    out
}

/// Short high-frequency ticks once per revolution (every `every` revolutions), with
/// timing jitter and amplitude scatter: "clicking".
fn rev_ticks(
    rng: &mut Rng8,
    ctx: &Ctx,
    speed: &[f32],
    (shaft_hz, every): (f32, u32),
    truth: &mut AnomalyTruth,
) -> Vec<f32> {
    let mut out = vec![0.0; ctx.n];
    let modes = random_modes(rng, 3, 1800.0, 6500.0, 0.0004, 0.0018);
    let mut ph = uniform(rng, 0.0, 1.0) as f32;
    let mut count = 0;
    for (i, &sp) in speed.iter().enumerate().take(ctx.n) {
        ph += shaft_hz * sp / ctx.fs;
        if ph >= 1.0 {
            ph -= 1.0;
            count += 1;
            if count % every == 0 {
                let jitter = (gauss(rng) * 0.0004 * ctx.fs) as isize;
                truth
                    .times_s
                    .push((i as isize + jitter).max(0) as f64 / f64::from(ctx.fs));
                let g = uniform(rng, 0.6, 1.3) as f32;
                add_transient(&mut out, ctx.fs, i as isize + jitter, &modes, g);
            }
        }
    }
    out
}

/// Band-limited friction noise gated once per revolution, active in random stretches:
/// "rubbing".
fn rubbing(
    rng: &mut Rng8,
    ctx: &Ctx,
    speed: &[f32],
    rate_hz: f32,
    truth: &mut AnomalyTruth,
) -> Vec<f32> {
    let fc = uniform(rng, 900.0, 4000.0) as f32;
    truth.band_hz = band_of(fc, 1.5);
    let mut out = bandpassed(white(rng, ctx.n), ctx.fs, fc, 1.5);
    let duty = uniform(rng, 0.15, 0.45) as f32;
    let seg_on = uniform(rng, 0.4, 1.0) as f32;
    let seg_period = uniform(rng, 1.0, 3.0) as f32;
    let seg_phase = uniform(rng, 0.0, 1.0) as f32;
    let mut ph = 0.0f32;
    for (i, o) in out.iter_mut().enumerate() {
        ph = (ph + rate_hz * speed[i] / ctx.fs).fract();
        let g = if ph < duty {
            (std::f32::consts::PI * ph / duty).sin()
        } else {
            0.0
        };
        let seg = ((ctx.t(i) / seg_period + seg_phase).fract() < seg_on) as u8 as f32;
        *o *= g * seg;
    }
    out
}

/// Continuous high-frequency hiss with a slow flutter: "leak".
fn leak_hiss(rng: &mut Rng8, ctx: &Ctx, truth: &mut AnomalyTruth) -> Vec<f32> {
    let fc = uniform(rng, 3000.0, 6800.0) as f32;
    // The noise is drawn before the quality, as before the truth was recorded.
    let noise = white(rng, ctx.n);
    let q = uniform(rng, 0.8, 2.5) as f32;
    truth.band_hz = band_of(fc, q);
    let mut out = bandpassed(noise, ctx.fs, fc, q);
    let rate = uniform(rng, 0.2, 1.5) as f32;
    for (i, o) in out.iter_mut().enumerate() {
        *o *= 1.0 + 0.25 * (std::f32::consts::TAU * rate * ctx.t(i)).sin();
    }
    out
}

fn pick_tone_amps(rng: &mut Rng8, n: usize, slope_db: f64) -> Vec<f32> {
    (0..n)
        .map(|k| db(-slope_db * k as f64 + uniform(rng, -4.0, 4.0)))
        .collect()
}

// ---------------------------------------------------------------- fan

pub(crate) struct Fan {
    shaft_hz: f32,
    blades: u32,
    harm: Vec<f32>,
    air_fc: f32,
    air_q: f32,
    hiss_db: f32,
    tone_db: f32,
}

impl Fan {
    fn new(rng: &mut Rng8) -> Fan {
        Fan {
            shaft_hz: uniform(rng, 16.0, 32.0) as f32,
            blades: [5, 6, 7, 9, 11][rng.random_range(0..5)],
            harm: pick_tone_amps(rng, 8, 3.0),
            air_fc: uniform(rng, 300.0, 1400.0) as f32,
            air_q: uniform(rng, 0.4, 1.0) as f32,
            hiss_db: uniform(rng, -16.0, -8.0) as f32,
            tone_db: uniform(rng, -10.0, -2.0) as f32,
        }
    }

    fn render(&self, rng: &mut Rng8, ctx: &Ctx, anomaly: Option<(AnomalyKind, f32)>) -> Rendered {
        let offset = uniform(rng, -0.015, 0.015);
        let speed = speed_profile(rng, ctx.n, ctx.fs, offset, 0.004);
        let mut air = bandpassed(
            pink(rng, ctx.n),
            ctx.fs,
            self.air_fc * (1.0 + offset as f32),
            self.air_q,
        );
        normalize_rms(&mut air, 1.0);
        let mut hiss = white(rng, ctx.n);
        filter(&mut hiss, Type::HighPass, ctx.fs, 2500.0, 0.7);
        normalize_rms(&mut hiss, db(f64::from(self.hiss_db)));
        add_scaled(&mut air, &hiss, 1.0);
        // Blade passage modulates the airflow slightly.
        let mut ph = 0.0f32;
        for (i, a) in air.iter_mut().enumerate() {
            ph += std::f32::consts::TAU * self.shaft_hz * speed[i] / ctx.fs;
            *a *= 1.0 + 0.04 * ph.sin();
        }
        let mut tones = vec![0.0; ctx.n];
        let bpf = self.shaft_hz * self.blades as f32;
        for (k, &a) in self.harm.iter().enumerate() {
            let ph0 = uniform(rng, 0.0, std::f64::consts::TAU) as f32;
            add_tone(&mut tones, ctx.fs, bpf * (k + 1) as f32, &speed, a, ph0);
        }
        add_tone(&mut tones, ctx.fs, self.shaft_hz, &speed, 0.05, 0.0);
        normalize_rms(&mut tones, db(f64::from(self.tone_db)));
        add_scaled(&mut air, &tones, 1.0);
        let mut truth = AnomalyTruth::default();
        let t = &mut truth;
        let anomaly = match anomaly {
            None => Vec::new(),
            Some((AnomalyKind::Humming | AnomalyKind::Imbalance, _)) => {
                if rng.random_bool(0.5) {
                    bearing_hum(rng, ctx, &speed, self.shaft_hz, t)
                } else {
                    imbalance(ctx, &speed, self.shaft_hz, &air, t)
                }
            }
            Some((AnomalyKind::Clicking, _)) => {
                let every = rng.random_range(1..3);
                rev_ticks(rng, ctx, &speed, (self.shaft_hz, every), t)
            }
            Some((AnomalyKind::Rubbing, _)) => rubbing(rng, ctx, &speed, self.shaft_hz, t),
            Some((AnomalyKind::Leak, _)) => leak_hiss(rng, ctx, t),
        };
        Rendered {
            machine: air,
            anomaly,
            truth,
        }
    }
}

// ---------------------------------------------------------------- valve

pub(crate) struct Valve {
    period: f32,
    open_frac: f32,
    open_modes: Vec<Mode>,
    close_modes: Vec<Mode>,
    flow_fc: f32,
    flow_db: f32,
}

impl Valve {
    fn new(rng: &mut Rng8) -> Valve {
        Valve {
            period: uniform(rng, 0.5, 1.6) as f32,
            open_frac: uniform(rng, 0.25, 0.6) as f32,
            open_modes: random_modes(rng, 4, 700.0, 5500.0, 0.002, 0.012),
            close_modes: random_modes(rng, 4, 500.0, 4500.0, 0.003, 0.015),
            flow_fc: uniform(rng, 1200.0, 3500.0) as f32,
            flow_db: uniform(rng, -28.0, -18.0) as f32,
        }
    }

    fn render(&self, rng: &mut Rng8, ctx: &Ctx, anomaly: Option<(AnomalyKind, f32)>) -> Rendered {
        let fs = ctx.fs;
        let period = self.period * (1.0 + uniform(rng, -0.02, 0.02) as f32);
        // Pattern anomalies change the machine's own events.
        let (jitter, p_missing, p_bounce, bounce_gain) = match anomaly {
            Some((AnomalyKind::Clicking, s)) => (
                0.004 + 0.025 * s,
                0.05 + 0.25 * s,
                0.1 + 0.4 * s,
                0.2 + 0.5 * s,
            ),
            _ => (0.003, 0.0, 0.0, 0.0),
        };
        let mut truth = AnomalyTruth::default();
        let (mut clicks, open_spans) = self.events(
            rng,
            ctx,
            period,
            (jitter, p_missing, p_bounce, bounce_gain),
            &mut truth.times_s,
        );
        normalize_rms(&mut clicks, 1.0);
        let mut flow = bandpassed(white(rng, ctx.n), fs, self.flow_fc, 1.2);
        let open_gate: Vec<f32> = (0..ctx.n)
            .map(|i| {
                let t = ctx.t(i);
                open_spans
                    .iter()
                    .map(|&(a, b)| gate(t, a, b, 0.005))
                    .fold(0.0, f32::max)
            })
            .collect();
        normalize_rms(&mut flow, db(f64::from(self.flow_db)));
        for (f, g) in flow.iter_mut().zip(&open_gate) {
            *f *= g;
        }
        add_scaled(&mut clicks, &flow, 1.0);
        let anomaly = valve_anomaly(rng, ctx, anomaly, &open_gate, &mut truth);
        Rendered {
            machine: clicks,
            anomaly,
            truth,
        }
    }
}

impl Valve {
    /// The opening and closing clicks of one clip (with a bounce or a miss as a
    /// clicking fault makes them: `(jitter, p_missing, p_bounce, bounce_gain)`), and
    /// the spans the valve stood open. `faults` gets the times of the missed and bounced
    /// clicks.
    fn events(
        &self,
        rng: &mut Rng8,
        ctx: &Ctx,
        period: f32,
        (jitter, p_missing, p_bounce, bounce_gain): (f32, f32, f32, f32),
        faults: &mut Vec<f64>,
    ) -> (Vec<f32>, Vec<(f32, f32)>) {
        let (fs, dur) = (ctx.fs, ctx.n as f32 / ctx.fs);
        let mut clicks = vec![0.0; ctx.n];
        let mut open_spans = Vec::new();
        let mut t = uniform(rng, 0.0, f64::from(period)) as f32 - period;
        while t < dur {
            let open = t + gauss(rng) * jitter;
            let close = open + self.open_frac * period + gauss(rng) * jitter;
            for (at, modes) in [(open, &self.open_modes), (close, &self.close_modes)] {
                if rng.random_bool(f64::from(p_missing)) {
                    if (0.0..dur).contains(&at) {
                        faults.push(f64::from(at));
                    }
                    continue;
                }
                let g = db(uniform(rng, -2.0, 2.0));
                add_transient(&mut clicks, fs, (at * fs) as isize, modes, g);
                if rng.random_bool(f64::from(p_bounce)) {
                    let dt = uniform(rng, 0.008, 0.03) as f32;
                    if (0.0..dur).contains(&(at + dt)) {
                        faults.push(f64::from(at + dt));
                    }
                    add_transient(
                        &mut clicks,
                        fs,
                        ((at + dt) * fs) as isize,
                        modes,
                        g * bounce_gain,
                    );
                }
            }
            open_spans.push((open, close));
            t += period;
        }
        (clicks, open_spans)
    }
}

/// A valve's non-pattern anomaly sound, shaped by when it stands open.
fn valve_anomaly(
    rng: &mut Rng8,
    ctx: &Ctx,
    anomaly: Option<(AnomalyKind, f32)>,
    open_gate: &[f32],
    truth: &mut AnomalyTruth,
) -> Vec<f32> {
    let fs = ctx.fs;
    match anomaly {
        None | Some((AnomalyKind::Clicking, _)) => Vec::new(),
        Some((AnomalyKind::Leak, _)) => {
            // Hiss while the valve should be closed.
            let mut h = leak_hiss(rng, ctx, truth);
            for (v, g) in h.iter_mut().zip(open_gate) {
                *v *= 1.0 - 0.8 * g;
            }
            h
        }
        Some((AnomalyKind::Humming | AnomalyKind::Rubbing | AnomalyKind::Imbalance, _)) => {
            // Coil buzz at twice the mains frequency while energised.
            let mains = if rng.random_bool(0.5) { 50.0 } else { 60.0 };
            truth.freq_hz = [2.0, 4.0, 6.0, 8.0, 10.0]
                .map(|k: f64| f64::from(mains) * k)
                .to_vec();
            let ones = vec![1.0; ctx.n];
            let mut h = vec![0.0; ctx.n];
            for k in [2.0f32, 4.0, 6.0, 8.0, 10.0] {
                add_tone(&mut h, fs, mains * k, &ones, 1.0 / k.sqrt(), k);
            }
            for (v, g) in h.iter_mut().zip(open_gate) {
                *v *= 0.1 + 0.9 * g;
            }
            h
        }
    }
}

// ---------------------------------------------------------------- pump

pub(crate) struct Pump {
    shaft_hz: f32,
    vanes: u32,
    harm: Vec<f32>,
    flow_fc: f32,
    turb_rate: f32,
    turb_depth: f32,
    tone_db: f32,
}

impl Pump {
    fn new(rng: &mut Rng8) -> Pump {
        Pump {
            shaft_hz: uniform(rng, 24.0, 49.0) as f32,
            vanes: [5, 6, 7][rng.random_range(0..3)],
            harm: pick_tone_amps(rng, 6, 4.0),
            flow_fc: uniform(rng, 700.0, 2500.0) as f32,
            turb_rate: uniform(rng, 0.3, 2.0) as f32,
            turb_depth: uniform(rng, 0.1, 0.35) as f32,
            tone_db: uniform(rng, -8.0, 0.0) as f32,
        }
    }

    fn render(&self, rng: &mut Rng8, ctx: &Ctx, anomaly: Option<(AnomalyKind, f32)>) -> Rendered {
        let offset = uniform(rng, -0.01, 0.01);
        let speed = speed_profile(rng, ctx.n, ctx.fs, offset, 0.002);
        let mut flow = pink(rng, ctx.n);
        filter(&mut flow, Type::LowPass, ctx.fs, self.flow_fc, 0.7);
        normalize_rms(&mut flow, 1.0);
        let ph0 = uniform(rng, 0.0, std::f64::consts::TAU) as f32;
        for (i, f) in flow.iter_mut().enumerate() {
            *f *= 1.0
                + self.turb_depth * (std::f32::consts::TAU * self.turb_rate * ctx.t(i) + ph0).sin();
        }
        let mut tones = vec![0.0; ctx.n];
        let vpf = self.shaft_hz * self.vanes as f32;
        for (k, &a) in self.harm.iter().enumerate() {
            add_tone(
                &mut tones,
                ctx.fs,
                vpf * (k + 1) as f32,
                &speed,
                a,
                k as f32,
            );
            add_tone(
                &mut tones,
                ctx.fs,
                self.shaft_hz * (k + 1) as f32,
                &speed,
                0.3 * a,
                0.5 * k as f32,
            );
        }
        add_tone(&mut tones, ctx.fs, 100.0, &vec![1.0; ctx.n], 0.2, 0.0);
        normalize_rms(&mut tones, db(f64::from(self.tone_db)));
        add_scaled(&mut flow, &tones, 1.0);
        let mut truth = AnomalyTruth::default();
        let t = &mut truth;
        let anomaly = match anomaly {
            None => Vec::new(),
            Some((AnomalyKind::Humming | AnomalyKind::Imbalance, _)) => {
                bearing_hum(rng, ctx, &speed, self.shaft_hz, t)
            }
            Some((AnomalyKind::Clicking, _)) => {
                // Cavitation crackle: random sharp bursts.
                let mut out = vec![0.0; ctx.n];
                let rate = uniform(rng, 15.0, 70.0);
                let modes = (2, 2000.0, 7000.0, 0.0002, 0.001);
                poisson_transients(rng, ctx, &mut out, rate, modes, Some(&mut t.times_s));
                out
            }
            Some((AnomalyKind::Leak, _)) => leak_hiss(rng, ctx, t),
            Some((AnomalyKind::Rubbing, _)) => rubbing(rng, ctx, &speed, self.shaft_hz, t),
        };
        Rendered {
            machine: flow,
            anomaly,
            truth,
        }
    }
}

// ---------------------------------------------------------------- slider

pub(crate) struct Slider {
    stroke_s: f32,
    friction_fc: f32,
    clunk: Vec<Mode>,
    tick_modes: Vec<Mode>,
    tick_rate: f32,
}

impl Slider {
    fn new(rng: &mut Rng8) -> Slider {
        Slider {
            stroke_s: uniform(rng, 1.2, 3.0) as f32,
            friction_fc: uniform(rng, 700.0, 2500.0) as f32,
            clunk: random_modes(rng, 3, 120.0, 450.0, 0.02, 0.06),
            tick_modes: random_modes(rng, 2, 2500.0, 6000.0, 0.0003, 0.001),
            tick_rate: uniform(rng, 40.0, 120.0) as f32,
        }
    }

    fn render(&self, rng: &mut Rng8, ctx: &Ctx, anomaly: Option<(AnomalyKind, f32)>) -> Rendered {
        let fs = ctx.fs;
        let stroke = self.stroke_s * (1.0 + uniform(rng, -0.02, 0.02) as f32);
        let phase0 = uniform(rng, 0.0, 1.0) as f32;
        // Sinusoidal motion: |velocity| peaks mid-stroke, ends stop with a clunk.
        let vel: Vec<f32> = (0..ctx.n)
            .map(|i| {
                (std::f32::consts::PI * (ctx.t(i) / stroke + phase0))
                    .sin()
                    .abs()
            })
            .collect();
        let mut fric = bandpassed(white(rng, ctx.n), fs, self.friction_fc, 0.9);
        for (f, v) in fric.iter_mut().zip(&vel) {
            *f *= v.powf(1.5);
        }
        normalize_rms(&mut fric, 1.0);
        let (mut ticks, mut clunks) = self.events(rng, ctx, &vel);
        normalize_rms(&mut ticks, 0.3);
        normalize_rms(&mut clunks, 0.7);
        add_scaled(&mut fric, &ticks, 1.0);
        add_scaled(&mut fric, &clunks, 1.0);
        let mut truth = AnomalyTruth::default();
        let anomaly = self.anomaly(rng, ctx, anomaly, &vel, (stroke, phase0), &mut truth);
        Rendered {
            machine: fric,
            anomaly,
            truth,
        }
    }
}

impl Slider {
    /// The rail's ticks (at a rate following the speed) and the end-stop clunks.
    fn events(&self, rng: &mut Rng8, ctx: &Ctx, vel: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let fs = ctx.fs;
        let mut ticks = vec![0.0; ctx.n];
        let mut clunks = vec![0.0; ctx.n];
        let mut acc = 0.0f32;
        for i in 0..ctx.n {
            acc += self.tick_rate * vel[i] / fs;
            if acc >= 1.0 {
                acc -= 1.0;
                add_transient(
                    &mut ticks,
                    fs,
                    i as isize,
                    &self.tick_modes,
                    uniform(rng, 0.5, 1.0) as f32,
                );
            }
            if i > 0 && vel[i] < 0.002 && vel[i - 1] >= 0.002 {
                add_transient(
                    &mut clunks,
                    fs,
                    i as isize,
                    &self.clunk,
                    db(uniform(rng, -2.0, 2.0)),
                );
            }
        }
        (ticks, clunks)
    }

    /// The anomaly sound of one clip, placed by the motion (`vel`, and the stroke's
    /// period and starting phase).
    fn anomaly(
        &self,
        rng: &mut Rng8,
        ctx: &Ctx,
        anomaly: Option<(AnomalyKind, f32)>,
        vel: &[f32],
        (stroke, phase0): (f32, f32),
        truth: &mut AnomalyTruth,
    ) -> Vec<f32> {
        let fs = ctx.fs;
        match anomaly {
            None => Vec::new(),
            Some((AnomalyKind::Clicking, _)) | Some((AnomalyKind::Leak, _)) => {
                // A rail defect: a sharp click at one position of every stroke.
                let pos = uniform(rng, 0.15, 0.85) as f32;
                let modes = random_modes(rng, 3, 1500.0, 5000.0, 0.0005, 0.002);
                let mut out = vec![0.0; ctx.n];
                let mut k = 0;
                loop {
                    let t = (k as f32 + pos - phase0) * stroke;
                    k += 1;
                    if t < 0.0 {
                        continue;
                    }
                    if t >= ctx.n as f32 / fs {
                        break;
                    }
                    truth.times_s.push(f64::from(t));
                    add_transient(
                        &mut out,
                        fs,
                        (t * fs) as isize,
                        &modes,
                        uniform(rng, 0.7, 1.0) as f32,
                    );
                }
                out
            }
            Some((AnomalyKind::Rubbing, _)) => {
                let mut r = rubbing(rng, ctx, vel, 1.0 / stroke, truth);
                for (v, s) in r.iter_mut().zip(vel) {
                    *v *= s;
                }
                r
            }
            Some((AnomalyKind::Humming | AnomalyKind::Imbalance, _)) => {
                // Servo whine following the velocity: it sweeps up to `f` mid-stroke.
                let f = uniform(rng, 300.0, 1500.0) as f32;
                truth.freq_hz = vec![f64::from(f)];
                let mut h = vec![0.0; ctx.n];
                add_tone(&mut h, fs, f, vel, 1.0, 0.0);
                for (v, s) in h.iter_mut().zip(vel) {
                    *v *= 0.2 + s;
                }
                h
            }
        }
    }
}

// ---------------------------------------------------------------- background

/// Factory background: pink noise, a distant machine's harmonic drone with slow beating,
/// occasional distant impacts, and low ventilation rumble. Unit RMS.
pub(crate) fn factory_noise(rng: &mut Rng8, ctx: &Ctx) -> Vec<f32> {
    let mut out = pink(rng, ctx.n);
    let ones = vec![1.0; ctx.n];
    let mut drone = vec![0.0; ctx.n];
    let f0 = uniform(rng, 38.0, 75.0) as f32;
    for k in 1..=10 {
        add_tone(
            &mut drone,
            ctx.fs,
            f0 * k as f32,
            &ones,
            db(uniform(rng, -18.0, 0.0)) / k as f32,
            k as f32,
        );
    }
    let beat = uniform(rng, 0.1, 0.6) as f32;
    for (i, d) in drone.iter_mut().enumerate() {
        *d *= 1.0 + 0.3 * (std::f32::consts::TAU * beat * ctx.t(i)).sin();
    }
    normalize_rms(&mut drone, db(uniform(rng, -12.0, -3.0)));
    add_scaled(&mut out, &drone, 1.0);
    let mut impacts = vec![0.0; ctx.n];
    let rate = uniform(rng, 0.2, 1.5);
    let modes = (3, 150.0, 1500.0, 0.01, 0.08);
    poisson_transients(rng, ctx, &mut impacts, rate, modes, None);
    if rms(&impacts) > 0.0 {
        normalize_rms(&mut impacts, db(uniform(rng, -14.0, -6.0)));
        add_scaled(&mut out, &impacts, 1.0);
    }
    let mut rumble = white(rng, ctx.n);
    filter(
        &mut rumble,
        Type::LowPass,
        ctx.fs,
        uniform(rng, 120.0, 400.0) as f32,
        0.7,
    );
    normalize_rms(&mut rumble, db(uniform(rng, -10.0, -4.0)));
    add_scaled(&mut out, &rumble, 1.0);
    normalize_rms(&mut out, 1.0);
    out
}
