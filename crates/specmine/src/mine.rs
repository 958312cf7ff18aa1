//! `specmine scene` (wideband SigMF recordings with ground truth) and `specmine mine`
//! (detect, channelize, classify and annotate every signal of a recording).

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use specmine_data::sigmf::{self, Annotation, Meta, Recording};
use specmine_dsp::channelize::extract;
use specmine_dsp::detect::{
    Detection, DetectorConfig, OccupiedBand, RegionFinder, Stft, average_frames, noise_floor,
    refine_band,
};
use specmine_dsp::generator::Examples;
use specmine_dsp::scene::{BANDWIDTH_PER_BAUD, SceneConfig, synthesize};
use specmine_dsp::symbol_rate::{RateFeature, estimate_symbol_rate};
use specmine_dsp::util::{fast_fft_len_above, fast_fft_len_below};
use specmine_dsp::{C32, Modulation};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct SceneArgs {
    /// Output recording (base name; writes BASE.sigmf-data and BASE.sigmf-meta).
    pub out: PathBuf,
    #[arg(long, default_value_t = 10e6)]
    pub sample_rate_hz: f64,
    #[arg(long, default_value_t = 0.1)]
    pub duration_s: f64,
    /// Centre frequency written to the capture (Hz).
    #[arg(long, default_value_t = 915e6)]
    pub center_frequency_hz: f64,
    #[arg(long, default_value_t = 8)]
    pub signals: usize,
    /// Scene SNR range (dB; signal power over the noise in its 1.35 Rs band).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub snr_min_db: f64,
    #[arg(long, default_value_t = 20.0, allow_hyphen_values = true)]
    pub snr_max_db: f64,
    #[arg(long, default_value_t = 50e3)]
    pub symbol_rate_min_hz: f64,
    #[arg(long, default_value_t = 400e3)]
    pub symbol_rate_max_hz: f64,
    #[arg(long, default_value_t = 5.0)]
    pub burst_min_ms: f64,
    #[arg(long, default_value_t = 30.0)]
    pub burst_max_ms: f64,
    /// Classes (comma separated); default: the 11 RadioML 2016 classes.
    #[arg(long, value_delimiter = ',')]
    pub classes: Vec<Modulation>,
    /// Shape the noise floor (+-3 dB tilt and ripple).
    #[arg(long)]
    pub coloured_noise: bool,
    /// Continuous tones (annotated with the label `spur`).
    #[arg(long, default_value_t = 0)]
    pub spurs: usize,
    /// SSB signals on their lower sideband (the generator's and RadioML's are upper).
    #[arg(long)]
    pub lower_sideband: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Replace an existing recording of that name.
    #[arg(long)]
    pub force: bool,
}

pub fn run_scene(a: SceneArgs) -> Result<()> {
    let (m, d) = sigmf::paths(&a.out);
    if !a.force
        && let Some(p) = [&m, &d].into_iter().find(|p| p.exists())
    {
        bail!("{} exists: pass --force to replace it", p.display());
    }
    let mut cfg = SceneConfig {
        sample_rate_hz: a.sample_rate_hz,
        duration_s: a.duration_s,
        n_signals: a.signals,
        snr_db: (a.snr_min_db, a.snr_max_db),
        symbol_rate_hz: (a.symbol_rate_min_hz, a.symbol_rate_max_hz),
        burst_s: (a.burst_min_ms / 1e3, a.burst_max_ms / 1e3),
        coloured_noise: a.coloured_noise,
        spurs: a.spurs,
        lower_sideband: a.lower_sideband,
        ..Default::default()
    };
    if !a.classes.is_empty() {
        cfg.classes = a.classes.clone();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let scene = synthesize(&cfg, &mut rng)?;
    let fc = a.center_frequency_hz;
    let mut meta = Meta::new(a.sample_rate_hz, Some(fc));
    meta.global.description = Some(format!(
        "specmine scene: {} signals over unit-power noise, seed {}",
        scene.signals.len(),
        a.seed
    ));
    meta.global
        .extra
        .insert("specmine:scene".into(), serde_json::to_value(&cfg)?);
    for s in &scene.signals {
        let mut an = Annotation {
            sample_start: s.sample_start,
            sample_count: Some(s.sample_count),
            freq_lower_edge: Some(fc + s.freq_lower_hz()),
            freq_upper_edge: Some(fc + s.freq_upper_hz()),
            label: Some(s.class.to_string()),
            generator: Some("specmine scene".into()),
            ..Default::default()
        };
        an.extra.insert("specmine:snr_db".into(), json!(s.snr_db));
        an.extra
            .insert("specmine:symbol_rate_hz".into(), json!(s.symbol_rate_hz));
        meta.annotations.push(an);
    }
    let n = scene.samples.len() as u64;
    for sp in &scene.spurs {
        let mut an = Annotation {
            sample_start: 0,
            sample_count: Some(n),
            freq_lower_edge: Some(fc + sp.freq_hz - 1e3),
            freq_upper_edge: Some(fc + sp.freq_hz + 1e3),
            label: Some("spur".into()),
            generator: Some("specmine scene".into()),
            ..Default::default()
        };
        an.extra.insert("specmine:power".into(), json!(sp.power));
        meta.annotations.insert(0, an);
    }
    meta.annotations.sort_by_key(|a| a.sample_start);
    sigmf::write_recording(&a.out, &scene.samples, &meta)?;
    let (m, d) = sigmf::paths(&a.out);
    println!(
        "wrote {} and {} ({} samples at {} Hz, {} signals)",
        m.display(),
        d.display(),
        n,
        a.sample_rate_hz,
        scene.signals.len()
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct MineArgs {
    /// The recording (.sigmf-meta, .sigmf-data, base name or .sigmf archive).
    pub recording: PathBuf,
    /// Run folder of the classifier; without it, the model shipped with specmine.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long, default_value = "best")]
    pub weights: String,
    /// Output folder for the annotated meta, summary (JSON, CSV) and spectrogram PNG.
    /// Default: beside the recording, as BASE.mined.*.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write the annotations into the recording's own .sigmf-meta (replacing earlier
    /// `specmine mine` annotations there).
    #[arg(long)]
    pub in_place: bool,
    #[arg(long, default_value_t = 1024)]
    pub fft_len: usize,
    /// Periodograms averaged per detection cell.
    #[arg(long, default_value_t = 4)]
    pub average: usize,
    /// False-alarm probability per time-frequency cell.
    #[arg(long, default_value_t = 1e-4)]
    pub pfa: f64,
    /// Drop detections below this estimated SNR (dB).
    #[arg(long, default_value_t = 3.0, allow_hyphen_values = true)]
    pub min_snr_db: f64,
    /// Windows classified per detection and rate hypothesis, at most.
    #[arg(long, default_value_t = 8)]
    pub max_windows: usize,
    /// Fragments of one signal (same band) at most this many detection rows apart are merged
    /// (a row is fft-len x average samples): speech pauses and fades break analog signals.
    #[arg(long, default_value_t = 6)]
    pub merge_gap_rows: usize,
    /// Detections shorter than this many rows are dropped (on/off splatter, too short to
    /// classify).
    #[arg(long, default_value_t = 2)]
    pub min_rows: usize,
    /// Do not also try signals without a symbol-rate line at the training scale of each analog
    /// (and GFSK) class (see `class-scale` in the JSON's `symbol_rate_from`).
    #[arg(long)]
    pub no_scale_hypotheses: bool,
    /// After classification, join detections with the same label and band at most this many
    /// milliseconds apart (one signal split by pauses); 0 keeps them apart.
    #[arg(long, default_value_t = 0.0)]
    pub merge_same_label_ms: f64,
    /// Estimated SNR (dB) from which signals without a symbol-rate line get the class-scale
    /// hypotheses.
    #[arg(long, default_value_t = 10.0, allow_hyphen_values = true)]
    pub scale_min_snr_db: f64,
    /// Sideband test: a detection whose power centroid sits at least this fraction of its
    /// half-width off mid-band is one-sided and can only be a one-sided class (SSB), tried at
    /// that class's scale even when it shows a cyclic line (speech's pitch), mirrored when its
    /// heavy edge is the other one than in training (LSB read as USB); a detection below it
    /// can only be a symmetric class. 0 turns the test off. Measured on scenes: SSB 0.29-0.56,
    /// nearly all others under 0.2.
    #[arg(long, default_value_t = 0.25)]
    pub sideband_asymmetry: f64,
    /// Carrier test: a detection with at least this share of its power in three adjacent fine
    /// bins is carrier-dominated and can only be a class with a carrier (AM with carrier, OOK,
    /// FM with a quiet message). 0 turns the test off. Measured on scenes: AM-DSB-WC
    /// 0.91-0.99, GFSK up to 0.64, the linear digital classes under 0.45.
    #[arg(long, default_value_t = 0.85)]
    pub carrier_share: f64,
    /// The sideband and carrier tests are overruled when the model gives every class they
    /// allow a mean probability under this (say, no SSB in a one-sided detection).
    #[arg(long, default_value_t = 0.1)]
    pub shape_min_prob: f64,
    /// Keep the detector's coarse band edges (one FFT bin of resolution) instead of refining
    /// each detection to its 99% occupied band at a finer resolution.
    #[arg(long)]
    pub no_refine: bool,
    /// Symbol-rate hypotheses, as factors on the estimated symbol rate. The estimate is a
    /// cyclic line (see --rate-line-strength) or, failing one, 1.1 x the rate from the
    /// detection's equivalent bandwidth (spectrum area over peak; about 0.9 of the symbol rate
    /// for RRC-shaped signals). With several factors each is channelized and classified and the
    /// most confident kept.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub rate_hypotheses: Vec<f64>,
    /// Smallest cyclic line (power over the median of its search range) taken as a symbol
    /// rate; 0 turns the cyclic estimate off (bandwidth only). Noise alone gives 10-15.
    #[arg(long, default_value_t = 40.0)]
    pub rate_line_strength: f64,
    /// Windows per model call (the inference benchmark's batch).
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    #[arg(long, default_value = "flex")]
    pub device: String,
    /// Score the detections against the recording's labelled annotations (ground truth of
    /// `specmine scene`): precision, recall and accuracy by SNR, written to score.json.
    #[arg(long)]
    pub score: bool,
    /// Skip the spectrogram PNG.
    #[arg(long)]
    pub no_plot: bool,
}

/// One mined signal.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    #[serde(flatten)]
    pub det: Detection,
    pub label: String,
    pub confidence: f32,
    pub top3: Vec<(String, f32)>,
    pub windows: usize,
    /// Symbol rate of the chosen hypothesis (the rate the signal was resampled for, / 8).
    pub symbol_rate_hz: f64,
    /// How the symbol rate was found: `envelope` or `frequency-transitions` (a cyclic line,
    /// see `specmine_dsp::symbol_rate`), or `bandwidth` (no line: equivalent bandwidth).
    pub symbol_rate_from: &'static str,
    /// Where the band's power is centred, as a fraction of its half-width from mid-band
    /// (see `OccupiedBand::asymmetry`); absent when the band was not refined.
    pub band_asymmetry: Option<f64>,
    /// Share of the band's power in its strongest three fine bins (a carrier: near 1).
    pub band_peak_share: Option<f64>,
    /// Every channelization tried, in order, with the model's reading of it: why this label.
    pub hypotheses: Vec<Tried>,
}

/// One channelization of a detection and the model's combined reading of its windows.
#[derive(Clone, Debug, Serialize)]
pub struct Tried {
    pub symbol_rate_hz: f64,
    /// The frequency put at the windows' DC (absolute, as the annotations' edges).
    pub center_hz: f64,
    /// The class whose training scale this hypothesis assumed, if any.
    pub class_scale: Option<String>,
    /// The spectrum was mirrored (a lower sideband read as the upper one training knows).
    pub mirrored: bool,
    pub windows: usize,
    pub label: String,
    /// Mean log-probability of `label` over the windows.
    pub log_prob: f32,
    /// Whether it was eligible (a class-scale hypothesis counts only when its class wins).
    pub eligible: bool,
}

/// Join detections of one signal that the detector split in time (an analog signal's speech
/// pauses): same label, bands sharing at least half of the narrower one, at most `gap`
/// samples apart. The joined box spans both; its SNR is the duration-weighted mean, its
/// confidence the larger.
fn merge_same_label(mut found: Vec<Found>, gap: u64) -> Vec<Found> {
    if gap == 0 {
        return found;
    }
    found.sort_by_key(|f| f.det.sample_start);
    let mut out: Vec<Found> = Vec::with_capacity(found.len());
    'next: for f in found {
        for o in out.iter_mut().rev() {
            let (a, b) = (o.det.clone(), &f.det);
            let ov = a.freq_upper_hz.min(b.freq_upper_hz) - a.freq_lower_hz.max(b.freq_lower_hz);
            let narrow = (a.freq_upper_hz - a.freq_lower_hz).min(b.freq_upper_hz - b.freq_lower_hz);
            let a_end = a.sample_start + a.sample_count;
            let t_gap = b.sample_start.saturating_sub(a_end);
            if o.label == f.label && 2.0 * ov >= narrow && t_gap <= gap {
                let (na, nb) = (a.sample_count as f64, b.sample_count as f64);
                let end = a_end.max(b.sample_start + b.sample_count);
                o.det.snr_db = (a.snr_db * na + b.snr_db * nb) / (na + nb);
                o.det.freq_lower_hz = a.freq_lower_hz.min(b.freq_lower_hz);
                o.det.freq_upper_hz = a.freq_upper_hz.max(b.freq_upper_hz);
                o.det.sample_count = end - o.det.sample_start;
                o.windows += f.windows;
                if f.confidence > o.confidence {
                    o.confidence = f.confidence;
                    o.top3 = f.top3.clone();
                }
                continue 'next;
            }
        }
        out.push(f);
    }
    out
}

/// One way of channelizing a detection for the classifier.
struct Hypothesis {
    symbol_rate_hz: f64,
    center_hz: f64,
    /// The spectrum was mirrored (conjugated) to put the sideband where training has it.
    mirrored: bool,
    /// Interleaved I/Q windows.
    iq: Vec<f32>,
    /// The model class whose training scale this hypothesis assumes (see [`class_scales`]).
    class: Option<usize>,
}

/// For each model class without a symbol-rate line (analog, GFSK), its 99% occupied band and
/// that band's centre as fractions of the sample rate at the training scale (the generator's modulators at 8 samples
/// per symbol; median of 8 examples of 8192 samples).
fn class_scales(classes: &[String]) -> Vec<ClassScale> {
    use rand::SeedableRng;
    let modcfg = specmine_dsp::generator::GeneratorConfig::rml2016().modulator;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    classes
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let m: Modulation = name.parse().ok()?;
            if !(m.is_analog() || m == Modulation::Gfsk) {
                return None;
            }
            let bands: Vec<OccupiedBand> = (0..8)
                .filter_map(|_| {
                    let x = specmine_dsp::modulate::modulate(m, 8192, &modcfg, &mut rng).ok()?;
                    Some(specmine_dsp::scene::occupied_band_shape(&x, 1.0, 0.005))
                })
                .collect();
            let median = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied()
            };
            let band = median(bands.iter().map(|b| b.upper_hz - b.lower_hz).collect())?;
            let center = median(
                bands
                    .iter()
                    .map(|b| 0.5 * (b.lower_hz + b.upper_hz))
                    .collect(),
            )?;
            let asymmetry = median(bands.iter().map(OccupiedBand::asymmetry).collect())?;
            Some(ClassScale {
                class: i,
                band: band.max(1e-3),
                center,
                asymmetry,
            })
        })
        .collect()
}

/// Where a class's energy sits at the training scale, as fractions of the sample rate.
#[derive(Clone, Copy)]
struct ClassScale {
    class: usize,
    /// 99% occupied band.
    band: f64,
    /// Centre of that band relative to DC (single-sideband signals sit off DC).
    center: f64,
    /// Its power centroid's offset from mid-band per half-width (see
    /// [`OccupiedBand::asymmetry`]): about -0.5 for USB speech, near 0 for the others.
    asymmetry: f64,
}

const IMG_W: usize = 1024;
const IMG_H: usize = 600;

/// Spectrogram thumbnail: max-pooled dB-over-floor values.
struct Thumb {
    rows_total: u64,
    bins: usize,
    px: Vec<f32>,
}

impl Thumb {
    fn new(rows_total: u64, bins: usize) -> Self {
        Self {
            rows_total: rows_total.max(1),
            bins,
            px: vec![f32::MIN; IMG_W.min(bins) * IMG_H.min(rows_total.max(1) as usize)],
        }
    }
    fn dims(&self) -> (usize, usize) {
        (IMG_W.min(self.bins), IMG_H.min(self.rows_total as usize))
    }
    fn add(&mut self, row: u64, cells: &[f32], floor: &[f32]) {
        let (w, h) = self.dims();
        let y = ((row as u128 * h as u128) / self.rows_total as u128) as usize;
        for (b, (&c, &f)) in cells.iter().zip(floor).enumerate() {
            let x = b * w / self.bins;
            let v = 10.0 * (c / f).max(1e-3).log10();
            let p = &mut self.px[y.min(h - 1) * w + x];
            *p = p.max(v);
        }
    }
}

fn detect_stream(
    rec: &Recording,
    cfg: &DetectorConfig,
    thumb: &mut Option<Thumb>,
) -> Result<(Vec<specmine_dsp::detect::Region>, Vec<f32>)> {
    let n = cfg.fft_len;
    let hop = cfg.hop() as u64;
    let rows_total = rec.len() / hop;
    if rows_total == 0 {
        bail!(
            "{}: {} samples, fewer than one detection cell ({hop})",
            rec.meta_path.display(),
            rec.len()
        );
    }
    let stft = Stft::new(n);
    let mut f = rec.open_data()?;
    // Floor from up to 512 rows spread over the whole recording (random access).
    let probe = rows_total.min(512);
    let mut cells = Vec::with_capacity(probe as usize * n);
    for i in 0..probe {
        let row = i * rows_total / probe;
        let x = rec.read_with(&mut f, row * hop, hop as usize)?;
        cells.extend(average_frames(&stft.power(&x), n, cfg.average));
    }
    let floor = noise_floor(&cells, n, cfg);
    if floor.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        bail!(
            "{}: the noise floor is zero or not finite (silent or corrupt samples)",
            rec.meta_path.display()
        );
    }
    let mut finder = RegionFinder::new(floor.clone(), cfg);
    let chunk_rows = 64u64;
    let pb = crate::progress_bar(rec.len(), "detecting");
    let mut row = 0u64;
    let mut regions = vec![];
    while row < rows_total {
        let k = chunk_rows.min(rows_total - row);
        let x = rec.read_with(&mut f, row * hop, (k * hop) as usize)?;
        if x.iter().any(|v| !(v.re.is_finite() && v.im.is_finite())) {
            bail!(
                "{}: non-finite samples (NaN or Inf) near sample {}",
                rec.data_path().display(),
                row * hop
            );
        }
        let c = average_frames(&stft.power(&x), n, cfg.average);
        for (i, r) in c.chunks_exact(n).enumerate() {
            finder.push_row(r);
            if let Some(t) = thumb.as_mut() {
                t.add(row + i as u64, r, &floor);
            }
        }
        regions.extend(finder.take_closed());
        row += k;
        pb.inc(k * hop);
    }
    pb.finish_and_clear();
    regions.extend(finder.finish());
    Ok((specmine_dsp::detect::merge_regions(regions, cfg), floor))
}

/// Symbol rate from the equivalent bandwidth of the detection's spectrum: for a raised-cosine
/// spectrum, (area above the floor) / (peak above the floor) equals the symbol rate.
fn equivalent_symbol_rate(
    x: &[C32],
    stft: &Stft,
    floor: &[f32],
    det: &Detection,
    rate: f64,
) -> f64 {
    let n = stft.fft_len();
    let p = stft.power(&x[..x.len().min(n * 64)]);
    let frames = p.len() / n;
    if frames == 0 {
        return (det.freq_upper_hz - det.freq_lower_hz) / BANDWIDTH_PER_BAUD;
    }
    let df = rate / n as f64;
    let bin = |f: f64| ((f / df + n as f64 / 2.0).round() as i64).clamp(0, n as i64 - 1) as usize;
    let w = ((det.freq_upper_hz - det.freq_lower_hz) / df * 0.25).ceil() as usize + 2;
    let lo = bin(det.freq_lower_hz).saturating_sub(w);
    let hi = (bin(det.freq_upper_hz) + w).min(n - 1);
    let excess: Vec<f64> = (lo..=hi)
        .map(|b| {
            let m = (0..frames).map(|f| p[f * n + b] as f64).sum::<f64>() / frames as f64;
            (m - floor[b] as f64).max(0.0)
        })
        .collect();
    // Peak from a 3-bin running mean (the periodogram's scatter would bias a raw max).
    let peak = excess
        .windows(3)
        .map(|w| w.iter().sum::<f64>() / 3.0)
        .fold(0.0, f64::max);
    let area: f64 = excess.iter().sum();
    if peak <= 0.0 {
        return (det.freq_upper_hz - det.freq_lower_hz) / BANDWIDTH_PER_BAUD;
    }
    area / peak * df
}

pub fn run_mine(a: MineArgs) -> Result<()> {
    let t0 = Instant::now();
    let rec = Recording::open(&a.recording)?;
    let rate = rec.sample_rate_hz()?;
    let fc = rec.meta.center_frequency_hz();
    let cfg = DetectorConfig {
        fft_len: a.fft_len,
        average: a.average,
        pfa: a.pfa,
        merge_gap_rows: a.merge_gap_rows,
        min_rows: a.min_rows,
        ..Default::default()
    };
    if !(a.fft_len.is_power_of_two() && a.fft_len >= 64) || a.average == 0 {
        bail!("--fft-len must be a power of two >= 64 and --average >= 1");
    }
    if !(a.pfa > 0.0 && a.pfa < 0.5) {
        bail!("--pfa {}: expected a probability in (0, 0.5)", a.pfa);
    }
    let dev = crate::train::device(&a.device)?;
    let loaded = crate::shipped::load(a.model.as_deref(), &a.weights, &dev)?;
    let l = loaded.config.input().width;
    let mut thumb = (!a.no_plot).then(|| Thumb::new(rec.len() / cfg.hop() as u64, cfg.fft_len));
    let (regions, floor) = detect_stream(&rec, &cfg, &mut thumb)?;
    let t_detect = t0.elapsed().as_secs_f64();
    let dets: Vec<Detection> = regions
        .iter()
        .map(|r| cfg.detection(r, rate))
        .filter(|d| d.snr_db >= a.min_snr_db)
        .collect();
    // Channelize: each detection to 8 samples per (estimated) symbol, windows of L samples.
    let stft = Stft::new(cfg.fft_len);
    let sps = 8.0;
    let need_out = l * a.max_windows + 2 * l;
    // Per detection, in parallel: estimate the symbol rate from the middle of the burst, then
    // read only the samples the windows need (a detection may span a whole huge recording).
    if a.rate_hypotheses.is_empty() || a.rate_hypotheses.iter().any(|h| h.is_nan() || *h <= 0.0) {
        bail!("--rate-hypotheses: expected positive factors");
    }
    if !(a.shape_min_prob > 0.0 && a.shape_min_prob <= 1.0) {
        bail!(
            "--shape-min-prob {}: expected a probability in (0, 1]",
            a.shape_min_prob
        );
    }
    if !(0.0..=1.0).contains(&a.carrier_share) {
        bail!(
            "--carrier-share {}: expected a share in [0, 1]",
            a.carrier_share
        );
    }
    if !(0.0..1.0).contains(&a.sideband_asymmetry) {
        bail!(
            "--sideband-asymmetry {}: expected a fraction in [0, 1)",
            a.sideband_asymmetry
        );
    }
    // Signals without a symbol-rate line (analog, weak GFSK) are also tried at the scale each
    // such class has in training: its 99% band as a fraction of the training sample rate,
    // measured on the generator's modulators at 8 samples per symbol.
    let scales = class_scales(&loaded.classes);
    // Per model class: its spectrum is one-sided in training (SSB); the digital classes'
    // (raised-cosine, CPM) are symmetric. Read only while the sideband test is on (t > 0).
    let t = a.sideband_asymmetry;
    let one_sided_class: Vec<bool> = (0..loaded.classes.len())
        .map(|j| {
            scales
                .iter()
                .any(|sc| sc.class == j && sc.asymmetry.abs() >= t)
        })
        .collect();
    // Per model class: it can show a dominant carrier line (class names that are no known
    // modulation: allowed).
    let carrier_class: Vec<bool> = loaded
        .classes
        .iter()
        .map(|n| {
            n.parse::<Modulation>()
                .map_or(true, |m| m.can_be_carrier_dominated())
        })
        .collect();
    type PerDetection = (
        Detection,
        &'static str,
        Option<OccupiedBand>,
        Vec<Hypothesis>,
    );
    let per_det: Vec<PerDetection> = dets
        .par_iter()
        .map(|d| -> Result<PerDetection> {
            let count = d.sample_count as usize;
            let probe = count.min(cfg.fft_len * 128);
            let mid = d.sample_start + ((count - probe) / 2) as u64;
            let x = rec.read(mid, probe)?;
            // The detector's cells are coarse: measure the occupied band finely first.
            let mut d = d.clone();
            let refined = (!a.no_refine)
                .then(|| refine_band(&x, rate, &floor, (d.freq_lower_hz, d.freq_upper_hz)))
                .flatten();
            if let Some(b) = refined {
                d.freq_lower_hz = b.lower_hz;
                d.freq_upper_hz = b.upper_hz;
            }
            let d = &d;
            let center = 0.5 * (d.freq_lower_hz + d.freq_upper_hz);
            // The symbol rate from a cyclic line when the signal shows one (digital signals),
            // else from the equivalent bandwidth (x 1.1: RRC calibration, see --rate-hypotheses).
            let bw = d.freq_upper_hz - d.freq_lower_hz;
            // About 1,200 symbols are plenty for a cyclic line; FFT lengths rustfft transforms
            // fast: the probe trimmed, the output about 8 x bw.
            let want = ((1500.0 * rate / bw.max(1.0)) as usize).clamp(8192, x.len().max(1));
            let skip = (x.len() - want.min(x.len())) / 2;
            let xr = &x[skip..skip + fast_fft_len_below(want.min(x.len()))];
            let m = fast_fft_len_above((xr.len() as f64 * 8.0 * bw / rate) as usize).min(xr.len());
            let fs2 = rate * m as f64 / xr.len() as f64;
            let line = (a.rate_line_strength > 0.0)
                .then(|| {
                    let y = extract(xr, rate, center, fs2);
                    estimate_symbol_rate(&y, fs2, bw, a.rate_line_strength)
                })
                .flatten();
            let (rs_est, from) = match line {
                Some(e) => (
                    e.rate_hz,
                    match e.feature {
                        RateFeature::Envelope => "envelope",
                        RateFeature::FrequencyTransitions => "frequency-transitions",
                    },
                ),
                None => (
                    1.1 * equivalent_symbol_rate(&x, &stft, &floor, d, rate),
                    "bandwidth",
                ),
            };
            // (symbol rate, centre frequency, class the scale assumes, mirrored)
            let mut tries: Vec<(f64, f64, Option<usize>, bool)> = a
                .rate_hypotheses
                .iter()
                .map(|h| (rs_est * h, center, None, false))
                .collect();
            // At a class's scale the model tends to name that class whatever the signal (SSB
            // speech zoomed to WBFM's scale reads as WBFM), so a scale is tried only when the
            // spectrum's sidedness agrees with the class's.
            let asym = refined.map(|b| b.asymmetry()).filter(|_| t > 0.0);
            // A one-sided spectrum is no linear digital signal's: its "line" is speech's
            // pitch, not a symbol rate.
            let one_sided = asym.is_some_and(|v| v.abs() >= t);
            // Only clear signals: a weak digital signal also lacks a line, and at a wrong
            // scale the model can be talked into an analog or GFSK label.
            if !a.no_scale_hypotheses
                && (from == "bandwidth" || one_sided)
                && d.snr_db >= a.scale_min_snr_db
            {
                tries.extend(scales.iter().filter_map(|sc| {
                    let mirrored = match asym {
                        Some(v) if (v.abs() >= t) != one_sided_class[sc.class] => return None,
                        Some(v) => v.abs() >= t && v.signum() != sc.asymmetry.signum(),
                        None => false,
                    };
                    let out_rate = bw / sc.band;
                    // Put the band where the class has it in training (an SSB signal's
                    // suppressed carrier at DC, not the middle of its sideband); a mirrored
                    // sideband's carrier is at its other edge.
                    let offset = sc.center * out_rate;
                    Some((
                        out_rate / sps,
                        if mirrored {
                            center + offset
                        } else {
                            center - offset
                        },
                        Some(sc.class),
                        mirrored,
                    ))
                }));
            }
            // A length the FFT transforms fast for each rate (Bluestein's algorithm is several
            // times slower), all centred in the detection: one read serves every hypothesis.
            let plans: Vec<(f64, f64, Option<usize>, bool, usize)> = tries
                .into_iter()
                .map(|(rs_try, center, class, mirrored)| {
                    let out_rate = (sps * rs_try).min(rate);
                    let need = fast_fft_len_above((need_out as f64 * rate / out_rate) as usize);
                    let need_in = if need <= count {
                        need
                    } else {
                        fast_fft_len_below(count)
                    };
                    (out_rate, center, class, mirrored, need_in)
                })
                .collect();
            let most = plans.iter().map(|p| p.4).max().unwrap_or(0);
            let first = (count - most) / 2;
            let all = rec.read(d.sample_start + first as u64, most)?;
            let mut out = vec![];
            for (out_rate, center, class, mirrored, need_in) in plans {
                let skip = (count - need_in) / 2 - first;
                let y = extract(&all[skip..skip + need_in], rate, center, out_rate);
                // Drop the edges (circular effects, ramps), then take consecutive windows.
                // (A detection too short for one window at this rate gives none.)
                // Class-scale hypotheses are checks, not the main reading: half the windows.
                let max_w = if class.is_some() {
                    (a.max_windows / 2).max(1)
                } else {
                    a.max_windows
                };
                let nw = (y.len().saturating_sub(l) / l).min(max_w);
                let iq = y
                    .get(l / 2..l / 2 + nw * l)
                    .unwrap_or(&[])
                    .iter()
                    .flat_map(|c| [c.re, if mirrored { -c.im } else { c.im }])
                    .collect();
                out.push(Hypothesis {
                    symbol_rate_hz: out_rate / sps,
                    center_hz: center,
                    mirrored,
                    iq,
                    class,
                });
            }
            Ok((d.clone(), from, refined, out))
        })
        .collect::<Result<_>>()?;
    let t_channelize = t0.elapsed().as_secs_f64() - t_detect;
    let mut windows = Examples {
        vector_len: l,
        iq: vec![],
        labels: vec![],
        snrs_db: vec![],
        class_names: loaded.classes.clone(),
    };
    // owner[i] = (detection, hypothesis) of window i;
    // rates[k][h] = (symbol rate, class, centre, mirrored).
    let mut owner = vec![];
    let mut rates = vec![];
    let mut dets = vec![];
    let mut rate_from = vec![];
    let mut shapes = vec![];
    for (k, (d, from, shape, hyps)) in per_det.into_iter().enumerate() {
        dets.push(d);
        rate_from.push(from);
        shapes.push(shape);
        let mut r = vec![];
        for (h, hyp) in hyps.into_iter().enumerate() {
            r.push((hyp.symbol_rate_hz, hyp.class, hyp.center_hz, hyp.mirrored));
            for _ in 0..hyp.iq.len() / (2 * l) {
                windows.labels.push(0);
                windows.snrs_db.push(0.0);
                owner.push((k, h));
            }
            windows.iq.extend(hyp.iq);
        }
        rates.push(r);
    }
    let idx: Vec<usize> = (0..windows.labels.len()).collect();
    let lp =
        specmine_nn::eval::predict_log_probs(&loaded.model, &windows, &idx, a.batch_size, &dev);
    let t_classify = t0.elapsed().as_secs_f64() - t_detect - t_channelize;
    let c = loaded.classes.len();
    // rows_of[k][h]: the windows of hypothesis h of detection k.
    let mut rows_of: Vec<Vec<Vec<usize>>> = rates.iter().map(|r| vec![vec![]; r.len()]).collect();
    for (i, &(k, h)) in owner.iter().enumerate() {
        rows_of[k][h].push(i);
    }
    let mut found = vec![];
    for (k, d) in dets.iter().enumerate() {
        // Per hypothesis, the mean log-probability of each class over its windows; keep the
        // hypothesis whose best class scores highest.
        // Per hypothesis: the mean log-probabilities and the number of windows.
        let means: Vec<Option<(Vec<f32>, usize)>> = (0..rates[k].len())
            .map(|h| {
                let rows = &rows_of[k][h];
                (!rows.is_empty()).then(|| {
                    let mut m = vec![0f32; c];
                    for &i in rows {
                        for j in 0..c {
                            m[j] += lp[i * c + j] / rows.len() as f32;
                        }
                    }
                    (m, rows.len())
                })
            })
            .collect();
        // Keep the hypothesis whose best allowed class scores highest.
        let choose = |allowed: &[bool]| {
            let mut best: Option<(f32, usize)> = None;
            let mut tried = vec![];
            for (h, &(rs, class, center_hz, mirrored)) in rates[k].iter().enumerate() {
                let Some((m, n)) = &means[h] else {
                    continue; // too short to hold one window at this rate
                };
                let (arg, top) = m
                    .iter()
                    .cloned()
                    .enumerate()
                    .filter(|&(j, _)| allowed[j])
                    .fold((0, f32::MIN), |b, (j, v)| if v > b.1 { (j, v) } else { b });
                // A class's own scale counts only when the model, seeing the signal at that
                // scale, names that class: the scale and the label must agree.
                let eligible = class.is_none_or(|ci| m[ci] >= top);
                tried.push(Tried {
                    symbol_rate_hz: rs,
                    center_hz: fc + center_hz,
                    class_scale: class.map(|ci| loaded.classes[ci].clone()),
                    mirrored,
                    windows: *n,
                    label: loaded.classes[arg].clone(),
                    log_prob: top,
                    eligible,
                });
                if eligible && best.is_none_or(|b| top > b.0) {
                    best = Some((top, h));
                }
            }
            (best, tried)
        };
        // The label must agree with the spectrum's shape: a one-sided detection is a
        // one-sided class (SSB), a symmetric one is not; a carrier-dominated one is a class
        // with a carrier; unless the model finds every such class implausible (a detection
        // cut or merged oddly can look one-sided).
        let all = vec![true; c];
        let masked = match &shapes[k] {
            Some(b) => shape_mask(b, t, a.carrier_share, &one_sided_class, &carrier_class),
            None => all.clone(),
        };
        let (mut best, mut tried) = (None, vec![]);
        let mut allowed = &all;
        if masked != all && masked.contains(&true) {
            (best, tried) = choose(&masked);
            allowed = &masked;
        }
        if best.is_none_or(|b: (f32, usize)| b.0 < a.shape_min_prob.ln() as f32) {
            (best, tried) = choose(&all);
            allowed = &all;
        }
        let best = best.map(|(top, h)| {
            let (m, n) = means[h].clone().expect("chosen hypotheses have windows");
            (top, h, m, n)
        });
        let Some((_, h, mean, n_windows)) = best else {
            continue;
        };
        // Confidence: the combined log-probabilities renormalised (softmax) over all classes;
        // the top 3 among the classes the band-shape tests allow.
        let mx = mean.iter().cloned().fold(f32::MIN, f32::max);
        let z: f32 = mean.iter().map(|v| (v - mx).exp()).sum();
        let mut probs: Vec<(String, f32)> = mean
            .iter()
            .enumerate()
            .filter(|&(j, _)| allowed[j])
            .map(|(j, v)| (loaded.classes[j].clone(), (v - mx).exp() / z))
            .collect();
        probs.sort_by(|a, b| b.1.total_cmp(&a.1));
        found.push(Found {
            det: d.clone(),
            label: probs[0].0.clone(),
            confidence: probs[0].1,
            top3: probs.into_iter().take(3).collect(),
            windows: n_windows,
            symbol_rate_hz: rates[k][h].0,
            symbol_rate_from: match rates[k][h].1 {
                Some(_) => "class-scale",
                None => rate_from[k],
            },
            band_asymmetry: shapes[k].map(|b| b.asymmetry()),
            band_peak_share: shapes[k].map(|b| b.peak_share),
            hypotheses: tried,
        });
    }
    let found = merge_same_label(found, (a.merge_same_label_ms * 1e-3 * rate) as u64);
    let elapsed = t0.elapsed().as_secs_f64();
    // Outputs.
    let (meta_path, _) = sigmf::paths(&a.recording);
    let base_name = meta_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("recording.sigmf-meta")
        .trim_end_matches(".sigmf-meta")
        .to_string();
    let is_archive = a.recording.extension().is_some_and(|e| e == "sigmf");
    let out_dir = match &a.out {
        Some(o) => o.clone(),
        None => meta_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut meta = rec.meta.clone();
    let mined_meta_path = if a.in_place {
        if is_archive {
            bail!("--in-place cannot rewrite a .sigmf archive; use --out");
        }
        meta.annotations
            .retain(|an| an.generator.as_deref() != Some("specmine mine"));
        meta_path.clone()
    } else {
        // A separate meta pointing at the original data file (core:dataset).
        meta.annotations.clear();
        let data_name = rec
            .data_path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        meta.global
            .extra
            .insert("core:dataset".into(), json!(data_name));
        out_dir.join(format!("{base_name}.mined.sigmf-meta"))
    };
    for fd in &found {
        let mut an = Annotation {
            sample_start: fd.det.sample_start,
            sample_count: Some(fd.det.sample_count),
            freq_lower_edge: Some(fc + fd.det.freq_lower_hz),
            freq_upper_edge: Some(fc + fd.det.freq_upper_hz),
            label: Some(fd.label.clone()),
            comment: Some(format!(
                "{} ({:.0}%), SNR {:.1} dB",
                fd.label,
                100.0 * fd.confidence,
                fd.det.snr_db
            )),
            generator: Some("specmine mine".into()),
            ..Default::default()
        };
        an.extra
            .insert("specmine:confidence".into(), json!(fd.confidence));
        an.extra
            .insert("specmine:snr_db".into(), json!(fd.det.snr_db));
        an.extra.insert("specmine:top3".into(), json!(fd.top3));
        an.extra
            .insert("specmine:symbol_rate_hz".into(), json!(fd.symbol_rate_hz));
        meta.annotations.push(an);
    }
    meta.annotations.sort_by_key(|an| an.sample_start);
    sigmf::write_meta(&mined_meta_path, &meta)?;
    let summary = json!({
        "recording": a.recording.display().to_string(),
        "model": loaded.name,
        "sample_rate_hz": rate,
        "center_frequency_hz": fc,
        "samples": rec.len(),
        "detector": cfg,
        "seconds": elapsed,
        "detect_seconds": t_detect,
        "channelize_seconds": t_channelize,
        "classify_seconds": t_classify,
        "windows": windows.len(),
        "samples_per_second": rec.len() as f64 / elapsed,
        "detections": found,
    });
    let json_path = out_dir.join(format!("{base_name}.mined.json"));
    specmine_data::atomic::write_atomic(&json_path, |f| {
        std::io::Write::write_all(f, serde_json::to_string_pretty(&summary)?.as_bytes())
    })?;
    let csv_path = out_dir.join(format!("{base_name}.mined.csv"));
    let mut csv = String::from(
        "sample_start,sample_count,freq_lower_hz,freq_upper_hz,snr_db,label,confidence,top2,top3\n",
    );
    for fd in &found {
        csv += &format!(
            "{},{},{:.1},{:.1},{:.2},{},{:.4},{},{}\n",
            fd.det.sample_start,
            fd.det.sample_count,
            fc + fd.det.freq_lower_hz,
            fc + fd.det.freq_upper_hz,
            fd.det.snr_db,
            fd.label,
            fd.confidence,
            fd.top3.get(1).map(|t| t.0.as_str()).unwrap_or(""),
            fd.top3.get(2).map(|t| t.0.as_str()).unwrap_or(""),
        );
    }
    specmine_data::atomic::write_atomic(&csv_path, |f| {
        std::io::Write::write_all(f, csv.as_bytes())
    })?;
    if let Some(t) = &thumb {
        let png = out_dir.join(format!("{base_name}.mined.png"));
        let (w, h) = t.dims();
        crate::plots::spectrogram(&png, &t.px, w, h, rate, fc, rec.len(), &found)?;
    }
    eprintln!(
        "{} samples in {:.2} s ({:.1} MS/s; detect {:.2} s, channelize {:.2} s, classify {:.2} s for {} windows): {} detections, annotations in {}",
        rec.len(),
        elapsed,
        rec.len() as f64 / elapsed / 1e6,
        t_detect,
        t_channelize,
        t_classify,
        windows.len(),
        found.len(),
        mined_meta_path.display()
    );
    for fd in &found {
        println!(
            "{:>10} +{:<9} {:>14.0} .. {:<14.0} Hz  SNR {:>5.1} dB  {:<8} {:.2}",
            fd.det.sample_start,
            fd.det.sample_count,
            fc + fd.det.freq_lower_hz,
            fc + fd.det.freq_upper_hz,
            fd.det.snr_db,
            fd.label,
            fd.confidence
        );
    }
    if a.score {
        let s = score(&rec.meta, &found, fc);
        let p = out_dir.join(format!("{base_name}.score.json"));
        specmine_data::atomic::write_atomic(&p, |f| {
            std::io::Write::write_all(f, serde_json::to_string_pretty(&s)?.as_bytes())
        })?;
        println!("{}", serde_json::to_string(&s["summary"])?);
    }
    Ok(())
}

/// Labels name the same class, whichever data set's spelling each uses (`QAM16` = `16QAM`).
fn same_class(a: &str, b: &str) -> bool {
    match (a.parse::<Modulation>(), b.parse::<Modulation>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Time-frequency intersection over union of two boxes (samples x Hz).
pub fn iou(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> f64 {
    let it = (a.1.min(b.1) - a.0.max(b.0)).max(0.0);
    let iff = (a.3.min(b.3) - a.2.max(b.2)).max(0.0);
    let inter = it * iff;
    let area = |x: (f64, f64, f64, f64)| (x.1 - x.0) * (x.3 - x.2);
    inter / (area(a) + area(b) - inter).max(1e-300)
}

/// Precision, recall and accuracy of `found` against the labelled annotations of `truth`
/// (greedy one-to-one matching at IoU >= 0.5, best IoU first), by truth SNR bands.
pub fn score(truth: &Meta, found: &[Found], fc: f64) -> serde_json::Value {
    let tboxes: Vec<(f64, f64, f64, f64, String, f64)> = truth
        .annotations
        .iter()
        .filter(|an| an.generator.as_deref() != Some("specmine mine"))
        .filter_map(|an| {
            Some((
                an.sample_start as f64,
                (an.sample_start + an.sample_count?) as f64,
                an.freq_lower_edge? - fc,
                an.freq_upper_edge? - fc,
                an.label.clone()?,
                an.extra
                    .get("specmine:snr_db")
                    .and_then(|v| v.as_f64())
                    .unwrap_or(f64::NAN),
            ))
        })
        .collect();
    let dboxes: Vec<(f64, f64, f64, f64)> = found
        .iter()
        .map(|f| {
            (
                f.det.sample_start as f64,
                (f.det.sample_start + f.det.sample_count) as f64,
                f.det.freq_lower_hz,
                f.det.freq_upper_hz,
            )
        })
        .collect();
    let mut pairs = vec![];
    for (i, t) in tboxes.iter().enumerate() {
        for (j, d) in dboxes.iter().enumerate() {
            let v = iou((t.0, t.1, t.2, t.3), *d);
            if v >= 0.5 {
                pairs.push((v, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut tm = vec![None; tboxes.len()];
    let mut dm = vec![None; dboxes.len()];
    for (v, i, j) in pairs {
        if tm[i].is_none() && dm[j].is_none() {
            tm[i] = Some((j, v));
            dm[j] = Some(i);
        }
    }
    // A detection overlapping a spur (any IoU) is not a false alarm of the miner's signals.
    let is_spur = |j: usize| {
        tboxes
            .iter()
            .any(|t| t.4 == "spur" && iou((t.0, t.1, t.2, t.3), dboxes[j]) > 0.0)
    };
    let bands: [(f64, f64); 4] = [(-100.0, 5.0), (5.0, 10.0), (10.0, 15.0), (15.0, 100.0)];
    let mut by_band = vec![];
    for (lo, hi) in bands {
        let ts: Vec<usize> = (0..tboxes.len())
            .filter(|&i| tboxes[i].4 != "spur" && tboxes[i].5 >= lo && tboxes[i].5 < hi)
            .collect();
        let hit: Vec<usize> = ts.iter().copied().filter(|&i| tm[i].is_some()).collect();
        let correct = hit
            .iter()
            .filter(|&&i| same_class(&found[tm[i].expect("matched").0].label, &tboxes[i].4))
            .count();
        by_band.push(json!({
            "snr_db": [lo, hi], "signals": ts.len(), "detected": hit.len(),
            "recall": hit.len() as f64 / ts.len().max(1) as f64,
            "classified_correctly": correct,
            "accuracy_on_matched": correct as f64 / hit.len().max(1) as f64,
        }));
    }
    let hi_t: Vec<usize> = (0..tboxes.len())
        .filter(|&i| tboxes[i].4 != "spur" && tboxes[i].5 >= 10.0)
        .collect();
    let hi_hit = hi_t.iter().filter(|&&i| tm[i].is_some()).count();
    let real_dets: Vec<usize> = (0..dboxes.len()).filter(|&j| !is_spur(j)).collect();
    let tp = real_dets.iter().filter(|&&j| dm[j].is_some()).count();
    // Precision for signals at >= 10 dB: detections of >= 10 dB signals (matched, or, if not,
    // overlapping a >= 10 dB signal most) and false alarms overlapping no signal count;
    // detections that belong to weaker signals are left out, as recall leaves those out.
    let best_overlap = |j: usize| {
        (0..tboxes.len())
            .filter(|&i| tboxes[i].4 != "spur")
            .map(|i| {
                (
                    iou(
                        (tboxes[i].0, tboxes[i].1, tboxes[i].2, tboxes[i].3),
                        dboxes[j],
                    ),
                    i,
                )
            })
            .filter(|(v, _)| *v > 0.0)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, i)| i)
    };
    let owner: Vec<Option<usize>> = (0..dboxes.len())
        .map(|j| dm[j].or_else(|| best_overlap(j)))
        .collect();
    let hi_dets: Vec<usize> = real_dets
        .iter()
        .copied()
        .filter(|&j| owner[j].is_none_or(|i| tboxes[i].5 >= 10.0))
        .collect();
    let hi_tp = hi_dets.iter().filter(|&&j| dm[j].is_some()).count();
    let det_list: Vec<serde_json::Value> = real_dets
        .iter()
        .map(|&j| {
            json!({
                "label": found[j].label, "snr_db": found[j].det.snr_db,
                "matched": dm[j].is_some(),
                "signal_snr_db": owner[j].map(|i| tboxes[i].5),
            })
        })
        .collect();
    let matches: Vec<serde_json::Value> = (0..tboxes.len())
        .map(|i| {
            json!({
                "truth": tboxes[i].4, "snr_db": tboxes[i].5,
                "detected": tm[i].map(|(j, _)| found[j].label.clone()),
                "correct": tm[i].map(|(j, _)| same_class(&found[j].label, &tboxes[i].4)),
                "iou": tm[i].map(|(_, v)| v),
                "confidence": tm[i].map(|(j, _)| found[j].confidence),
            })
        })
        .collect();
    json!({
        "summary": {
            "signals": tboxes.iter().filter(|t| t.4 != "spur").count(),
            "detections": real_dets.len(),
            "true_positives": tp,
            "precision": tp as f64 / real_dets.len().max(1) as f64,
            "recall_snr_ge_10": hi_hit as f64 / hi_t.len().max(1) as f64,
            "signals_snr_ge_10": hi_t.len(),
            "precision_snr_ge_10": hi_tp as f64 / hi_dets.len().max(1) as f64,
            "detections_snr_ge_10": hi_dets.len(),
            "true_positives_snr_ge_10": hi_tp,
        },
        "detections": det_list,
        "by_snr": by_band,
        "signals": matches,
    })
}

/// Which model classes a detection's band shape allows: one-sided bands (|asymmetry| >=
/// `sideband_asymmetry`) only one-sided classes and symmetric bands only the others;
/// carrier-dominated bands (`peak_share` >= `carrier_share`) only classes that can show a
/// carrier. A test is off at 0, and skipped when the model has no class on the allowed side.
/// The result may allow nothing (a one-sided carrier): the caller then falls back to all.
fn shape_mask(
    band: &OccupiedBand,
    sideband_asymmetry: f64,
    carrier_share: f64,
    one_sided_class: &[bool],
    carrier_class: &[bool],
) -> Vec<bool> {
    let mut masked = vec![true; one_sided_class.len()];
    let o = band.asymmetry().abs() >= sideband_asymmetry;
    if sideband_asymmetry > 0.0 && one_sided_class.contains(&o) {
        for (m, &cs) in masked.iter_mut().zip(one_sided_class) {
            *m &= cs == o;
        }
    }
    if carrier_share > 0.0 && band.peak_share >= carrier_share {
        for (m, &cc) in masked.iter_mut().zip(carrier_class) {
            *m &= cc;
        }
    }
    masked
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    fn band(centroid_hz: f64, peak_share: f64) -> OccupiedBand {
        OccupiedBand {
            lower_hz: -100.0,
            upper_hz: 100.0,
            centroid_hz,
            peak_share,
        }
    }

    // Classes: [BPSK, AM-SSB, AM-DSB-WC].
    const ONE_SIDED: [bool; 3] = [false, true, false];
    const CARRIER: [bool; 3] = [false, false, true];

    #[test]
    fn band_shape_restricts_the_labels() {
        let m = |b: &OccupiedBand, t, cs| shape_mask(b, t, cs, &ONE_SIDED, &CARRIER);
        // Symmetric, no carrier: anything but SSB.
        assert_eq!(m(&band(5.0, 0.3), 0.25, 0.85), [true, false, true]);
        // Centroid 40% of the half-width off mid-band: only SSB.
        assert_eq!(m(&band(-40.0, 0.3), 0.25, 0.85), [false, true, false]);
        // Symmetric with a dominant carrier: only the carrier class.
        assert_eq!(m(&band(0.0, 0.95), 0.25, 0.85), [false, false, true]);
        // One-sided and carrier-dominated: nothing (the miner falls back to all classes).
        assert_eq!(m(&band(60.0, 0.95), 0.25, 0.85), [false, false, false]);
        // Both tests off.
        assert_eq!(m(&band(60.0, 0.95), 0.0, 0.0), [true, true, true]);
        // A model without one-sided classes: the sideband test cannot apply.
        let none = [false; 3];
        assert_eq!(
            shape_mask(&band(60.0, 0.3), 0.25, 0.85, &none, &CARRIER),
            [true; 3]
        );
    }
}

#[cfg(test)]
mod merge_tests {
    use super::*;

    fn found(start: u64, count: u64, lo: f64, hi: f64, label: &str) -> Found {
        Found {
            det: Detection {
                sample_start: start,
                sample_count: count,
                freq_lower_hz: lo,
                freq_upper_hz: hi,
                snr_db: 10.0,
            },
            label: label.into(),
            confidence: 0.5,
            top3: vec![],
            windows: 2,
            symbol_rate_hz: 1.0,
            symbol_rate_from: "bandwidth",
            band_asymmetry: None,
            band_peak_share: None,
            hypotheses: vec![],
        }
    }

    #[test]
    fn same_label_fragments_join_and_others_stay_apart() {
        let f = vec![
            found(0, 100, 0.0, 10.0, "WBFM"),
            found(150, 100, 2.0, 12.0, "WBFM"), // 50 samples later, same band: joins
            found(260, 100, 0.0, 10.0, "QPSK"), // other label
            found(1000, 100, 0.0, 10.0, "WBFM"), // too far
            found(120, 50, 50.0, 60.0, "WBFM"), // other band
        ];
        let m = merge_same_label(f.clone(), 60);
        assert_eq!(m.len(), 4, "{m:?}");
        let j = &m[0];
        assert_eq!((j.det.sample_start, j.det.sample_count), (0, 250));
        assert_eq!((j.det.freq_lower_hz, j.det.freq_upper_hz), (0.0, 12.0));
        assert_eq!(j.windows, 4);
        assert_eq!(merge_same_label(f, 0).len(), 5);
    }

    #[test]
    fn precision_at_10_db_leaves_out_fragments_of_weaker_signals() {
        let ann = |start: u64, lo: f64, label: &str, snr: f64| {
            json!({"core:sample_start": start, "core:sample_count": 1000,
                   "core:freq_lower_edge": lo, "core:freq_upper_edge": lo + 100.0,
                   "core:label": label, "specmine:snr_db": snr})
        };
        let truth: Meta = serde_json::from_value(json!({
            "global": {"core:datatype": "cf32_le", "core:sample_rate": 1e4, "core:version": "1.0.0"},
            "captures": [],
            "annotations": [ann(0, 0.0, "QPSK", 15.0), ann(0, 1000.0, "FM", 3.0)],
        }))
        .unwrap();
        let f = vec![
            found(0, 1000, 0.0, 100.0, "QPSK"),     // the strong signal
            found(0, 200, 1000.0, 1100.0, "FM"),    // a fragment of the weak one (IoU 0.2)
            found(5000, 500, 3000.0, 3100.0, "FM"), // on no signal
        ];
        let s = score(&truth, &f, 0.0);
        assert_eq!(s["summary"]["true_positives"], 1);
        assert_eq!(s["summary"]["detections"], 3);
        assert_eq!(s["summary"]["detections_snr_ge_10"], 2, "{}", s["summary"]);
        assert_eq!(s["summary"]["precision_snr_ge_10"], 0.5);
        assert_eq!(s["detections"][1]["signal_snr_db"], 3.0);
        assert!(s["detections"][2]["signal_snr_db"].is_null());
    }
}
