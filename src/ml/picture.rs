//! Image checks at upload and prediction: only PNG, JPEG and WebP, at most
//! [`MAX_IMAGE_BYTES`] and [`MAX_SIDE`] pixels a side, decoded for real (a file
//! that only looks like an image is refused), with a JPEG thumbnail made at once.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::models::input::ImageData;

/// Largest image file accepted.
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;
/// Largest width or height accepted.
pub const MAX_SIDE: u32 = 8192;
/// Longest side of a thumbnail.
pub const THUMBNAIL_SIDE: u32 = 192;

/// The MIME type of an accepted format.
fn mime_of(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Png => Some("image/png"),
        ImageFormat::Jpeg => Some("image/jpeg"),
        ImageFormat::WebP => Some("image/webp"),
        _ => None,
    }
}

/// Decodes an image after checking its size and format; the message says what is wrong.
pub fn decode(bytes: &[u8]) -> Result<(DynamicImage, &'static str), String> {
    if bytes.is_empty() {
        return Err("The file is empty.".to_owned());
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "The image is {:.1} MB; images can be at most {} MB.",
            bytes.len() as f64 / (1024.0 * 1024.0),
            MAX_IMAGE_BYTES / (1024 * 1024)
        ));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("The file could not be read: {e}"))?;
    let mime = match reader.format().and_then(mime_of) {
        Some(m) => m,
        None => {
            return Err(match reader.format() {
                Some(f) => format!(
                    "{} images are not accepted: upload PNG, JPEG or WebP.",
                    f.extensions_str()
                        .first()
                        .copied()
                        .unwrap_or("This kind of")
                        .to_uppercase()
                ),
                None => "This is not an image: upload PNG, JPEG or WebP.".to_owned(),
            })
        }
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    let mut reader = reader;
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            format!("The image is too large: at most {MAX_SIDE}×{MAX_SIDE} pixels.")
        }
        other => format!("The image could not be decoded: {other}"),
    })?;
    Ok((img, mime))
}

/// A JPEG thumbnail of at most [`THUMBNAIL_SIDE`] pixels a side.
pub fn thumbnail(img: &DynamicImage) -> Result<Vec<u8>, String> {
    let small = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let rgb = DynamicImage::ImageRgb8(flatten_on_white(&small));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode_image(&rgb)
        .map_err(|e| format!("The thumbnail could not be made: {e}"))?;
    Ok(out)
}

/// RGB pixels, with any transparency laid over white.
pub fn flatten_on_white(img: &DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        // Opaque: blending over white changes nothing (c * 255 / 255 = c).
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    image::RgbImage::from_fn(w, h, |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([blend(p[0]), blend(p[1]), blend(p[2])])
    })
}

/// Checks an uploaded image and prepares what is stored: the original bytes, the
/// thumbnail, the MIME type and the size.
pub fn prepare(bytes: Vec<u8>) -> Result<ImageData, String> {
    let (img, mime) = decode(&bytes)?;
    let thumbnail = thumbnail(&img)?;
    Ok(ImageData {
        width: img.width(),
        height: img.height(),
        thumbnail,
        mime: mime.to_owned(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("png");
        out
    }

    #[test]
    fn opaque_images_flatten_as_if_blended() {
        let grey = image::GrayImage::from_fn(9, 7, |x, y| image::Luma([(x * 29 + y * 31) as u8]));
        let with_alpha = image::GrayAlphaImage::from_fn(9, 7, |x, y| {
            image::LumaA([grey.get_pixel(x, y).0[0], 255])
        });
        assert_eq!(
            flatten_on_white(&DynamicImage::ImageLuma8(grey)),
            flatten_on_white(&DynamicImage::ImageLumaA8(with_alpha))
        );
        let half = image::RgbaImage::from_pixel(2, 2, image::Rgba([0, 0, 0, 128]));
        let flat = flatten_on_white(&DynamicImage::ImageRgba8(half));
        assert_eq!(flat.get_pixel(0, 0).0, [127, 127, 127]);
    }

    #[test]
    fn accepts_real_images_and_refuses_the_rest() {
        let data = prepare(png(300, 200)).expect("png accepted");
        assert_eq!(
            (data.width, data.height, data.mime.as_str()),
            (300, 200, "image/png")
        );
        let (thumb, _) = decode(&data.thumbnail).expect("thumbnail decodes");
        assert_eq!((thumb.width(), thumb.height()), (192, 128));
        assert!(prepare(b"hello, I am text".to_vec())
            .unwrap_err()
            .contains("not an image"));
        assert!(prepare(Vec::new()).unwrap_err().contains("empty"));
        let mut truncated = png(50, 50);
        truncated.truncate(60);
        assert!(prepare(truncated)
            .unwrap_err()
            .contains("could not be decoded"));
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
        assert!(prepare(gif).unwrap_err().contains("not accepted"));
    }
}
