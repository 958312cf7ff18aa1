//! PNG figures: accuracy against SNR (several runs on one plot), confusion-matrix heatmaps
//! with class names, training curves. Text uses the bundled DejaVu Sans (no system fonts).

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::path::Path;
use std::sync::Once;

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        let _ = register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

fn draw_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow!("drawing {}: {e:?}", path.display())
}

/// Accuracy against SNR, one line per `(label, points)`.
pub fn accuracy_vs_snr(
    path: &Path,
    title: &str,
    series: &[(String, Vec<(f32, f64)>)],
) -> Result<()> {
    lines(path, title, "SNR (dB)", "accuracy", 1.0, series)
}

/// Lines `(label, points)` on one chart with the y axis on `[0, y_max]`. The legend goes
/// where rising curves (accuracy) end empty, or falling ones (error) when `y_desc` says error.
pub fn lines(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    y_max: f64,
    series: &[(String, Vec<(f32, f64)>)],
) -> Result<()> {
    fonts();
    let e = draw_err(path);
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.0))
        .fold((f32::MAX, f32::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (-20.0, 20.0) };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(lo..hi, 0.0f64..y_max)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(&e)?;
    for (i, (label, pts)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                color.stroke_width(3),
            ))
            .map_err(&e)?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
        chart
            .draw_series(
                pts.iter()
                    .map(|p| Circle::new((p.0, p.1), 4, color.filled())),
            )
            .map_err(&e)?;
    }
    chart
        .configure_series_labels()
        .position(if y_desc.contains("error") {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        })
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// Row-normalised confusion matrix heatmap (`m[true][pred]`) with class names and percentages.
pub fn confusion(path: &Path, title: &str, classes: &[String], m: &[Vec<usize>]) -> Result<()> {
    fonts();
    let e = draw_err(path);
    let n = classes.len();
    let cell = 56u32;
    let (left, top) = (110u32, 60u32);
    let size = (left + cell * n as u32 + 20, top + cell * n as u32 + 110);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    root.draw(&Text::new(
        title.to_string(),
        (left as i32, 20),
        ("sans-serif", 22),
    ))
    .map_err(&e)?;
    for (t, row) in m.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (p, &v) in row.iter().enumerate() {
            let f = if total > 0 {
                v as f64 / total as f64
            } else {
                0.0
            };
            let x0 = (left + p as u32 * cell) as i32;
            let y0 = (top + t as u32 * cell) as i32;
            let shade = (255.0 * (1.0 - f)) as u8;
            let color = RGBColor(shade, shade, 255);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + cell as i32, y0 + cell as i32)],
                color.filled(),
            ))
            .map_err(&e)?;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + cell as i32, y0 + cell as i32)],
                BLACK.mix(0.2),
            ))
            .map_err(&e)?;
            if total > 0 && v > 0 {
                let txt_color = if f > 0.5 { WHITE } else { BLACK };
                let label = format!("{:.0}", 100.0 * f);
                root.draw(&Text::new(
                    label,
                    (x0 + 14, y0 + 18),
                    ("sans-serif", 16).into_font().color(&txt_color),
                ))
                .map_err(&e)?;
            }
        }
        root.draw(&Text::new(
            classes[t].clone(),
            (8, (top + t as u32 * cell + 18) as i32),
            ("sans-serif", 15),
        ))
        .map_err(&e)?;
    }
    for (p, name) in classes.iter().enumerate() {
        let x = (left + p as u32 * cell + cell / 2) as i32;
        let y = (top + n as u32 * cell + 8) as i32;
        let style = ("sans-serif", 15)
            .into_font()
            .transform(FontTransform::Rotate90);
        root.draw(&Text::new(name.clone(), (x + 6, y), style))
            .map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(())
}

/// Training curves: loss (train, valid) and accuracy (train, valid) per epoch.
pub fn training_curves(path: &Path, history: &[specmine_nn::train::EpochMetrics]) -> Result<()> {
    fonts();
    let e = draw_err(path);
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (left, right) = root.split_horizontally(600);
    let n = history.len().max(2) as f64;
    let max_loss = history
        .iter()
        .flat_map(|m| [m.train_loss, m.val_loss])
        .fold(0.0f64, f64::max)
        .max(1e-3);
    for (area, title, ymax, get) in [
        (
            &left,
            "loss",
            max_loss * 1.05,
            (|m: &specmine_nn::train::EpochMetrics| (m.train_loss, m.val_loss))
                as fn(&specmine_nn::train::EpochMetrics) -> (f64, f64),
        ),
        (&right, "accuracy", 1.0, |m| (m.train_acc, m.val_acc)),
    ] {
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(1.0..n, 0.0..ymax)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(&e)?;
        for (i, name) in ["train", "valid"].iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    history
                        .iter()
                        .map(|m| (m.epoch as f64, if i == 0 { get(m).0 } else { get(m).1 })),
                    color.stroke_width(3),
                ))
                .map_err(&e)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(())
}

/// Spectrogram of a recording (`px`: `[h][w]` row-major dB over the noise floor, time down,
/// frequency across) with each mined detection drawn as a labelled box.
#[allow(clippy::too_many_arguments)]
pub fn spectrogram(
    path: &Path,
    px: &[f32],
    w: usize,
    h: usize,
    sample_rate_hz: f64,
    center_hz: f64,
    samples: u64,
    found: &[crate::mine::Found],
) -> Result<()> {
    fonts();
    let e = draw_err(path);
    let (left, top, bottom) = (70u32, 40u32, 40u32);
    let size = (left + w as u32 + 20, top + h as u32 + bottom);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    root.draw(&Text::new(
        format!(
            "{} detections, {:.3} s at {:.2} MS/s, centre {:.3} MHz (colour: dB over floor, 0-30)",
            found.len(),
            samples as f64 / sample_rate_hz,
            sample_rate_hz / 1e6,
            center_hz / 1e6
        ),
        (left as i32, 12),
        ("sans-serif", 16),
    ))
    .map_err(&e)?;
    // Colour map: dark blue (floor) through green and yellow to red (30 dB over).
    let colour = |db: f32| {
        let t = (db / 30.0).clamp(0.0, 1.0) as f64;
        HSLColor(0.66 * (1.0 - t), 0.9, 0.12 + 0.45 * t.sqrt())
    };
    for y in 0..h {
        for x in 0..w {
            let v = px[y * w + x];
            let c = if v == f32::MIN {
                HSLColor(0.66, 0.9, 0.12)
            } else {
                colour(v)
            };
            root.draw_pixel((left as i32 + x as i32, top as i32 + y as i32), &c)
                .map_err(&e)?;
        }
    }
    let fx = |f_hz: f64| left as i32 + ((f_hz / sample_rate_hz + 0.5) * w as f64) as i32;
    let ty = |s: u64| top as i32 + ((s as f64 / samples.max(1) as f64) * h as f64) as i32;
    for fd in found {
        let (x0, x1) = (
            fx(fd.det.freq_lower_hz),
            fx(fd.det.freq_upper_hz).max(fx(fd.det.freq_lower_hz) + 1),
        );
        let (y0, y1) = (
            ty(fd.det.sample_start),
            ty(fd.det.sample_start + fd.det.sample_count),
        );
        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], WHITE.stroke_width(2)))
            .map_err(&e)?;
        root.draw(&Text::new(
            format!("{} {:.0}%", fd.label, 100.0 * fd.confidence),
            (x0, (y0 - 14).max(top as i32)),
            ("sans-serif", 13).into_font().color(&WHITE),
        ))
        .map_err(&e)?;
    }
    // Axis labels: frequency at the bottom, time on the left.
    for k in 0..=4 {
        let f = (k as f64 / 4.0 - 0.5) * sample_rate_hz;
        root.draw(&Text::new(
            format!("{:+.2} MHz", f / 1e6),
            (fx(f) - 30, (top + h as u32 + 8) as i32),
            ("sans-serif", 13),
        ))
        .map_err(&e)?;
        let s = samples * k / 4;
        root.draw(&Text::new(
            format!("{:.1} ms", 1e3 * s as f64 / sample_rate_hz),
            (4, ty(s) - 6),
            ("sans-serif", 13),
        ))
        .map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(())
}
