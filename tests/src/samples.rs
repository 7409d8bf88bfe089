//! Sample images with a fake GPS marker in their metadata.
pub const SECRET: &[u8] = b"GPS-39.9087N-116.3975E";

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// SOI, JFIF, an EXIF APP1 carrying the marker, a quantisation table, a frame, a scan, EOI.
pub fn jpeg_with_exif() -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    exif.extend_from_slice(SECRET);
    out.extend(segment(0xE1, &exif));
    out.extend(segment(0xDB, &[0u8; 65]));
    out.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
    out.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
    out.extend_from_slice(&[0x12, 0x34, 0x56, 0xFF, 0xD9]);
    out
}

/// What phones write: a primary image (EXIF-free, with an MPF index in APP2 and an ICC
/// profile), then a second image (a gain map, say) whose own EXIF carries the marker.
pub fn jpeg_with_secondary_image() -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    out.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01profile"));
    out.extend(segment(0xE2, b"MPF\0MM\0*\0\0\0\x08\0\0"));
    out.extend(segment(0xDB, &[0u8; 65]));
    out.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
    out.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
    out.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]);
    out.extend(jpeg_with_exif());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
    out
}

/// A 1×1 PNG with an eXIf and a tEXt chunk carrying the marker.
pub fn png_with_metadata() -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    out.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
    let mut exif = b"MM\0*\0\0\0\x08".to_vec();
    exif.extend_from_slice(SECRET);
    out.extend(chunk(b"eXIf", &exif));
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(SECRET);
    out.extend(chunk(b"tEXt", &text));
    out.extend(chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 2, 0, 1]));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// A HEIF file whose item 1 is an `Exif` item stored in `mdat`, carrying the marker.
pub fn heic_with_exif() -> Vec<u8> {
    let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
    let hdlr = bx(b"hdlr", b"\0\0\0\0\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let infe = bx(b"infe", b"\x02\0\0\0\0\x01\0\0Exif\0");
    let mut iinf_payload = b"\0\0\0\0\0\x01".to_vec();
    iinf_payload.extend(infe);
    let iinf = bx(b"iinf", &iinf_payload);
    let exif_len = (6 + SECRET.len()) as u32;
    // The iloc needs the absolute offset of the data; build once to learn the layout.
    let build = |offset: u32| {
        let mut iloc = b"\0\0\0\0\x44\0\0\x01\0\x01\0\0\0\x01".to_vec(); // v0, 4-byte offsets/lengths, 1 item
        iloc.extend_from_slice(&offset.to_be_bytes());
        iloc.extend_from_slice(&exif_len.to_be_bytes());
        let mut meta_payload = b"\0\0\0\0".to_vec();
        meta_payload.extend(hdlr.clone());
        meta_payload.extend(iinf.clone());
        meta_payload.extend(bx(b"iloc", &iloc));
        let mut file = ftyp.clone();
        file.extend(bx(b"meta", &meta_payload));
        file
    };
    let head = build(0);
    let offset = (head.len() + 8) as u32;
    let mut file = build(offset);
    let mut data = b"Exif\0\0".to_vec();
    data.extend_from_slice(SECRET);
    file.extend(bx(b"mdat", &data));
    file
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
