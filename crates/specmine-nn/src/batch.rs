//! From in-memory examples to tensors: stratified splits and batches.

use burn::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use specmine_dsp::augment::Augment;
use specmine_dsp::generator::Examples;
use std::collections::BTreeMap;

/// Index lists into one [`Examples`].
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// Split stratified by (class, SNR): each cell is shuffled with `seed` and cut by the fractions,
/// so every split sees every cell in the same proportion.
pub fn stratified_split(ex: &Examples, valid_frac: f64, test_frac: f64, seed: u64) -> Split {
    let mut cells: BTreeMap<(u16, i64), Vec<usize>> = BTreeMap::new();
    for i in 0..ex.len() {
        cells
            .entry((ex.labels[i], (ex.snrs_db[i] * 1000.0).round() as i64))
            .or_default()
            .push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Split {
        train: vec![],
        valid: vec![],
        test: vec![],
    };
    for (_, mut idx) in cells {
        idx.shuffle(&mut rng);
        let n = idx.len();
        let nv = (n as f64 * valid_frac).round() as usize;
        let nt = ((n as f64 * test_frac).round() as usize).min(n - nv);
        s.valid.extend(&idx[..nv]);
        s.test.extend(&idx[nv..nv + nt]);
        s.train.extend(&idx[nv + nt..]);
    }
    s
}

/// Indices whose SNR lies in `[lo, hi]`.
pub fn snr_filter(ex: &Examples, idx: &[usize], lo: f32, hi: f32) -> Vec<usize> {
    idx.iter()
        .copied()
        .filter(|&i| ex.snrs_db[i] >= lo && ex.snrs_db[i] <= hi)
        .collect()
}

/// A batch as tensors.
pub struct Batch {
    /// `[batch, 2, 1, L]`
    pub x: Tensor<4>,
    /// `[batch]`
    pub y: Tensor<1, Int>,
    pub labels: Vec<u16>,
}

/// Gather `idx` into a `[B, 2, 1, L]` tensor of I/Q, applying `augment` with `rng` when
/// given; or, with `image = Some([c, h, w])` (see [`crate::Model::image_shape`]), into a
/// `[B, c, h, w]` tensor of images, each example's `2 L = c h w` values read in row-major
/// order (the I/Q augmentations do not apply to images and are skipped).
pub fn make_batch(
    ex: &Examples,
    idx: &[usize],
    augment: Option<(&Augment, &mut ChaCha8Rng)>,
    image: Option<[usize; 3]>,
    device: &Device,
) -> Batch {
    let l = ex.vector_len;
    let b = idx.len();
    let labels: Vec<u16> = idx.iter().map(|&i| ex.labels[i]).collect();
    let y: Vec<i64> = labels.iter().map(|&v| v as i64).collect();
    let y = Tensor::from_data(TensorData::new(y, [b]), device);
    if let Some([c, h, w]) = image {
        assert_eq!(
            c * h * w,
            2 * l,
            "image shape {c}x{h}x{w} for {l}-sample examples"
        );
        let x: Vec<f32> = idx
            .iter()
            .flat_map(|&i| ex.vector(i).iter().copied())
            .collect();
        return Batch {
            x: Tensor::from_data(TensorData::new(x, [b, c, h, w]), device),
            y,
            labels,
        };
    }
    let mut x = vec![0f32; b * 2 * l];
    let mut tmp = vec![0f32; 2 * l];
    let mut aug = augment;
    for (j, &i) in idx.iter().enumerate() {
        tmp.copy_from_slice(ex.vector(i));
        if let Some((a, rng)) = aug.as_mut() {
            a.apply(&mut tmp, *rng);
        }
        let (xi, xq) = x[j * 2 * l..(j + 1) * 2 * l].split_at_mut(l);
        for t in 0..l {
            xi[t] = tmp[2 * t];
            xq[t] = tmp[2 * t + 1];
        }
    }
    Batch {
        x: Tensor::from_data(TensorData::new(x, [b, 2, 1, l]), device),
        y,
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use specmine_dsp::generator::GeneratorConfig;

    #[test]
    fn splits_are_stratified_disjoint_and_complete() {
        let ex = GeneratorConfig {
            snrs_db: vec![0.0, 10.0],
            ..GeneratorConfig::rml2016()
        }
        .generate(10, 1)
        .unwrap();
        let s = stratified_split(&ex, 0.2, 0.1, 7);
        let mut all: Vec<usize> = s
            .train
            .iter()
            .chain(&s.valid)
            .chain(&s.test)
            .copied()
            .collect();
        all.sort();
        assert_eq!(all, (0..ex.len()).collect::<Vec<_>>());
        // 10 per cell: 2 validation, 1 test, 7 train in every (class, SNR) cell.
        assert_eq!(s.valid.len(), 22 * 2);
        assert_eq!(s.test.len(), 22);
        assert_eq!(stratified_split(&ex, 0.2, 0.1, 7), s);
        assert_eq!(snr_filter(&ex, &s.train, 5.0, 20.0).len(), 11 * 7);
    }

    #[test]
    fn batches_put_i_and_q_in_channels() {
        let ex = GeneratorConfig {
            snrs_db: vec![0.0],
            ..GeneratorConfig::rml2016()
        }
        .generate(1, 1)
        .unwrap();
        let b = make_batch(&ex, &[3, 5], None, None, &Device::flex());
        assert_eq!(b.x.dims(), [2, 2, 1, 128]);
        let v: Vec<f32> = b.x.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v[0], ex.vector(3)[0]);
        assert_eq!(v[128], ex.vector(3)[1]);
        assert_eq!(v[256 + 1], ex.vector(5)[2]);
        assert_eq!(b.labels, vec![ex.labels[3], ex.labels[5]]);
    }
}
