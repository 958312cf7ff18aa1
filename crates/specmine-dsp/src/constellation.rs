//! Symbol constellations with unit average power.
//!
//! Tables are indexed by the bit pattern of a symbol: PSK, ASK/PAM and square QAM are Gray
//! mapped (neighbouring points differ in one bit); APSK is Gray mapped within its power-of-two rings, with
//! ring sizes after DVB-S2/S2X (ETSI EN 302 307); cross QAM (32, 128) admits no perfect Gray
//! map and uses raster order. Bits are uniform, so the map only matters for bit-level uses; the
//! point set is what a classifier sees.

use crate::{C32, Modulation};
use std::f64::consts::PI;

/// Binary-reflected Gray code of `k`.
pub fn gray(k: usize) -> usize {
    k ^ (k >> 1)
}

fn from_positions(points: Vec<C32>) -> Vec<C32> {
    // points are in geometric order; entry gray(p) of the table is the point at position p.
    // Rings of other sizes (12, 20, ... in APSK) have no cyclic Gray code: raster order.
    if !points.len().is_power_of_two() {
        return points;
    }
    let mut table = vec![C32::new(0.0, 0.0); points.len()];
    for (p, pt) in points.into_iter().enumerate() {
        table[gray(p)] = pt;
    }
    table
}

fn normalize(mut pts: Vec<C32>) -> Vec<C32> {
    let p = pts.iter().map(|c| c.norm_sqr() as f64).sum::<f64>() / pts.len() as f64;
    let g = (1.0 / p.sqrt()) as f32;
    pts.iter_mut().for_each(|c| *c *= g);
    pts
}

/// M-PSK with the first point at `offset_rad`.
pub fn psk(m: usize, offset_rad: f64) -> Vec<C32> {
    normalize(from_positions(
        (0..m)
            .map(|k| {
                let a = offset_rad + 2.0 * PI * k as f64 / m as f64;
                C32::new(a.cos() as f32, a.sin() as f32)
            })
            .collect(),
    ))
}

/// Bipolar M-level amplitude shift keying (M-PAM) on the real axis: levels -(M-1)..(M-1), odd.
pub fn pam(m: usize) -> Vec<C32> {
    normalize(from_positions(
        (0..m)
            .map(|k| C32::new((2 * k) as f32 - (m as f32 - 1.0), 0.0))
            .collect(),
    ))
}

/// On-off keying: amplitudes 0 and 1 (unit average power after scaling).
pub fn ook() -> Vec<C32> {
    normalize(vec![C32::new(0.0, 0.0), C32::new(1.0, 0.0)])
}

/// Square M-QAM (M = 4^k): Gray-mapped PAM on each axis, I from the high bits.
pub fn square_qam(m: usize) -> Vec<C32> {
    let side = (m as f64).sqrt().round() as usize;
    assert_eq!(side * side, m, "square QAM needs a square order");
    let bits = side.trailing_zeros();
    let level = |p: usize| (2 * p) as f32 - (side as f32 - 1.0);
    let mut table = vec![C32::new(0.0, 0.0); m];
    for pi in 0..side {
        for pq in 0..side {
            table[(gray(pi) << bits) | gray(pq)] = C32::new(level(pi), level(pq));
        }
    }
    normalize(table)
}

/// Cross QAM (32 or 128): the square grid one size up with its corners removed.
pub fn cross_qam(m: usize) -> Vec<C32> {
    let (side, corner) = match m {
        32 => (6usize, 1usize),
        128 => (12, 2),
        _ => panic!("cross QAM is defined here for 32 and 128 points"),
    };
    let mut pts = Vec::with_capacity(m);
    for i in 0..side {
        for q in 0..side {
            let in_corner = |a: usize| a < corner || a >= side - corner;
            if in_corner(i) && in_corner(q) {
                continue;
            }
            pts.push(C32::new(
                (2 * i) as f32 - (side as f32 - 1.0),
                (2 * q) as f32 - (side as f32 - 1.0),
            ));
        }
    }
    assert_eq!(pts.len(), m);
    normalize(pts)
}

/// APSK from rings of (points, radius); alternate rings are rotated by half a point spacing.
pub fn apsk(rings: &[(usize, f64)]) -> Vec<C32> {
    let mut pts = Vec::new();
    for (r_idx, &(n, radius)) in rings.iter().enumerate() {
        let offset = if r_idx % 2 == 0 { PI / n as f64 } else { 0.0 };
        let ring: Vec<C32> = (0..n)
            .map(|k| {
                let a = offset + 2.0 * PI * k as f64 / n as f64;
                C32::new((radius * a.cos()) as f32, (radius * a.sin()) as f32)
            })
            .collect();
        pts.extend(from_positions(ring));
    }
    normalize(pts)
}

/// The constellation of a linearly modulated class, or `None` for the others.
pub fn for_modulation(m: Modulation) -> Option<Vec<C32>> {
    use Modulation::*;
    Some(match m {
        Ook => ook(),
        Pam4 => pam(4),
        Ask8 => pam(8),
        Bpsk => psk(2, 0.0),
        Qpsk | Oqpsk => psk(4, PI / 4.0),
        Psk8 => psk(8, 0.0),
        Psk16 => psk(16, 0.0),
        Psk32 => psk(32, 0.0),
        // DVB-S2 ring ratios (code rate 3/4 for 16APSK, 4/5 for 32APSK); S2X-like for 64/128.
        Apsk16 => apsk(&[(4, 1.0), (12, 2.57)]),
        Apsk32 => apsk(&[(4, 1.0), (12, 2.53), (16, 4.30)]),
        Apsk64 => apsk(&[(4, 1.0), (12, 2.4), (20, 4.3), (28, 7.0)]),
        Apsk128 => apsk(&[(8, 1.0), (16, 2.0), (24, 3.0), (32, 4.0), (48, 5.0)]),
        Qam16 => square_qam(16),
        Qam32 => cross_qam(32),
        Qam64 => square_qam(64),
        Qam128 => cross_qam(128),
        Qam256 => square_qam(256),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_power(pts: &[C32]) -> bool {
        let p: f32 = pts.iter().map(|c| c.norm_sqr()).sum::<f32>() / pts.len() as f32;
        (p - 1.0).abs() < 1e-5
    }

    #[test]
    fn every_constellation_has_the_right_size_unit_power_and_distinct_points() {
        let sizes = [
            (Modulation::Ook, 2),
            (Modulation::Pam4, 4),
            (Modulation::Ask8, 8),
            (Modulation::Bpsk, 2),
            (Modulation::Qpsk, 4),
            (Modulation::Psk8, 8),
            (Modulation::Psk16, 16),
            (Modulation::Psk32, 32),
            (Modulation::Apsk16, 16),
            (Modulation::Apsk32, 32),
            (Modulation::Apsk64, 64),
            (Modulation::Apsk128, 128),
            (Modulation::Qam16, 16),
            (Modulation::Qam32, 32),
            (Modulation::Qam64, 64),
            (Modulation::Qam128, 128),
            (Modulation::Qam256, 256),
        ];
        for (m, n) in sizes {
            let pts = for_modulation(m).unwrap();
            assert_eq!(pts.len(), n, "{m}");
            assert!(unit_power(&pts), "{m}");
            for i in 0..n {
                for j in i + 1..n {
                    assert!(
                        (pts[i] - pts[j]).norm() > 1e-3,
                        "{m}: points {i} and {j} coincide"
                    );
                }
            }
        }
    }

    #[test]
    fn psk_and_square_qam_are_gray_mapped() {
        // Nearest neighbours differ in exactly one bit.
        for pts in [
            psk(8, 0.0),
            psk(16, 0.0),
            square_qam(16),
            square_qam(64),
            pam(8),
        ] {
            let dmin = (0..pts.len())
                .flat_map(|i| (0..pts.len()).filter(move |&j| j != i).map(move |j| (i, j)))
                .map(|(i, j)| (pts[i] - pts[j]).norm())
                .fold(f32::INFINITY, f32::min);
            for i in 0..pts.len() {
                for j in 0..pts.len() {
                    if i != j && (pts[i] - pts[j]).norm() < dmin * 1.01 {
                        assert_eq!((i ^ j).count_ones(), 1, "{i} vs {j}");
                    }
                }
            }
        }
    }
}
