//! The visual classifier: features computed with the `image` crate (a 16×16
//! grey-level picture, an 8×8 colour picture and per-channel colour histograms),
//! standardised, and a multinomial logistic regression (`linfa-logistic`, L-BFGS,
//! L2 penalty as scikit-learn's `C = 1`).

use image::imageops::FilterType;
use image::DynamicImage;
use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};

use crate::ml::picture::flatten_on_white;
use crate::ml::MlError;

const GREY_SIDE: u32 = 16;
const COLOUR_SIDE: u32 = 8;
const BINS: usize = 8;
/// Length of a feature vector.
pub const FEATURES: usize =
    (GREY_SIDE * GREY_SIDE) as usize + (COLOUR_SIDE * COLOUR_SIDE * 3) as usize + 3 * BINS;
/// L2 penalty.
pub const ALPHA: f64 = 1.0;
/// L-BFGS iterations at most.
pub const MAX_ITERATIONS: u64 = 200;

/// The side of the square picture every feature is computed from.
const BASE_SIDE: u32 = 64;

/// The feature vector of an image (values in 0..1).
///
/// 8-bit sRGB images (all that PNG, JPEG and WebP uploads decode to, in
/// practice) take [`crate::ml::resample`]'s copies of the resamplers; any other
/// pixel type or colour space takes the `image` crate's. Both give the same bytes.
pub fn features(img: &DynamicImage) -> Vec<f32> {
    use crate::ml::resample::thumbnail;
    if img.color_space() != image::metadata::Cicp::SRGB {
        return features_generic(img);
    }
    let (w, h, side) = (img.width(), img.height(), BASE_SIDE);
    let rgb: Vec<u8> = match img {
        DynamicImage::ImageRgb8(b) => thumbnail::<3>(b.as_raw(), w, h, side, side),
        DynamicImage::ImageLuma8(b) => thumbnail::<1>(b.as_raw(), w, h, side, side)
            .into_iter()
            .flat_map(|l| [l; 3])
            .collect(),
        DynamicImage::ImageRgba8(b) => thumbnail::<4>(b.as_raw(), w, h, side, side)
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]].map(|c| on_white(c, p[3])))
            .collect(),
        DynamicImage::ImageLumaA8(b) => thumbnail::<2>(b.as_raw(), w, h, side, side)
            .chunks_exact(2)
            .flat_map(|p| [on_white(p[0], p[1]); 3])
            .collect(),
        _ => return features_generic(img),
    };
    features_of_base(&rgb)
}

/// A channel blended over white, as [`flatten_on_white`] does.
fn on_white(c: u8, a: u8) -> u8 {
    let a = u16::from(a);
    ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8
}

/// The features of the 64×64 RGB picture (row by row, 3 bytes a pixel).
fn features_of_base(rgb: &[u8]) -> Vec<f32> {
    use crate::ml::resample::resize_triangle;
    let mut hist = [[0_u32; BINS]; 3];
    for p in rgb.chunks_exact(3) {
        for (c, &v) in p.iter().enumerate() {
            hist[c][usize::from(v) * BINS / 256] += 1;
        }
    }
    let total = (rgb.len() / 3).max(1) as f32;
    let mut out = Vec::with_capacity(FEATURES);
    let side = BASE_SIDE;
    let grey = resize_triangle::<3>(rgb, side, side, GREY_SIDE, GREY_SIDE);
    let grey = image::RgbImage::from_raw(GREY_SIDE, GREY_SIDE, grey)
        .map(|g| DynamicImage::ImageRgb8(g).to_luma8())
        .expect("the resized picture has GREY_SIDE² pixels");
    out.extend(grey.pixels().map(|p| f32::from(p.0[0]) / 255.0));
    let colour = resize_triangle::<3>(rgb, side, side, COLOUR_SIDE, COLOUR_SIDE);
    out.extend(colour.iter().map(|&c| f32::from(c) / 255.0));
    out.extend(hist.iter().flatten().map(|&n| n as f32 / total));
    out
}

/// The features through the `image` crate's own resamplers, for any image.
pub(crate) fn features_generic(img: &DynamicImage) -> Vec<f32> {
    let rgb = flatten_on_white(&img.thumbnail_exact(BASE_SIDE, BASE_SIDE));
    let mut hist = [[0_u32; BINS]; 3];
    for p in rgb.pixels() {
        for (c, &v) in p.0.iter().enumerate() {
            hist[c][usize::from(v) * BINS / 256] += 1;
        }
    }
    let total = (rgb.width() * rgb.height()).max(1) as f32;
    let base = DynamicImage::ImageRgb8(rgb);
    let mut out = Vec::with_capacity(FEATURES);
    let grey = base
        .resize_exact(GREY_SIDE, GREY_SIDE, FilterType::Triangle)
        .to_luma8();
    out.extend(grey.pixels().map(|p| f32::from(p.0[0]) / 255.0));
    let colour = base
        .resize_exact(COLOUR_SIDE, COLOUR_SIDE, FilterType::Triangle)
        .to_rgb8();
    out.extend(
        colour
            .pixels()
            .flat_map(|p| p.0)
            .map(|c| f32::from(c) / 255.0),
    );
    out.extend(hist.iter().flatten().map(|&n| n as f32 / total));
    out
}

/// A trained visual classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct VisualModel {
    n_classes: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// `weights[f * n_classes + c]`.
    weights: Vec<f32>,
    intercept: Vec<f32>,
}

/// Trains on feature rows (each [`FEATURES`] long) with class indices `labels`.
pub fn train(
    rows: &[Vec<f32>],
    labels: &[usize],
    n_classes: usize,
) -> Result<VisualModel, MlError> {
    let n = rows.len();
    if n == 0 {
        return Err(MlError::Internal("no training rows".to_owned()));
    }
    let d = FEATURES;
    let mut mean = vec![0.0_f64; d];
    for r in rows {
        for (m, &v) in mean.iter_mut().zip(r) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0_f64; d];
    for r in rows {
        for ((s, &v), m) in var.iter_mut().zip(r).zip(&mean) {
            *s += (f64::from(v) - m).powi(2);
        }
    }
    let scale: Vec<f64> = var
        .iter()
        .map(|s| {
            let sd = (s / n as f64).sqrt();
            if sd < 1e-6 {
                1.0
            } else {
                sd
            }
        })
        .collect();
    let mut x = Array2::<f64>::zeros((n, d));
    for (i, r) in rows.iter().enumerate() {
        for j in 0..d {
            x[[i, j]] = (f64::from(r[j]) - mean[j]) / scale[j];
        }
    }
    let y = Array1::from(labels.to_vec());
    let dataset = Dataset::new(x, y);
    let fitted = MultiLogisticRegression::default()
        .alpha(ALPHA)
        .max_iterations(MAX_ITERATIONS)
        .fit(&dataset)
        .map_err(|e| MlError::Internal(format!("logistic regression: {e}")))?;
    // Map linfa's columns (the classes it saw, sorted) onto our class indices;
    // a class it never saw can never win.
    let mut weights = vec![0.0_f32; d * n_classes];
    let mut intercept = vec![-1e9_f32; n_classes];
    for (col, &class) in fitted.classes().iter().enumerate() {
        if class >= n_classes {
            continue;
        }
        intercept[class] = fitted.intercept()[col] as f32;
        for f in 0..d {
            weights[f * n_classes + class] = fitted.params()[[f, col]] as f32;
        }
    }
    Ok(VisualModel {
        n_classes,
        mean: mean.iter().map(|&m| m as f32).collect(),
        scale: scale.iter().map(|&s| s as f32).collect(),
        weights,
        intercept,
    })
}

impl VisualModel {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.n_classes
    }

    /// A probability per class (softmax of the linear scores).
    pub fn predict(&self, features: &[f32]) -> Vec<f32> {
        let k = self.n_classes;
        let mut scores: Vec<f64> = self.intercept.iter().map(|&b| f64::from(b)).collect();
        for (f, &v) in features.iter().enumerate().take(self.mean.len()) {
            let z = f64::from((v - self.mean[f]) / self.scale[f]);
            if z == 0.0 {
                continue;
            }
            let row = &self.weights[f * k..(f + 1) * k];
            for (s, &w) in scores.iter_mut().zip(row) {
                *s += z * f64::from(w);
            }
        }
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        exps.iter().map(|e| (e / sum) as f32).collect()
    }

    /// Serialises the model (little-endian numbers).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.n_classes as u32).to_le_bytes());
        out.extend_from_slice(&(self.mean.len() as u32).to_le_bytes());
        for v in self
            .mean
            .iter()
            .chain(&self.scale)
            .chain(&self.weights)
            .chain(&self.intercept)
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads what [`VisualModel::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<VisualModel, MlError> {
        let bad = || MlError::Corrupt("visual model".to_owned());
        let word = |i: usize| -> Result<u32, MlError> {
            let b = bytes.get(i * 4..i * 4 + 4).ok_or_else(bad)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let k = word(0)? as usize;
        let d = word(1)? as usize;
        if d != FEATURES || k == 0 {
            return Err(bad());
        }
        let floats: Vec<f32> = bytes
            .get(8..)
            .ok_or_else(bad)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if floats.len() != 2 * d + d * k + k {
            return Err(bad());
        }
        Ok(VisualModel {
            n_classes: k,
            mean: floats[..d].to_vec(),
            scale: floats[d..2 * d].to_vec(),
            weights: floats[2 * d..2 * d + d * k].to_vec(),
            intercept: floats[2 * d + d * k..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(r: u8, g: u8, b: u8, noise: u8) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(20, 20, |x, y| {
            let n = ((x * 7 + y * 13) % u32::from(noise.max(1))) as u8;
            image::Rgb([
                r.saturating_add(n),
                g.saturating_add(n),
                b.saturating_add(n),
            ])
        }))
    }

    #[test]
    fn learns_colours_and_round_trips() {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..12_u8 {
            rows.push(features(&solid(200, 20, 20, i + 1)));
            labels.push(0);
            rows.push(features(&solid(20, 20, 200, i + 1)));
            labels.push(1);
        }
        assert_eq!(rows[0].len(), FEATURES);
        let m = train(&rows, &labels, 2).expect("trains");
        let red = m.predict(&features(&solid(210, 30, 30, 5)));
        assert!(red[0] > 0.9, "{red:?}");
        let back = VisualModel::from_bytes(&m.to_bytes()).expect("parses");
        assert_eq!(back, m);
        assert!(VisualModel::from_bytes(&[1, 2, 3]).is_err());
    }
}
