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
    let x_ratio = width as f32 / nw as f32;
    let y_ratio = height as f32 / nh as f32;
    for outy in 0..nh {
        let bottomf = outy as f32 * y_ratio;
        let topf = bottomf + y_ratio;
        let bottom = (bottomf.ceil() as u32).clamp(0, height - 1);
        let top = (topf.ceil() as u32).clamp(bottom, height);
        for outx in 0..nw {
            let leftf = outx as f32 * x_ratio;
            let rightf = leftf + x_ratio;
            let left = (leftf.ceil() as u32).clamp(0, width - 1);
            let right = (rightf.ceil() as u32).clamp(left, width);
            let at = (outy as usize * nw as usize + outx as usize) * N;
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
                let fract = (leftf.fract() + rightf.fract()) / 2.;
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
                let fract = (topf.fract() + bottomf.fract()) / 2.;
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
                let frac_v = (topf.fract() + bottomf.fract()) / 2.;
                let frac_h = (leftf.fract() + rightf.fract()) / 2.;
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
    // Vertical pass: width × nh, in f32.
    let mut tmp = vec![0.0_f32; w * nh as usize * N];
    for (outy, (top, ws)) in triangle_weights(height, nh).into_iter().enumerate() {
        for x in 0..w {
            let mut t = [0.0_f32; N];
            for (i, &wt) in ws.iter().enumerate() {
                let at = ((top as usize + i) * w + x) * N;
                for c in 0..N {
                    t[c] += f32::from(src[at + c]) * wt;
                }
            }
            let at = (outy * w + x) * N;
            tmp[at..at + N].copy_from_slice(&t);
        }
    }
    // Horizontal pass: nw × nh, rounded.
    let mut out = vec![0_u8; nwu * nh as usize * N];
    for (outx, (left, ws)) in triangle_weights(width, nw).into_iter().enumerate() {
        for y in 0..nh as usize {
            let mut t = [0.0_f32; N];
            for (i, &wt) in ws.iter().enumerate() {
                let at = (y * w + left as usize + i) * N;
                for c in 0..N {
                    t[c] += tmp[at + c] * wt;
                }
            }
            let at = (y * nwu + outx) * N;
            for c in 0..N {
                out[at + c] = t[c].clamp(0.0, 255.0).round() as u8;
            }
        }
    }
    out
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
