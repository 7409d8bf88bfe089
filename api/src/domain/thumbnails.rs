//! Thumbnails: a photo's longest side brought down to 320 pixels, for lists and timelines.
//! Decoding is bounded (dimensions and memory), so a small file that claims a huge image
//! cannot exhaust a node.
use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use super::photos::ImageKind;

/// The longest side of a thumbnail, in pixels.
pub const LONGEST_SIDE: u32 = 320;

/// The thumbnail of `bytes` (JPEG, PNG or WebP) as a JPEG, or `None` for a HEIC photo (not
/// decoded here: its thumbnail is the photo) or an image that cannot be decoded within bounds.
pub fn thumbnail(bytes: &[u8], kind: ImageKind) -> Option<Vec<u8>> {
    let format = match kind {
        ImageKind::Jpeg => ImageFormat::Jpeg,
        ImageKind::Png => ImageFormat::Png,
        ImageKind::WebP => ImageFormat::WebP,
        ImageKind::Heic => return None,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    // A 48-megapixel phone photo (8000 × 6000) fits; anything larger is its own thumbnail.
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    limits.max_alloc = Some(160 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().ok()?;
    let small = image.thumbnail(LONGEST_SIDE, LONGEST_SIDE).into_rgb8();
    let mut out = Cursor::new(Vec::new());
    small.write_to(&mut out, ImageFormat::Jpeg).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_side_becomes_320_and_the_shape_stays() {
        let big = image::RgbImage::from_pixel(1200, 800, image::Rgb([200, 30, 30]));
        let mut png = Cursor::new(Vec::new());
        big.write_to(&mut png, ImageFormat::Png).unwrap();
        let thumb = thumbnail(png.get_ref(), ImageKind::Png).unwrap();
        let decoded = image::load_from_memory(&thumb).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (320, 213));
        assert!(thumbnail(b"not an image", ImageKind::Jpeg).is_none());
        assert!(thumbnail(&thumb, ImageKind::Heic).is_none());
    }
}
