//! Signal detection in a wideband recording: short-time Fourier transform, a robust noise-floor
//! estimate, a CFAR threshold, and connected time-frequency regions merged into boxes.
//!
//! Each detection cell is the mean of `average` consecutive Hann-windowed periodogram frames
//! (no overlap) of one FFT bin. Under noise alone a bin's periodogram is exponential, so the
//! mean of `k` frames is Gamma(k, mean/k) (Erlang): the threshold factor for a per-cell false-alarm
//! probability `pfa` solves `P(Gamma(k, 1/k) > t) = pfa` exactly (cell-averaging CFAR with a
//! floor known per bin). The floor is estimated per bin as a low quantile over time (robust to
//! signals present part of the time), divided by the same quantile of the Gamma law, then median
//! filtered across frequency (coloured floors are followed, single spurs are not smeared).
//! Regions are found row by row (a row is one cell time), so a recording streams through in
//! bounded memory: a box is closed once no cell has joined it for `gap_cells` rows.

use crate::C32;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Settings of the detector.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectorConfig {
    /// FFT length (frequency resolution `sample_rate / fft_len`, hop = `fft_len`).
    pub fft_len: usize,
    /// Periodogram frames averaged per detection cell.
    pub average: usize,
    /// False-alarm probability per cell.
    pub pfa: f64,
    /// Quantile over time used for the per-bin noise floor.
    pub floor_quantile: f64,
    /// Width in bins of the median filter across frequency applied to the floor.
    pub floor_smooth_bins: usize,
    /// Cells of gap (time or frequency) still joined into one region.
    pub gap_cells: usize,
    /// Regions smaller than this many cells are dropped (isolated false alarms).
    pub min_cells: usize,
    /// After detection, regions sharing at least half of the narrower one's band and at most
    /// this many rows apart are one signal (a low-SNR signal's cells dip under the threshold;
    /// speech pauses break analog signals) and are merged; so are regions overlapping in time
    /// whose bands touch (within `gap_cells` bins).
    pub merge_gap_rows: usize,
    /// Merged regions spanning fewer rows are dropped: too short to classify, and mostly the
    /// spectral splatter of a strong signal switching on or off.
    pub min_rows: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            fft_len: 1024,
            average: 4,
            pfa: 1e-4,
            floor_quantile: 0.25,
            floor_smooth_bins: 9,
            gap_cells: 1,
            min_cells: 4,
            merge_gap_rows: 6,
            min_rows: 2,
        }
    }
}

/// A detected region in cell coordinates: rows (time, in cells) and bins (frequency, FFT bins
/// after fftshift: bin 0 is `-sample_rate/2`), both inclusive.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub row_first: u64,
    pub row_last: u64,
    pub bin_lo: usize,
    pub bin_hi: usize,
    pub cells: usize,
    /// Sum over member cells of power / floor.
    pub sum_ratio: f64,
}

impl Region {
    /// In-band SNR estimate in dB: mean cell power over the floor, minus the noise.
    pub fn snr_db(&self) -> f64 {
        let r = self.sum_ratio / self.cells as f64 - 1.0;
        10.0 * r.max(1e-3).log10()
    }
}

/// `P(Gamma(k, scale 1/k) > t)`: the Erlang tail `exp(-kt) * sum_{i<k} (kt)^i / i!`.
pub fn gamma_tail(k: usize, t: f64) -> f64 {
    let x = k as f64 * t;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..k {
        term *= x / i as f64;
        sum += term;
    }
    (-x).exp() * sum
}

/// `t` with `P(Gamma(k, 1/k) > t) = p` (bisection; the tail is monotone).
pub fn gamma_threshold(k: usize, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while gamma_tail(k, hi) > p {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if gamma_tail(k, mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Hann-windowed periodograms of consecutive non-overlapping frames, fftshifted.
pub struct Stft {
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    n: usize,
}

impl Stft {
    pub fn new(fft_len: usize) -> Self {
        let window: Vec<f32> = (0..fft_len)
            .map(|i| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / fft_len as f64).cos()) as f32
            })
            .collect();
        // Normalise so white noise of power s gives mean bin power s.
        let e: f32 = window.iter().map(|w| w * w).sum();
        let window = window.iter().map(|w| w / e.sqrt()).collect();
        Self {
            fft: FftPlanner::new().plan_fft_forward(fft_len),
            window,
            n: fft_len,
        }
    }

    pub fn fft_len(&self) -> usize {
        self.n
    }

    /// Power of each frame of `x` (whole frames only), `[frames, fft_len]` row-major,
    /// bin 0 = most negative frequency.
    pub fn power(&self, x: &[C32]) -> Vec<f32> {
        let n = self.n;
        let frames = x.len() / n;
        let mut out = vec![0f32; frames * n];
        let mut buf = vec![C32::new(0.0, 0.0); n];
        let mut scratch = vec![C32::new(0.0, 0.0); self.fft.get_inplace_scratch_len()];
        for f in 0..frames {
            for (b, (v, w)) in buf.iter_mut().zip(x[f * n..].iter().zip(&self.window)) {
                *b = v * w;
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            let row = &mut out[f * n..(f + 1) * n];
            for (k, v) in buf.iter().enumerate() {
                row[(k + n / 2) % n] = v.norm_sqr();
            }
        }
        out
    }
}

/// Average groups of `k` frames: `[frames, n]` -> `[frames / k, n]`.
pub fn average_frames(p: &[f32], n: usize, k: usize) -> Vec<f32> {
    let rows = p.len() / n / k;
    let mut out = vec![0f32; rows * n];
    for r in 0..rows {
        let o = &mut out[r * n..(r + 1) * n];
        for f in 0..k {
            for (a, b) in o.iter_mut().zip(&p[(r * k + f) * n..]) {
                *a += b;
            }
        }
        o.iter_mut().for_each(|v| *v /= k as f32);
    }
    out
}

/// Per-bin noise floor from detection cells `[rows, n]` (see the module docs).
pub fn noise_floor(cells: &[f32], n: usize, cfg: &DetectorConfig) -> Vec<f32> {
    let rows = cells.len() / n;
    assert!(rows > 0, "noise floor needs at least one row of cells");
    // Quantile q of Gamma(k, 1/k), found by bisection on the tail.
    let q_gamma = gamma_threshold(cfg.average, 1.0 - cfg.floor_quantile);
    let mut col = vec![0f32; rows];
    let raw: Vec<f32> = (0..n)
        .map(|b| {
            for (r, c) in col.iter_mut().enumerate() {
                *c = cells[r * n + b];
            }
            let i = ((rows - 1) as f64 * cfg.floor_quantile).round() as usize;
            let (_, v, _) = col.select_nth_unstable_by(i, f32::total_cmp);
            *v / q_gamma as f32
        })
        .collect();
    let h = cfg.floor_smooth_bins / 2;
    (0..n)
        .map(|b| {
            let mut w: Vec<f32> = (b.saturating_sub(h)..(b + h + 1).min(n))
                .map(|i| raw[i])
                .collect();
            let m = w.len() / 2;
            *w.select_nth_unstable_by(m, f32::total_cmp).1
        })
        .collect()
}

/// Streaming region finder: feed rows of cells, collect closed regions.
pub struct RegionFinder {
    floor: Vec<f32>,
    threshold: f32,
    gap: u64,
    min_cells: usize,
    row: u64,
    open: Vec<Region>,
    last_row: Vec<u64>,
    closed: Vec<Region>,
}

impl RegionFinder {
    pub fn new(floor: Vec<f32>, cfg: &DetectorConfig) -> Self {
        Self {
            floor,
            threshold: gamma_threshold(cfg.average, cfg.pfa) as f32,
            gap: cfg.gap_cells as u64,
            min_cells: cfg.min_cells,
            row: 0,
            open: vec![],
            last_row: vec![],
            closed: vec![],
        }
    }

    /// The threshold factor over the floor.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Process one row of cells (length = number of bins).
    pub fn push_row(&mut self, cells: &[f32]) {
        let n = self.floor.len();
        let g = self.gap as usize;
        let mut b = 0;
        while b < n {
            if cells[b] <= self.threshold * self.floor[b] {
                b += 1;
                continue;
            }
            let lo = b;
            let mut sum = 0.0;
            while b < n && cells[b] > self.threshold * self.floor[b] {
                sum += (cells[b] / self.floor[b]) as f64;
                b += 1;
            }
            let hi = b - 1;
            let mut run = Region {
                row_first: self.row,
                row_last: self.row,
                bin_lo: lo,
                bin_hi: hi,
                cells: hi - lo + 1,
                sum_ratio: sum,
            };
            // Join every open region this run touches (within the gap), merging them.
            let mut i = 0;
            while i < self.open.len() {
                let r = &self.open[i];
                let near_t = self.last_row[i] + self.gap + 1 >= self.row;
                let near_f = lo <= r.bin_hi + g + 1 && r.bin_lo <= hi + g + 1;
                if near_t && near_f {
                    let r = self.open.swap_remove(i);
                    self.last_row.swap_remove(i);
                    run.row_first = run.row_first.min(r.row_first);
                    run.bin_lo = run.bin_lo.min(r.bin_lo);
                    run.bin_hi = run.bin_hi.max(r.bin_hi);
                    run.cells += r.cells;
                    run.sum_ratio += r.sum_ratio;
                } else {
                    i += 1;
                }
            }
            self.open.push(run);
            self.last_row.push(self.row);
        }
        // Close regions nothing joined within the gap.
        let mut i = 0;
        while i < self.open.len() {
            if self.last_row[i] + self.gap < self.row {
                let r = self.open.swap_remove(i);
                let last = self.last_row.swap_remove(i);
                self.close(r, last);
            } else {
                i += 1;
            }
        }
        self.row += 1;
    }

    fn close(&mut self, mut r: Region, last: u64) {
        r.row_last = last;
        if r.cells >= self.min_cells {
            self.closed.push(r);
        }
    }

    /// Regions closed so far (drained).
    pub fn take_closed(&mut self) -> Vec<Region> {
        std::mem::take(&mut self.closed)
    }

    /// Close everything still open (end of the recording) and return all remaining regions.
    pub fn finish(mut self) -> Vec<Region> {
        let open = std::mem::take(&mut self.open);
        let last = std::mem::take(&mut self.last_row);
        for (r, l) in open.into_iter().zip(last) {
            self.close(r, l);
        }
        self.closed.sort_by_key(|r| (r.row_first, r.bin_lo));
        self.closed
    }

    pub fn rows(&self) -> u64 {
        self.row
    }
}

/// Merge fragments of one signal (see [`DetectorConfig::merge_gap_rows`]) and drop what is
/// still shorter than [`DetectorConfig::min_rows`]; the result is sorted by start row, then
/// lower bin.
pub fn merge_regions(mut regions: Vec<Region>, cfg: &DetectorConfig) -> Vec<Region> {
    let rows = cfg.merge_gap_rows as u64;
    let g = cfg.gap_cells;
    let joins = |a: &Region, b: &Region| {
        let f_ov = (a.bin_hi.min(b.bin_hi) + 1).saturating_sub(a.bin_lo.max(b.bin_lo));
        let narrow = (a.bin_hi - a.bin_lo + 1).min(b.bin_hi - b.bin_lo + 1);
        let t_gap = if a.row_last < b.row_first {
            b.row_first - a.row_last - 1
        } else if b.row_last < a.row_first {
            a.row_first - b.row_last - 1
        } else {
            0
        };
        let t_overlap = a.row_first <= b.row_last && b.row_first <= a.row_last;
        let f_touch = a.bin_lo <= b.bin_hi + g + 1 && b.bin_lo <= a.bin_hi + g + 1;
        (2 * f_ov >= narrow && t_gap <= rows) || (t_overlap && f_touch)
    };
    let mut merged = true;
    while merged {
        merged = false;
        'outer: for i in 0..regions.len() {
            for j in i + 1..regions.len() {
                if joins(&regions[i], &regions[j]) {
                    let b = regions.swap_remove(j);
                    let a = &mut regions[i];
                    a.row_first = a.row_first.min(b.row_first);
                    a.row_last = a.row_last.max(b.row_last);
                    a.bin_lo = a.bin_lo.min(b.bin_lo);
                    a.bin_hi = a.bin_hi.max(b.bin_hi);
                    a.cells += b.cells;
                    a.sum_ratio += b.sum_ratio;
                    merged = true;
                    break 'outer;
                }
            }
        }
    }
    regions.retain(|r| r.row_last - r.row_first + 1 >= cfg.min_rows as u64);
    regions.sort_by_key(|r| (r.row_first, r.bin_lo));
    regions
}

/// A region in physical units.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Detection {
    pub sample_start: u64,
    pub sample_count: u64,
    /// Band edges relative to the recording's centre frequency.
    pub freq_lower_hz: f64,
    pub freq_upper_hz: f64,
    pub snr_db: f64,
}

impl DetectorConfig {
    /// Samples per row of cells.
    pub fn hop(&self) -> usize {
        self.fft_len * self.average
    }

    /// Convert a region to samples and Hz.
    pub fn detection(&self, r: &Region, sample_rate_hz: f64) -> Detection {
        let hop = self.hop() as u64;
        let df = sample_rate_hz / self.fft_len as f64;
        let half = (self.fft_len / 2) as f64;
        Detection {
            sample_start: r.row_first * hop,
            sample_count: (r.row_last - r.row_first + 1) * hop,
            freq_lower_hz: (r.bin_lo as f64 - half - 0.5) * df,
            freq_upper_hz: (r.bin_hi as f64 - half + 0.5) * df,
            snr_db: r.snr_db(),
        }
    }
}

/// Detect in a whole in-memory signal (tests, small files): floor from the signal itself.
pub fn detect(x: &[C32], sample_rate_hz: f64, cfg: &DetectorConfig) -> Vec<Detection> {
    let stft = Stft::new(cfg.fft_len);
    let cells = average_frames(&stft.power(x), cfg.fft_len, cfg.average);
    if cells.is_empty() {
        return vec![];
    }
    let floor = noise_floor(&cells, cfg.fft_len, cfg);
    let mut f = RegionFinder::new(floor, cfg);
    for row in cells.chunks_exact(cfg.fft_len) {
        f.push_row(row);
    }
    merge_regions(f.finish(), cfg)
        .iter()
        .map(|r| cfg.detection(r, sample_rate_hz))
        .collect()
}

/// Refine a detection's band edges to the signal's 99% occupied band, measured at a finer
/// resolution than the detector's: the detector's cells are `sample_rate / fft_len` wide, as
/// wide as a narrow analog signal, so its boxes can be several times too wide (or, for a signal
/// whose skirts fall under the threshold, too narrow).
///
/// `x` holds samples from inside the detection; `floor` is the detector's per-bin noise floor
/// (`floor.len()` bins across the sample rate, fftshifted, in the [`Stft`] power scale, which
/// does not depend on the FFT length). The spectrum is averaged over whole frames of `nf`
/// samples, `nf` the smallest power of two (>= `floor.len()`, <= 16384, at least 8 frames)
/// that resolves the band in >= 24 bins. Bins more than `3 / sqrt(frames)` above the floor
/// contribute their excess power; the band is where that excess reaches 0.5% and 99.5% of its
/// total, searched within the detection widened by half its width on each side. `None` when
/// the excess is too small to measure or the result is under two fine bins.
pub fn refine_band(
    x: &[C32],
    sample_rate_hz: f64,
    floor: &[f32],
    band_hz: (f64, f64),
) -> Option<OccupiedBand> {
    let n_coarse = floor.len();
    let width = band_hz.1 - band_hz.0;
    if n_coarse == 0 || width <= 0.0 {
        return None;
    }
    let mut nf = n_coarse;
    while sample_rate_hz / (nf as f64) > width / 24.0 && nf < 16_384 && x.len() >= 2 * nf * 8 {
        nf *= 2;
    }
    let frames = x.len() / nf;
    if frames < 4 {
        return None;
    }
    let p = Stft::new(nf).power(&x[..frames * nf]);
    let df = sample_rate_hz / nf as f64;
    let fine =
        |f: f64| ((f / df + nf as f64 / 2.0).floor() as i64).clamp(0, nf as i64 - 1) as usize;
    let lo = fine(band_hz.0 - 0.5 * width);
    let hi = fine(band_hz.1 + 0.5 * width);
    let ratio = nf / n_coarse;
    let k = 1.0 + 3.0 / (frames as f64).sqrt();
    let excess: Vec<f64> = (lo..=hi)
        .map(|b| {
            let m = (0..frames).map(|f| p[f * nf + b] as f64).sum::<f64>() / frames as f64;
            let fl = floor[b / ratio] as f64;
            if m > fl * k { m - fl } else { 0.0 }
        })
        .collect();
    let total: f64 = excess.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mut acc = 0.0;
    let (mut first, mut last) = (None, 0);
    for (i, e) in excess.iter().enumerate() {
        acc += e;
        if first.is_none() && acc >= 0.005 * total {
            first = Some(i);
        }
        if acc <= 0.995 * total {
            last = i + 1;
        }
    }
    let first = first?;
    let last = last.max(first);
    if last - first + 1 < 2 {
        return None;
    }
    let freq = |i: usize| (lo + i) as f64 * df - sample_rate_hz / 2.0;
    Some(OccupiedBand::of_bins(
        (freq(first), freq(last + 1)),
        &excess[first..=last],
        freq(first) + 0.5 * df,
        df,
    ))
}

/// A detection's measured occupied band (see [`refine_band`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OccupiedBand {
    pub lower_hz: f64,
    pub upper_hz: f64,
    /// Where the band's excess power is centred: mid-band for a symmetric spectrum, near one
    /// edge for a single-sideband one (its suppressed carrier's side).
    pub centroid_hz: f64,
    /// Share of the band's power in its strongest three adjacent bins: near 1 for a carrier
    /// (AM with carrier, FM with a quiet message), a few percent for a spread spectrum.
    pub peak_share: f64,
}

/// Largest share of `power`'s sum in three adjacent bins.
pub fn peak_share(power: &[f64]) -> f64 {
    let total: f64 = power.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let best = if power.len() < 3 {
        total
    } else {
        power
            .windows(3)
            .map(|w| w.iter().sum::<f64>())
            .fold(0.0, f64::max)
    };
    best / total
}

impl OccupiedBand {
    /// The band `(lower_hz, upper_hz)` with the shape of the power `inside` it, in bins of
    /// `bin_hz` whose first is centred at `first_bin_hz`.
    pub fn of_bins(edges_hz: (f64, f64), inside: &[f64], first_bin_hz: f64, bin_hz: f64) -> Self {
        let centroid_hz = inside
            .iter()
            .enumerate()
            .map(|(i, p)| p * (first_bin_hz + i as f64 * bin_hz))
            .sum::<f64>()
            / inside.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        OccupiedBand {
            lower_hz: edges_hz.0,
            upper_hz: edges_hz.1,
            centroid_hz,
            peak_share: peak_share(inside),
        }
    }

    /// The centroid's offset from mid-band as a fraction of the half-width, in [-1, 1]:
    /// 0 for a symmetric spectrum, towards -1 when the power piles up at the lower edge.
    pub fn asymmetry(&self) -> f64 {
        let half = 0.5 * (self.upper_hz - self.lower_hz);
        if half <= 0.0 {
            return 0.0;
        }
        ((self.centroid_hz - 0.5 * (self.lower_hz + self.upper_hz)) / half).clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn refine_band_narrows_a_coarse_box_to_the_occupied_band() {
        // A narrow band of noise (a 12 kHz brick-wall band at +1 MHz, 10 dB over the floor in
        // band) in unit white noise at 10 MS/s: the detector's 9.8 kHz cells give a box of
        // 3-4 cells; the refined band must be within a fine bin or two of the true 12 kHz.
        let fs = 10e6;
        let n = 1 << 17;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut x = vec![C32::new(0.0, 0.0); n];
        crate::channel::add_awgn(&mut x, 1.0, &mut rng);
        let mut s = vec![C32::new(0.0, 0.0); n];
        crate::channel::add_awgn(&mut s, 1.0, &mut rng);
        let mut planner = FftPlanner::<f32>::new();
        planner.plan_fft_forward(n).process(&mut s);
        let (f_lo, f_hi) = (1.0e6 - 6e3, 1.0e6 + 6e3);
        for (k, v) in s.iter_mut().enumerate() {
            let f = if k < n / 2 {
                k as f64
            } else {
                k as f64 - n as f64
            } * fs
                / n as f64;
            if f < f_lo || f > f_hi {
                *v = C32::new(0.0, 0.0);
            }
        }
        planner.plan_fft_inverse(n).process(&mut s);
        // In-band SNR 10 dB: signal power 10 * (band / fs) against unit noise power.
        let p: f64 = s.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / n as f64;
        let g = (10.0 * 12e3 / fs / p).sqrt() as f32;
        for (a, b) in x.iter_mut().zip(&s) {
            *a += b * g;
        }
        let floor = vec![1f32; 1024];
        let coarse = (1.0e6 - 2.0 * 9765.6, 1.0e6 + 2.0 * 9765.6);
        let b = refine_band(&x, fs, &floor, coarse).expect("measurable");
        let (lo, hi) = (b.lower_hz, b.upper_hz);
        let df = fs / 16384.0;
        assert!((lo - f_lo).abs() < 2.0 * df, "lower edge {lo} vs {f_lo}");
        assert!((hi - f_hi).abs() < 2.0 * df, "upper edge {hi} vs {f_hi}");
        // A flat band is symmetric: its centroid sits mid-band.
        assert!(b.asymmetry().abs() < 0.1, "asymmetry {}", b.asymmetry());
        // ... and spread: three of its ~20 fine bins hold 0.15 of it (plus the scatter of a
        // periodogram averaged over 8 frames).
        assert!(b.peak_share < 0.5, "peak share {}", b.peak_share);
        // A carrier 20 dB over that band's power dominates it.
        let tone: Vec<C32> = x
            .iter()
            .enumerate()
            .map(|(t, v)| {
                let ph = 2.0 * std::f64::consts::PI * 1.0e6 * t as f64 / fs;
                v + C32::new(ph.cos() as f32, ph.sin() as f32)
                    * (100.0 * 10.0 * 12e3 / fs).sqrt() as f32
            })
            .collect();
        let c = refine_band(&tone, fs, &floor, coarse).expect("measurable");
        assert!(c.peak_share > 0.85, "peak share {}", c.peak_share);
        // Pure noise: nothing (or next to nothing) to measure.
        let mut z = vec![C32::new(0.0, 0.0); n];
        crate::channel::add_awgn(&mut z, 1.0, &mut rng);
        if let Some(OccupiedBand {
            lower_hz: a,
            upper_hz: b,
            ..
        }) = refine_band(&z, fs, &floor, coarse)
        {
            assert!(
                b - a < 0.5 * (coarse.1 - coarse.0),
                "noise gave a band {a}..{b}"
            );
        }
    }

    #[test]
    fn erlang_threshold_matches_known_values() {
        // k = 1: exponential, t = -ln p.
        assert!((gamma_threshold(1, 1e-3) - 1e-3f64.ln().abs()).abs() < 1e-9);
        // k = 2: P = e^{-2t}(1 + 2t); check the solution satisfies it.
        let t = gamma_threshold(2, 1e-4);
        assert!(((-2.0 * t).exp() * (1.0 + 2.0 * t) - 1e-4).abs() < 1e-12);
    }

    fn noise(n: usize, power: f32, seed: u64) -> Vec<C32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = vec![C32::new(0.0, 0.0); n];
        crate::channel::add_awgn(&mut x, power.sqrt(), &mut rng);
        x
    }

    #[test]
    fn white_noise_periodogram_has_the_noise_power_per_bin() {
        let x = noise(1024 * 400, 2.0, 1);
        let p = Stft::new(1024).power(&x);
        let mean: f64 = p.iter().map(|&v| v as f64).sum::<f64>() / p.len() as f64;
        assert!((mean - 2.0).abs() < 0.02, "{mean}");
        let cfg = DetectorConfig::default();
        let cells = average_frames(&p, 1024, cfg.average);
        let floor = noise_floor(&cells, 1024, &cfg);
        let fmean = floor.iter().sum::<f32>() / 1024.0;
        assert!((fmean - 2.0).abs() < 0.1, "floor {fmean}");
    }

    fn tone_into(x: &mut [C32], f_hz: f64, rate: f64, amp: f32, span: std::ops::Range<usize>) {
        for t in span {
            let p = 2.0 * std::f64::consts::PI * f_hz * t as f64 / rate;
            x[t] += C32::new(p.cos() as f32, p.sin() as f32) * amp;
        }
    }

    #[test]
    fn a_single_tone_is_found_within_one_bin() {
        let rate = 1.024e6;
        let cfg = DetectorConfig::default();
        let mut x = noise(1024 * 4 * 64, 1.0, 2);
        // Bin width 1 kHz; the tone at +123.4 kHz, 10 dB over the noise in its bin.
        let f0 = 123.4e3;
        let n = x.len();
        tone_into(
            &mut x,
            f0,
            rate,
            (10f32 / 1024.0).sqrt() * 10f32.sqrt(),
            0..n,
        );
        let d = detect(&x, rate, &cfg);
        assert_eq!(d.len(), 1, "{d:?}");
        let df = rate / cfg.fft_len as f64;
        assert!(
            d[0].freq_lower_hz <= f0 + df && d[0].freq_upper_hz >= f0 - df,
            "{d:?}"
        );
        assert!(d[0].freq_upper_hz - d[0].freq_lower_hz <= 4.0 * df, "{d:?}");
        assert_eq!(d[0].sample_start, 0);
        assert_eq!(d[0].sample_count, n as u64);
    }

    #[test]
    fn a_single_burst_is_found_at_its_place_within_one_hop() {
        let rate = 1e6;
        let cfg = DetectorConfig::default();
        let hop = cfg.hop();
        let mut x = noise(hop * 100, 1.0, 3);
        // A burst of white noise band-limited by construction: a sum of tones 20 dB over the floor
        // per bin, covering bins 600..640 (100 kHz..139 kHz above -fs/2 + 600 kHz).
        let (start, count) = (hop * 30 + 1000, hop * 20 + 77);
        let df = rate / cfg.fft_len as f64;
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for b in 600..640 {
            let f = (b as f64 - 512.0) * df;
            let mut y = vec![C32::new(0.0, 0.0); x.len()];
            tone_into(
                &mut y,
                f,
                rate,
                (100.0f32 / 1024.0).sqrt(),
                start..start + count,
            );
            let ph: f32 = rand::Rng::random_range(&mut rng, 0.0..std::f32::consts::TAU);
            let r = C32::new(ph.cos(), ph.sin());
            x.iter_mut().zip(&y).for_each(|(a, b)| *a += b * r);
        }
        let d = detect(&x, rate, &cfg);
        assert_eq!(d.len(), 1, "{d:?}");
        let d = &d[0];
        let (s, e) = (
            d.sample_start as i64,
            (d.sample_start + d.sample_count) as i64,
        );
        assert!(
            (s - start as i64).abs() <= hop as i64,
            "start {s} vs {start}"
        );
        assert!((e - (start + count) as i64).abs() <= hop as i64, "end {e}");
        let (lo, hi) = ((600.0 - 512.0 - 0.5) * df, (639.0 - 512.0 + 0.5) * df);
        assert!(
            (d.freq_lower_hz - lo).abs() <= df + 1e-6,
            "{} vs {lo}",
            d.freq_lower_hz
        );
        assert!(
            (d.freq_upper_hz - hi).abs() <= df + 1e-6,
            "{} vs {hi}",
            d.freq_upper_hz
        );
        assert!((d.snr_db - 20.0).abs() < 1.5, "snr {}", d.snr_db);
    }

    #[test]
    fn pure_noise_gives_false_alarms_at_the_configured_rate() {
        // Per-cell rate measured with min_cells = 1 (every crossing a region), at a pfa high
        // enough to count: 1024 bins x 400 rows = 409,600 cells at pfa 1e-3 -> ~410 expected.
        let cfg = DetectorConfig {
            pfa: 1e-3,
            min_cells: 1,
            gap_cells: 0,
            ..Default::default()
        };
        let x = noise(cfg.hop() * 400, 1.0, 5);
        let stft = Stft::new(cfg.fft_len);
        let cells = average_frames(&stft.power(&x), cfg.fft_len, cfg.average);
        let floor = noise_floor(&cells, cfg.fft_len, &cfg);
        let f = RegionFinder::new(floor.clone(), &cfg);
        let t = f.threshold();
        let over = cells
            .iter()
            .enumerate()
            .filter(|(i, c)| **c > t * floor[i % cfg.fft_len])
            .count();
        let rate = over as f64 / cells.len() as f64;
        // The floor is estimated, so allow a factor of two either way.
        assert!(rate > 0.5e-3 && rate < 2e-3, "false-alarm rate {rate}");
        // With the default settings (pfa 1e-4, regions of >= 4 cells) noise gives no detection.
        let d = detect(&x, 1e6, &DetectorConfig::default());
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn fragments_of_one_signal_merge_and_separate_signals_do_not() {
        let r = |row_first, row_last, bin_lo, bin_hi| Region {
            row_first,
            row_last,
            bin_lo,
            bin_hi,
            cells: 1,
            sum_ratio: 1.0,
        };
        let cfg = DetectorConfig::default(); // merge_gap_rows 6, gap_cells 1
        let m = merge_regions(
            vec![
                r(0, 10, 100, 140),  // a signal ...
                r(15, 30, 102, 139), // ... its continuation after a 4-row dip
                r(5, 8, 141, 150),   // ... a piece touching its band while it is on
                r(40, 50, 100, 140), // the same band 9 rows later: another burst
                r(0, 30, 300, 320),  // another signal at the same time
            ],
            &cfg,
        );
        assert_eq!(
            m.iter()
                .map(|x| (x.row_first, x.row_last, x.bin_lo, x.bin_hi))
                .collect::<Vec<_>>(),
            [(0, 30, 100, 150), (0, 30, 300, 320), (40, 50, 100, 140)]
        );
    }
}
