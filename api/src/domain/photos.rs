//! Photos: what an upload is, judged by its bytes, and the same image without the metadata that
//! gives residents away (EXIF: GPS position, camera, time; XMP and text chunks likewise).
//!
//! JPEG, PNG and WebP are rewritten without their metadata segments (img-parts). A JPEG is first
//! cut at the end of its first image: phones append further images after it (MPF: depth maps,
//! gain maps, previews), each with EXIF of its own, GPS included, and the MPF index that points
//! to them goes too (an ICC profile, also APP2, stays). HEIC keeps its
//! layout: the payload of every `Exif` item and of XMP `mime` items is overwritten with zeros in
//! place, so offsets inside the file stay valid. A HEIC whose boxes cannot be read is refused
//! rather than stored with its metadata.
use img_parts::{Bytes, ImageEXIF, jpeg::Jpeg, png::Png, webp::WebP};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    WebP,
    Heic,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::WebP => "image/webp",
            ImageKind::Heic => "image/heic",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::WebP => "webp",
            ImageKind::Heic => "heic",
        }
    }
}

/// The image kind from the file's signature, whatever its name or declared type says.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageKind::Jpeg);
    }
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(ImageKind::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(ImageKind::WebP);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        let heif = [
            b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
        ];
        if heif.iter().any(|b| brand == *b) {
            return Some(ImageKind::Heic);
        }
    }
    None
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read the image: {0}")]
pub struct StripError(pub String);

/// The image without location, camera and other metadata.
pub fn strip_metadata(kind: ImageKind, bytes: Vec<u8>) -> Result<Vec<u8>, StripError> {
    let bad = |e: img_parts::Error| StripError(e.to_string());
    match kind {
        ImageKind::Jpeg => {
            let mut bytes = bytes;
            match jpeg_first_image_len(&bytes) {
                Some(end) => bytes.truncate(end),
                // Without a clean end, another image inside cannot be told from the first one's
                // data, and would be kept with its metadata: refused rather than stored.
                None if bytes.windows(3).skip(2).any(|w| w == [0xFF, 0xD8, 0xFF]) => {
                    return Err(StripError(
                        "a JPEG whose first image does not end cleanly holds another image".into(),
                    ));
                }
                None => {}
            }
            let mut jpeg = Jpeg::from_bytes(Bytes::from(bytes)).map_err(bad)?;
            // APP1 carries EXIF and XMP, APP13 Photoshop/IPTC; none is needed to show the image.
            for marker in [0xE1, 0xED] {
                jpeg.remove_segments_by_marker(marker);
            }
            jpeg.segments_mut()
                .retain(|s| !(s.marker() == 0xE2 && s.contents().starts_with(b"MPF\0")));
            Ok(jpeg.encoder().bytes().to_vec())
        }
        ImageKind::Png => {
            let mut png = Png::from_bytes(Bytes::from(bytes)).map_err(bad)?;
            png.set_exif(None);
            for chunk in [*b"tEXt", *b"iTXt", *b"zTXt", *b"tIME"] {
                png.remove_chunks_by_type(chunk);
            }
            Ok(png.encoder().bytes().to_vec())
        }
        ImageKind::WebP => {
            let mut webp = WebP::from_bytes(Bytes::from(bytes)).map_err(bad)?;
            webp.set_exif(None);
            webp.remove_chunks_by_id(*b"XMP ");
            Ok(webp.encoder().bytes().to_vec())
        }
        ImageKind::Heic => heic::blank_metadata(bytes),
    }
}

/// The length of a JPEG's first image, up to and including its end-of-image marker: markers and
/// their segments are walked, and after each start of scan the entropy-coded data up to the
/// next marker that is neither a stuffed `FF 00` nor a restart. `None` when no end is found (a
/// truncated file has no second image after it either).
pub fn jpeg_first_image_len(b: &[u8]) -> Option<usize> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    loop {
        // Stray bytes between segments are skipped, as decoders (and img-parts) do.
        while *b.get(i)? != 0xFF {
            i += 1;
        }
        while *b.get(i)? == 0xFF {
            i += 1; // fill bytes
        }
        let marker = b[i];
        i += 1;
        match marker {
            0xD9 => return Some(i),
            0xD0..=0xD7 | 0x01 => continue,
            0x00 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
        if len < 2 {
            return None;
        }
        i = i.checked_add(len).filter(|end| *end <= b.len())?;
        if marker == 0xDA {
            // Entropy-coded data: `FF 00` is a stuffed byte, `FF D0`–`FF D7` a restart, and
            // `FF FF` a fill byte before a marker.
            loop {
                let at = i + b.get(i..)?.iter().position(|&x| x == 0xFF)?;
                match *b.get(at + 1)? {
                    0x00 | 0xD0..=0xD7 => i = at + 2,
                    _ => {
                        i = at;
                        break;
                    }
                }
            }
        }
    }
}

/// Just enough ISO base media file format (ISO/IEC 14496-12, HEIF 23008-12) to find metadata items.
mod heic {
    use super::StripError;

    fn err(what: &str) -> StripError {
        StripError(format!("HEIC: {what}"))
    }

    struct Reader<'a> {
        buf: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        fn uint(&mut self, bytes: usize) -> Result<u64, StripError> {
            if bytes == 0 {
                return Ok(0);
            }
            let end = self
                .pos
                .checked_add(bytes)
                .filter(|e| *e <= self.buf.len())
                .ok_or_else(|| err("truncated"))?;
            let v = self.buf[self.pos..end]
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            self.pos = end;
            Ok(v)
        }
        fn fourcc(&mut self) -> Result<[u8; 4], StripError> {
            let end = self
                .pos
                .checked_add(4)
                .filter(|e| *e <= self.buf.len())
                .ok_or_else(|| err("truncated"))?;
            let mut out = [0; 4];
            out.copy_from_slice(&self.buf[self.pos..end]);
            self.pos = end;
            Ok(out)
        }
    }

    /// (type, payload start, box end) of each box in `buf[start..end]`.
    fn boxes(
        buf: &[u8],
        start: usize,
        end: usize,
    ) -> Result<Vec<([u8; 4], usize, usize)>, StripError> {
        let mut out = Vec::new();
        let mut pos = start;
        while pos + 8 <= end {
            let mut r = Reader { buf, pos };
            let size = r.uint(4)?;
            let kind = r.fourcc()?;
            let (header, size) = match size {
                1 => (16, r.uint(8)?),
                0 => (8, (end - pos) as u64),
                n => (8, n),
            };
            let box_end = pos
                .checked_add(size as usize)
                .filter(|e| *e <= end && size >= header)
                .ok_or_else(|| err("bad box size"))?;
            out.push((kind, pos + header as usize, box_end));
            pos = box_end;
        }
        Ok(out)
    }

    /// Item ids whose payload is metadata: `Exif` items, and `mime` items (XMP).
    fn metadata_items(buf: &[u8], start: usize, end: usize) -> Result<Vec<u32>, StripError> {
        let mut r = Reader { buf, pos: start };
        let version = r.uint(1)?;
        r.uint(3)?;
        let count = if version == 0 { r.uint(2)? } else { r.uint(4)? };
        let mut ids = Vec::new();
        for (kind, payload, box_end) in boxes(buf, r.pos, end)?.into_iter().take(count as usize) {
            if &kind != b"infe" {
                continue;
            }
            let mut e = Reader { buf, pos: payload };
            let v = e.uint(1)?;
            e.uint(3)?;
            if v < 2 {
                continue;
            }
            let id = if v == 2 { e.uint(2)? } else { e.uint(4)? } as u32;
            e.uint(2)?; // protection index
            let item_type = e.fourcc()?;
            if (&item_type == b"Exif" || &item_type == b"mime") && e.pos <= box_end {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// (offset, length) in the file of each extent of the wanted items.
    fn extents(buf: &[u8], start: usize, wanted: &[u32]) -> Result<Vec<(u64, u64)>, StripError> {
        let mut r = Reader { buf, pos: start };
        let version = r.uint(1)?;
        r.uint(3)?;
        let sizes = r.uint(2)?;
        let (offset_size, length_size, base_size) =
            ((sizes >> 12) & 0xF, (sizes >> 8) & 0xF, (sizes >> 4) & 0xF);
        let index_size = if version == 1 || version == 2 {
            sizes & 0xF
        } else {
            0
        };
        let count = if version < 2 { r.uint(2)? } else { r.uint(4)? };
        let mut out = Vec::new();
        for _ in 0..count {
            let id = if version < 2 { r.uint(2)? } else { r.uint(4)? } as u32;
            let method = if version == 1 || version == 2 {
                r.uint(2)? & 0xF
            } else {
                0
            };
            r.uint(2)?; // data reference index
            let base = r.uint(base_size as usize)?;
            let n = r.uint(2)?;
            for _ in 0..n {
                r.uint(index_size as usize)?;
                let off = r.uint(offset_size as usize)?;
                let len = r.uint(length_size as usize)?;
                if wanted.contains(&id) {
                    if method != 0 {
                        return Err(err("metadata stored by reference"));
                    }
                    out.push((base + off, len));
                }
            }
        }
        Ok(out)
    }

    pub fn blank_metadata(mut bytes: Vec<u8>) -> Result<Vec<u8>, StripError> {
        let top = boxes(&bytes, 0, bytes.len())?;
        let (_, meta_start, meta_end) = *top
            .iter()
            .find(|(k, ..)| k == b"meta")
            .ok_or_else(|| err("no meta box"))?;
        // `meta` is a full box: version and flags first.
        let children = boxes(&bytes, meta_start + 4, meta_end)?;
        let wanted = match children.iter().find(|(k, ..)| k == b"iinf") {
            Some((_, s, e)) => metadata_items(&bytes, *s, *e)?,
            None => vec![],
        };
        if wanted.is_empty() {
            return Ok(bytes);
        }
        let (_, iloc_start, _) = *children
            .iter()
            .find(|(k, ..)| k == b"iloc")
            .ok_or_else(|| err("no iloc box"))?;
        for (offset, len) in extents(&bytes, iloc_start, &wanted)? {
            let (start, end) = (offset as usize, offset.saturating_add(len) as usize);
            let slice = bytes
                .get_mut(start..end)
                .ok_or_else(|| err("extent outside the file"))?;
            slice.fill(0);
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn a_jpeg_ends_after_its_first_image() {
        let mut first = vec![0xFF, 0xD8];
        first.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        first.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        // Entropy data with a stuffed byte, a restart marker and fill bytes, then a second scan.
        first.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        first.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        first.extend_from_slice(&[0x78, 0xFF, 0xFF, 0xD9]);
        let mut file = first.clone();
        file.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 4, b'G', b'P', 0xFF, 0xD9]);
        assert_eq!(jpeg_first_image_len(&file), Some(first.len()));
        assert_eq!(jpeg_first_image_len(&first[..first.len() - 2]), None);
        // A stray byte between segments does not hide the end.
        let mut padded = first.clone();
        padded.insert(2, 0x00);
        assert_eq!(jpeg_first_image_len(&padded), Some(first.len() + 1));
        // No clean end, and a second image inside: refused, not stored whole.
        let mut broken = first[..first.len() - 2].to_vec();
        broken.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 4, b'G', b'P']);
        assert!(strip_metadata(ImageKind::Jpeg, broken).is_err());
        assert_eq!(jpeg_first_image_len(b"not a jpeg"), None);
    }

    #[test]
    fn sniffing_goes_by_bytes() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(ImageKind::WebP));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some(ImageKind::Heic));
        assert_eq!(sniff(b"GIF89a......"), None);
        assert_eq!(sniff(b"<svg xmlns="), None);
    }
}
