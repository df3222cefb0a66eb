//! The two `image` 0.25 resamplers the visual features use (`thumbnail_exact`
//! and `resize_exact` with the triangle filter), written for 8-bit pixels held in
//! one slice: the same arithmetic in the same order, so the same bytes (a
//! trained model must see the features it was trained on; the tests compare
//! both on thousands of random images), without the generic per-pixel calls and
//! boxed kernel that made them half of an image prediction's CPU time.
//!
//! `N` is the number of channels; pixels are stored row by row.

/// `image::imageops::thumbnail` for 8-bit pixels.
pub fn thumbnail<const N: usize>(src: &[u8], width: u32, height: u32, nw: u32, nh: u32) -> Vec<u8> {
    let mut out = vec![0_u8; nw as usize * nh as usize * N];
    if width == 0 || height == 0 {
        return out;
    }
    let px = |x: u32, y: u32| -> &[u8] {
        let at = (y as usize * width as usize + x as usize) * N;
        &src[at..at + N]
    };
    // What each output column and row reads (the same for every row and column,
    // so computed once: `ceil` and `fract` are library calls here).
    // Each: the mean of the window's two fractional ends, and its whole pixels.
    let span = |len: u32, new_len: u32| -> Vec<(f32, u32, u32)> {
        let ratio = len as f32 / new_len as f32;
        (0..new_len)
            .map(|out| {
                let lowf = out as f32 * ratio;
                let highf = lowf + ratio;
                let low = (lowf.ceil() as u32).clamp(0, len - 1);
                let high = (highf.ceil() as u32).clamp(low, len);
                // (IEEE addition is commutative: the crate's `top + bottom` and
                // `left + right` orders give the same sum.)
                ((lowf.fract() + highf.fract()) / 2., low, high)
            })
            .collect()
    };
    let columns = span(width, nw);
    for (outy, &(frac_v, bottom, top)) in span(height, nh).iter().enumerate() {
        for (outx, &(frac_h, left, right)) in columns.iter().enumerate() {
            let at = (outy * nw as usize + outx) * N;
            let dst = &mut out[at..at + N];
            if bottom != top && left != right {
                // A block of whole pixels: the rounded integer mean.
                let mut sum = [0_u32; N];
                for y in bottom..top {
                    for x in left..right {
                        for (s, &v) in sum.iter_mut().zip(px(x, y)) {
                            *s += u32::from(v);
                        }
                    }
                }
                let n = (right - left) * (top - bottom);
                let round = n / 2;
                for (d, s) in dst.iter_mut().zip(sum) {
                    *d = ((s + round) / n).min(255) as u8;
                }
            } else if bottom != top {
                // Whole pixels down, a fraction across.
                let fract = frac_h;
                let x = right - 1;
                let (mut sum_left, mut sum_right) = ([0_u32; N], [0_u32; N]);
                for y in bottom..top {
                    for c in 0..N {
                        sum_left[c] += u32::from(px(x, y)[c]);
                        sum_right[c] += u32::from(px(x + 1, y)[c]);
                    }
                }
                let fact_right = fract / ((top - bottom) as f32);
                let fact_left = (1. - fract) / ((top - bottom) as f32);
                for c in 0..N {
                    dst[c] =
                        (fact_left * sum_left[c] as f32 + fact_right * sum_right[c] as f32) as u8;
                }
            } else if left != right {
                // Whole pixels across, a fraction down.
                let fract = frac_v;
                let y = top - 1;
                let (mut sum_bot, mut sum_top) = ([0_u32; N], [0_u32; N]);
                for x in left..right {
                    for c in 0..N {
                        sum_bot[c] += u32::from(px(x, y)[c]);
                        sum_top[c] += u32::from(px(x, y + 1)[c]);
                    }
                }
                let fact_top = fract / ((right - left) as f32);
                let fact_bot = (1. - fract) / ((right - left) as f32);
                for c in 0..N {
                    dst[c] = (fact_bot * sum_bot[c] as f32 + fact_top * sum_top[c] as f32) as u8;
                }
            } else {
                // Inside one pixel both ways: the four around, weighted.
                let (x, y) = (right - 1, top - 1);
                let fact_tr = frac_v * frac_h;
                let fact_tl = frac_v * (1. - frac_h);
                let fact_br = (1. - frac_v) * frac_h;
                let fact_bl = (1. - frac_v) * (1. - frac_h);
                let (p_bl, p_tl) = (px(x, y), px(x, y + 1));
                let (p_br, p_tr) = (px(x + 1, y), px(x + 1, y + 1));
                for (c, d) in dst.iter_mut().enumerate() {
                    let (bl, tl) = (f32::from(p_bl[c]), f32::from(p_tl[c]));
                    let (br, tr) = (f32::from(p_br[c]), f32::from(p_tr[c]));
                    *d = (fact_br * br + fact_tr * tr + fact_bl * bl + fact_tl * tl) as u8;
                }
            }
        }
    }
    out
}

/// The triangle filter's normalised weights for each output position along an
/// axis of `len` pixels resized to `new_len`: (first input index, weights).
fn triangle_weights(len: u32, new_len: u32) -> Vec<(u32, Vec<f32>)> {
    let ratio = len as f32 / new_len as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let src_support = sratio;
    (0..new_len)
        .map(|out| {
            let input = (out as f32 + 0.5) * ratio;
            let left = ((input - src_support).floor() as i64).clamp(0, i64::from(len) - 1) as u32;
            let right = ((input + src_support).ceil() as i64)
                .clamp(i64::from(left) + 1, i64::from(len)) as u32;
            let input = input - 0.5;
            let mut ws = Vec::with_capacity((right - left) as usize);
            let mut sum = 0.0;
            for i in left..right {
                let x = (i as f32 - input) / sratio;
                let w = if x.abs() < 1.0 { 1.0 - x.abs() } else { 0.0 };
                ws.push(w);
                sum += w;
            }
            for w in ws.iter_mut() {
                *w /= sum;
            }
            (left, ws)
        })
        .collect()
}

/// `image::imageops::resize(.., FilterType::Triangle)` for 8-bit pixels: rows
/// first into `f32`, then columns, rounded and clamped to 0..=255.
pub fn resize_triangle<const N: usize>(
    src: &[u8],
    width: u32,
    height: u32,
    nw: u32,
    nh: u32,
) -> Vec<u8> {
    if width == 0 || height == 0 {
        return vec![0_u8; nw as usize * nh as usize * N];
    }
    if (nw, nh) == (width, height) {
        return src.to_vec();
    }
    let (w, nwu) = (width as usize, nw as usize);
    let row_len = w * N;
    // Vertical pass: width × nh, in f32. Each sum adds the taps in the crate's
    // order (only the loops are turned, so that rows are read whole).
    let mut tmp = vec![0.0_f32; row_len * nh as usize];
    for (acc, (top, ws)) in tmp
        .chunks_exact_mut(row_len)
        .zip(triangle_weights(height, nh))
    {
        for (i, &wt) in ws.iter().enumerate() {
            let row = &src[(top as usize + i) * row_len..][..row_len];
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += f32::from(v) * wt;
            }
        }
    }
    // Horizontal pass: nw × nh, rounded.
    let columns = triangle_weights(width, nw);
    let mut out = vec![0_u8; nwu * nh as usize * N];
    for (row, out_row) in tmp.chunks_exact(row_len).zip(out.chunks_exact_mut(nwu * N)) {
        for ((left, ws), dst) in columns.iter().zip(out_row.chunks_exact_mut(N)) {
            let mut t = [0.0_f32; N];
            for (i, &wt) in ws.iter().enumerate() {
                let p = &row[(*left as usize + i) * N..][..N];
                for (a, &v) in t.iter_mut().zip(p) {
                    *a += v * wt;
                }
            }
            for (d, v) in dst.iter_mut().zip(t) {
                *d = round_to_u8(v);
            }
        }
    }
    out
}

/// `v.clamp(0, 255).round() as u8` without the library call: for 0 ≤ v ≤ 255,
/// `v - trunc(v)` is exact, and `round` goes up from one half.
fn round_to_u8(v: f32) -> u8 {
    let v = v.clamp(0.0, 255.0);
    let whole = v as u8;
    if v - f32::from(whole) >= 0.5 {
        whole + 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use image::imageops::{self, FilterType};
    use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

    use super::*;

    /// xorshift: the same "random" images on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u32) -> u32 {
            (self.next() % u64::from(n)) as u32
        }
    }

    /// Pixels mixing flat areas, gradients and noise (all 0..=255 values occur).
    fn pixels(rng: &mut Rng, len: usize) -> Vec<u8> {
        let style = rng.below(3);
        let mut last = rng.below(256) as u8;
        (0..len)
            .map(|i| {
                last = match style {
                    0 => rng.below(256) as u8,
                    1 => (i % 256) as u8,
                    _ if rng.below(8) == 0 => rng.below(256) as u8,
                    _ => last,
                };
                last
            })
            .collect()
    }

    fn image(rng: &mut Rng) -> DynamicImage {
        let (w, h) = (1 + rng.below(130), 1 + rng.below(130));
        let n = (w * h) as usize;
        match rng.below(4) {
            0 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels(rng, n)).unwrap()),
            1 => DynamicImage::ImageLumaA8(
                GrayAlphaImage::from_raw(w, h, pixels(rng, n * 2)).unwrap(),
            ),
            2 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels(rng, n * 3)).unwrap()),
            _ => DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, pixels(rng, n * 4)).unwrap()),
        }
    }

    #[test]
    fn rounding_matches_the_library_round() {
        let reference = |v: f32| v.clamp(0.0, 255.0).round() as u8;
        let mut rng = Rng(7);
        let mut values: Vec<f32> = (0..200_000)
            .map(|_| (rng.below(2_700_000) as f32 / 10_000.0) - 5.0)
            .collect();
        for k in -2..=257 {
            let half = k as f32 + 0.5;
            values.extend([
                f32::from_bits(half.to_bits() - 1),
                half,
                f32::from_bits(half.to_bits() + 1),
                k as f32,
            ]);
        }
        for v in values {
            assert_eq!(round_to_u8(v), reference(v), "{v:e}");
        }
    }

    #[test]
    fn thumbnail_and_resize_give_the_crates_bytes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..400 {
            let (w, h) = (1 + rng.below(90), 1 + rng.below(90));
            let (nw, nh) = (1 + rng.below(90), 1 + rng.below(90));
            let src = RgbImage::from_raw(w, h, pixels(&mut rng, (w * h * 3) as usize)).unwrap();
            assert_eq!(
                thumbnail::<3>(src.as_raw(), w, h, nw, nh),
                imageops::thumbnail(&src, nw, nh).into_raw(),
                "thumbnail {w}x{h} -> {nw}x{nh}"
            );
            assert_eq!(
                resize_triangle::<3>(src.as_raw(), w, h, nw, nh),
                imageops::resize(&src, nw, nh, FilterType::Triangle).into_raw(),
                "resize {w}x{h} -> {nw}x{nh}"
            );
            let grey = GrayImage::from_raw(w, h, pixels(&mut rng, (w * h) as usize)).unwrap();
            assert_eq!(
                thumbnail::<1>(grey.as_raw(), w, h, nw, nh),
                imageops::thumbnail(&grey, nw, nh).into_raw(),
                "grey thumbnail {w}x{h} -> {nw}x{nh}"
            );
        }
    }

    #[test]
    fn visual_features_are_the_same_as_through_the_crate() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..600 {
            let img = image(&mut rng);
            assert_eq!(
                crate::ml::visual::features(&img),
                crate::ml::visual::features_generic(&img),
                "{:?} {}x{}",
                img.color(),
                img.width(),
                img.height()
            );
        }
    }
}
