//! Decoding photos safely: the header is checked before any pixel is decoded, so a huge or
//! malformed file is refused with a clear message instead of exhausting memory.

use opencv::core::{Mat, Vector};
use opencv::imgcodecs;
use opencv::prelude::*;
use std::path::{Path, PathBuf};

/// Largest accepted file, in bytes.
pub const MAX_FILE_BYTES: usize = 40 * 1024 * 1024;
/// Largest accepted image, in pixels (width × height).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Longest accepted side, in pixels.
pub const MAX_SIDE: u64 = 16_384;

/// The photo formats Rollcall reads, as its messages name them.
const PHOTO_FORMATS: &str = "JPEG, PNG, HEIC, AVIF, BMP or WebP";

/// Why a photo could not be used, worded for the person who supplied it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImageError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is too big ({0} MB); use a photo under 40 MB.")]
    FileTooBig(usize),
    #[error("The photo is too large ({0} × {1} pixels); use one under 50 megapixels.")]
    TooManyPixels(u64, u64),
    #[error("This file is not a photo Rollcall can read; use a {PHOTO_FORMATS} image.")]
    NotAnImage,
    #[error(
        "HEIC and AVIF photos cannot be opened on this computer: its libheif is missing \
         (scripts/setup installs it). Save the photo as JPEG instead."
    )]
    NoHeifDecoder,
    #[error("This file is a video, not a photo; use a photo of the student ({PHOTO_FORMATS}).")]
    Video,
    #[error("The photo is damaged and could not be read.")]
    Damaged,
    #[error("The photo could not be opened: {0}")]
    Unreadable(String),
}

/// Decodes image bytes into a BGR `Mat`, honouring EXIF orientation.
pub fn decode_image(bytes: &[u8]) -> Result<Mat, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImageError::FileTooBig(bytes.len() / (1024 * 1024)));
    }
    // Only the formats Rollcall names are handed to OpenCV, and never a file its DICOM
    // decoder would claim ("DICM" at byte 128) or its GDAL one ("DTED" at byte 140; its
    // other mark, "NITF" at the start, no named format has): when a file fails the
    // signature check of the format it looks like, OpenCV tries its other decoders, and
    // the DICOM one aborts the whole process on malformed input (found by fuzzing, see
    // docs/fuzzing.md); GDAL's parses a temporary copy of it with a library of map
    // formats. HEIC and AVIF go to libheif instead.
    let format = imagesize::image_type(bytes).map_err(|_| ImageError::NotAnImage)?;
    if let imagesize::ImageType::Heif(_) = format {
        return match IsoMedia::of(bytes) {
            IsoMedia::Still => super::heif::decode(bytes, check_size),
            IsoMedia::Video => Err(ImageError::Video),
            IsoMedia::Other => Err(ImageError::NotAnImage),
        };
    }
    let named_format = matches!(
        format,
        imagesize::ImageType::Jpeg
            | imagesize::ImageType::Png
            | imagesize::ImageType::Bmp
            | imagesize::ImageType::Webp
    );
    let other_decoders = bytes.get(128..132) == Some(b"DICM".as_slice())
        || bytes.get(140..144) == Some(b"DTED".as_slice());
    if !named_format || other_decoders {
        return Err(ImageError::NotAnImage);
    }
    let size = imagesize::blob_size(bytes).map_err(|_| ImageError::NotAnImage)?;
    let (w, h) = (size.width as u64, size.height as u64);
    let flags = match check_size(w, h) {
        Ok(()) => imgcodecs::IMREAD_COLOR,
        Err(too_large) => jpeg_reduction(bytes, w, h).ok_or(too_large)?,
    };
    if is_jpeg(bytes) && !jpeg_is_complete(bytes) {
        return Err(ImageError::Damaged);
    }
    let buf = Vector::<u8>::from_slice(bytes);
    let mat = imgcodecs::imdecode(&buf, flags).map_err(|_| ImageError::Damaged)?;
    if mat.empty() {
        return Err(ImageError::Damaged);
    }
    Ok(mat)
}

/// What an ISO media file (one starting with an `ftyp` box, which photos in HEIC and AVIF
/// share with phones' videos and some cameras' raw photos) holds, by its brands.
#[derive(Debug, PartialEq)]
enum IsoMedia {
    /// A HEIF or AVIF picture: libheif reads it.
    Still,
    /// An MP4, QuickTime (`.MOV`) or 3GP video.
    Video,
    /// Anything else, such as a Canon raw photo (`crx `).
    Other,
}

impl IsoMedia {
    /// By the major brand first, then the compatible ones (a raw photo names `isom`
    /// among them, a HEIC names `mif1`).
    fn of(bytes: &[u8]) -> Self {
        const STILL: [&[u8; 4]; 15] = [
            b"mif1", b"mif2", b"miaf", b"msf1", b"heic", b"heix", b"heim", b"heis", b"hevc",
            b"hevx", b"avif", b"avis", b"avio", b"MA1A", b"MA1B",
        ];
        let still = |brand: &[u8]| STILL.iter().any(|s| s[..] == *brand);
        let video = |brand: &[u8]| {
            ["iso", "mp4", "mp7", "3gp", "3g2", "M4V"]
                .iter()
                .any(|p| brand.starts_with(p.as_bytes()))
                || [b"qt  ", b"avc1", b"dash", b"MSNV", b"mmp4", b"f4v "]
                    .iter()
                    .any(|b| b[..] == *brand)
        };
        let size = bytes
            .get(..4)
            .map_or(0, |s| u32::from_be_bytes(s.try_into().unwrap_or_default()))
            as usize;
        let ftyp = bytes.get(..size.min(bytes.len())).unwrap_or_default();
        // The major brand, the minor version (skipped), then the compatible brands.
        let major = ftyp.get(8..12).unwrap_or_default();
        let mut compatible = ftyp.get(16..).unwrap_or_default().chunks_exact(4);
        if still(major) {
            IsoMedia::Still
        } else if video(major) {
            IsoMedia::Video
        } else if compatible.any(still) {
            IsoMedia::Still
        } else {
            IsoMedia::Other
        }
    }
}

/// Refuses an image with no pixels, or too large to decode.
fn check_size(w: u64, h: u64) -> Result<(), ImageError> {
    if w == 0 || h == 0 {
        return Err(ImageError::Damaged);
    }
    if w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS {
        return Err(ImageError::TooManyPixels(w, h));
    }
    Ok(())
}

/// How to read a JPEG too large to decode whole: at a half or a quarter of its size, as
/// a phone's 108 or 200 megapixel mode saves them. libjpeg scales while it decodes, a row
/// of blocks at a time, so the full-size picture is never held. Only sequential JPEGs
/// (what cameras write): a progressive one keeps the whole picture's coefficients while
/// decoding, so it is refused as too large like any other photo. `None` when neither
/// scale brings it within the limits.
fn jpeg_reduction(bytes: &[u8], w: u64, h: u64) -> Option<i32> {
    if !is_jpeg(bytes) || !matches!(jpeg_frame_marker(bytes), Some(0xc0 | 0xc1)) {
        return None;
    }
    [
        (2, imgcodecs::IMREAD_REDUCED_COLOR_2),
        (4, imgcodecs::IMREAD_REDUCED_COLOR_4),
    ]
    .into_iter()
    .find(|(scale, _)| check_size(w.div_ceil(*scale), h.div_ceil(*scale)).is_ok())
    .map(|(_, flags)| flags)
}

/// The JPEG's start-of-frame marker (0xC0 baseline, 0xC1 extended sequential, 0xC2
/// progressive, …), read from the segments before the first scan.
fn jpeg_frame_marker(bytes: &[u8]) -> Option<u8> {
    JpegMarkers::new(bytes)
        .take_while(|m| !matches!(m, 0xd9 | 0xda))
        .find(|m| (0xc0..=0xcf).contains(m) && !matches!(m, 0xc4 | 0xc8 | 0xcc))
}

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xff, 0xd8])
}

/// A JPEG is complete when its markers, read from the start, reach the end-of-image marker
/// before the file ends (libjpeg would decode a cut-off file with its lower part grey).
/// Whatever follows that marker is not the picture's: a phone's "motion photo" appends its
/// video there, and looking for the markers from the file's end instead (until 2026-12-05)
/// found them in the video by chance and refused about a third of such photos as damaged.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    JpegMarkers::new(bytes).any(|m| m == 0xd9)
}

/// A JPEG's markers after its start-of-image, in file order: each segment's length is
/// skipped, and after a start-of-scan its compressed data. The walk ends after the
/// end-of-image marker, or where the file ends first (a segment or a scan cut off).
struct JpegMarkers<'a> {
    bytes: &'a [u8],
    /// Where the walk goes on from: just after the last marker read.
    at: usize,
    last: Option<u8>,
}

impl<'a> JpegMarkers<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        JpegMarkers {
            bytes,
            at: 2,
            last: None,
        }
    }
}

impl Iterator for JpegMarkers<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let bytes = self.bytes;
        let mut i = self.at;
        match self.last {
            Some(0xd9) => return None,
            // Markers that stand alone: restarts, TEM, and a stuffed zero out of place.
            None | Some(0x00 | 0x01 | 0xd0..=0xd7) => {}
            Some(marker) => {
                let length = bytes.get(i..i + 2)?;
                i += u16::from_be_bytes([length[0], length[1]]) as usize;
                if marker == 0xda {
                    // The scan's compressed data: a 0xFF in it is followed by a stuffed
                    // zero or a restart marker; any other marker ends it.
                    loop {
                        i = next_ff(bytes, i)?;
                        match bytes.get(i + 1)? {
                            0x00 | 0xd0..=0xd7 => i += 2,
                            _ => break,
                        }
                    }
                }
            }
        }
        // The next marker; bytes before it that are not one are skipped, as libjpeg does.
        i = next_ff(bytes, i)?;
        while bytes.get(i) == Some(&0xff) {
            i += 1;
        }
        let marker = *bytes.get(i)?;
        (self.at, self.last) = (i + 1, Some(marker));
        Some(marker)
    }
}

/// Where the next 0xFF byte from `from` is.
fn next_ff(bytes: &[u8], from: usize) -> Option<usize> {
    let at = bytes.get(from..)?.iter().position(|x| *x == 0xff)?;
    Some(from + at)
}

/// The file name extensions of the photos Rollcall reads.
pub const PHOTO_EXTENSIONS: [&str; 8] =
    ["jpg", "jpeg", "png", "heic", "heif", "avif", "bmp", "webp"];

/// Whether a path names a photo Rollcall reads (by its extension, in any letter case).
pub fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

fn entries_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| keep(p))
        .collect();
    v.sort();
    Ok(v)
}

/// The photo files in a folder, in name order.
pub fn images_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    entries_in(dir, |p| p.is_file() && is_image(p))
}

/// The sub-folders of a folder (one per person in a data set), in name order.
pub fn folders_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    entries_in(dir, Path::is_dir)
}

/// The last part of a path, as text (a person's folder name).
pub fn file_name_of(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Reads and decodes a photo file.
pub fn read_image_file(path: &Path) -> Result<Mat, ImageError> {
    let len = std::fs::metadata(path)
        .map_err(|e| ImageError::Unreadable(e.kind().to_string()))?
        .len();
    if len as usize > MAX_FILE_BYTES {
        return Err(ImageError::FileTooBig(len as usize / (1024 * 1024)));
    }
    let bytes = std::fs::read(path).map_err(|e| ImageError::Unreadable(e.kind().to_string()))?;
    decode_image(&bytes)
}

/// Encodes a BGR image as JPEG (quality 95); used for stored photos, which also drops any
/// metadata (such as GPS position) the original file carried.
pub fn encode_jpeg(bgr: &Mat) -> Result<Vec<u8>, opencv::Error> {
    let mut out = Vector::<u8>::new();
    let params = Vector::<i32>::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, 95]);
    imgcodecs::imencode(".jpg", bgr, &mut out, &params)?;
    Ok(out.to_vec())
}

/// A small RGBA copy of a BGR image, `side` pixels on its longer side, for thumbnails:
/// (width, height, pixels).
pub fn thumbnail_rgba(bgr: &Mat, side: i32) -> opencv::Result<(usize, usize, Vec<u8>)> {
    use opencv::core::Size;
    let scale = side as f64 / bgr.cols().max(bgr.rows()).max(1) as f64;
    let size = Size::new(
        ((bgr.cols() as f64 * scale).round() as i32).max(1),
        ((bgr.rows() as f64 * scale).round() as i32).max(1),
    );
    let mut small = Mat::default();
    opencv::imgproc::resize(bgr, &mut small, size, 0.0, 0.0, opencv::imgproc::INTER_AREA)?;
    let mut rgba = Mat::default();
    opencv::imgproc::cvt_color_def(&small, &mut rgba, opencv::imgproc::COLOR_BGR2RGBA)?;
    Ok((
        size.width as usize,
        size.height as usize,
        rgba.data_bytes()?.to_vec(),
    ))
}

/// A small JPEG of a face (its box with a margin, 96 pixels high) to keep with a mark.
pub fn face_snapshot(bgr: &Mat, face: &super::Face) -> Result<Vec<u8>, opencv::Error> {
    use opencv::core::{Rect, Size};
    let margin = 0.25 * face.width().max(face.height());
    let r = Rect::new(
        (face.x1 - margin) as i32,
        (face.y1 - margin) as i32,
        (face.width() + 2.0 * margin) as i32,
        (face.height() + 2.0 * margin) as i32,
    ) & Rect::new(0, 0, bgr.cols(), bgr.rows());
    if r.width <= 0 || r.height <= 0 {
        return Err(opencv::Error::new(
            opencv::core::StsBadArg,
            "face outside the image",
        ));
    }
    let crop = Mat::roi(bgr, r)?;
    let h = 96;
    let w = ((r.width as f64 * h as f64 / r.height as f64).round() as i32).max(1);
    let mut small = Mat::default();
    opencv::imgproc::resize(
        &crop,
        &mut small,
        Size::new(w, h),
        0.0,
        0.0,
        opencv::imgproc::INTER_AREA,
    )?;
    let mut out = Vector::<u8>::new();
    let params = Vector::<i32>::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, 80]);
    imgcodecs::imencode(".jpg", &small, &mut out, &params)?;
    Ok(out.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_non_image_bytes_are_refused() {
        assert_eq!(decode_image(b"").unwrap_err(), ImageError::Empty);
        assert_eq!(
            decode_image(b"hello, this is text").unwrap_err(),
            ImageError::NotAnImage
        );
    }

    #[test]
    fn iso_media_files_are_photos_videos_or_neither_by_their_brands() {
        let ftyp = |brands: &[&[u8; 4]]| {
            let size = 16 + 4 * (brands.len() - 1) as u32;
            let mut v = size.to_be_bytes().to_vec();
            v.extend(b"ftyp");
            v.extend(brands[0]);
            v.extend([0, 0, 0, 0]);
            brands[1..].iter().for_each(|b| v.extend(*b));
            // The next box, which must not be read as brands.
            v.extend(b"\0\0\0\x0cmeta\0\0\0\0heic");
            v
        };
        // An iPhone's HEIC, and a camera's AVIF naming its brand among compatible ones.
        assert_eq!(
            IsoMedia::of(&ftyp(&[b"heic", b"mif1", b"heic"])),
            IsoMedia::Still
        );
        assert_eq!(
            IsoMedia::of(&ftyp(&[b"mif1", b"mif1", b"avif"])),
            IsoMedia::Still
        );
        // An Android phone's MP4, an iPhone's MOV.
        let mp4 = ftyp(&[b"isom", b"isom", b"iso2", b"avc1", b"mp41"]);
        assert_eq!(IsoMedia::of(&mp4), IsoMedia::Video);
        assert_eq!(IsoMedia::of(&ftyp(&[b"qt  ", b"qt  "])), IsoMedia::Video);
        assert_eq!(
            decode_image(&ftyp(&[b"mp42", b"isom", b"mp42"])).unwrap_err(),
            ImageError::Video
        );
        // A Canon raw photo: not a video, though it names `isom`.
        let cr3 = ftyp(&[b"crx ", b"crx ", b"isom"]);
        assert_eq!(IsoMedia::of(&cr3), IsoMedia::Other);
        assert_eq!(decode_image(&cr3).unwrap_err(), ImageError::NotAnImage);
        assert_eq!(IsoMedia::of(b"\0\0\0\xffftyp"), IsoMedia::Other, "cut off");
    }

    #[test]
    fn formats_other_than_jpeg_png_bmp_webp_never_reach_opencv() {
        // A fuzzer's find: PNM-looking bytes with "DICM" at byte 128, which made OpenCV's
        // DICOM decoder abort the process.
        let mut crash = b"P1#uSIFF\n\x04P\n1  2 ".to_vec();
        crash.resize(128, 0xff);
        crash.extend_from_slice(b"DICMI \"");
        assert_eq!(decode_image(&crash).unwrap_err(), ImageError::NotAnImage);
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM");
        assert_eq!(decode_image(&dicom).unwrap_err(), ImageError::NotAnImage);
        assert_eq!(
            decode_image(b"P6\n2 2\n255\n............").unwrap_err(),
            ImageError::NotAnImage
        );
        // The second find: a broken WebP (no VP8 chunk) with "DICM" at byte 128.
        let mut webp = b"RIFFz\0\0\0WEBP\0\x09\x80 \x06\xfc \xea\x02\x08\x9b=".to_vec();
        webp.resize(128, 0x0d);
        webp.extend_from_slice(b"DICM");
        assert_eq!(decode_image(&webp).unwrap_err(), ImageError::NotAnImage);
        // Its kind with "DTED" at byte 140, which OpenCV hands to GDAL (the fuzzer's run
        // of 2026-12-06 reached it: "ERROR 4: `/tmp/__opencv_temp…` not recognized").
        let mut gdal = webp[..20].to_vec();
        gdal.resize(140, 0x0d);
        gdal.extend_from_slice(b"DTED");
        assert_eq!(decode_image(&gdal).unwrap_err(), ImageError::NotAnImage);
    }

    #[test]
    fn a_cut_off_jpeg_is_damaged() {
        let mut m = opencv::core::Mat::new_rows_cols_with_default(
            64,
            64,
            opencv::core::CV_8UC3,
            opencv::core::Scalar::all(90.0),
        )
        .unwrap();
        opencv::imgproc::circle(
            &mut m,
            opencv::core::Point::new(32, 32),
            20,
            opencv::core::Scalar::all(200.0),
            -1,
            opencv::imgproc::LINE_8,
            0,
        )
        .unwrap();
        let jpeg = encode_jpeg(&m).unwrap();
        assert!(decode_image(&jpeg).is_ok());
        assert_eq!(
            decode_image(&jpeg[..jpeg.len() - 40]).unwrap_err(),
            ImageError::Damaged
        );
    }

    #[test]
    fn what_follows_the_end_of_a_jpeg_does_not_make_it_damaged() {
        let m = opencv::core::Mat::new_rows_cols_with_default(
            48,
            64,
            opencv::core::CV_8UC3,
            opencv::core::Scalar::new(30.0, 120.0, 220.0, 0.0),
        )
        .unwrap();
        let jpeg = encode_jpeg(&m).unwrap();
        // A motion photo's video after the picture, holding a start-of-scan marker with no
        // end-of-image marker after it.
        let mut motion = jpeg.clone();
        motion.extend_from_slice(b"\0\0\0\x18ftypmp42");
        motion.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
        motion.extend_from_slice(&[0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 0xff]);
        assert!(jpeg_is_complete(&motion));
        assert_eq!(decode_image(&motion).unwrap().rows(), 48);
        // Cut anywhere before its end-of-image marker, it is damaged.
        for cut in [3, 20, jpeg.len() / 2, jpeg.len() - 1] {
            assert!(!jpeg_is_complete(&jpeg[..cut]), "cut at {cut}");
        }
        // Padding between segments is skipped, as libjpeg does.
        let mut padded = jpeg[..2].to_vec();
        padded.extend_from_slice(&[0, 0, 0]);
        padded.extend_from_slice(&jpeg[2..]);
        assert!(jpeg_is_complete(&padded));
    }

    #[test]
    fn a_phone_photo_over_fifty_megapixels_is_read_at_half_its_size() {
        // 9,000 × 6,000: 54 megapixels, over the limit; a smooth picture encodes small.
        let mut small = Mat::new_rows_cols_with_default(
            6,
            9,
            opencv::core::CV_8UC3,
            opencv::core::Scalar::all(0.0),
        )
        .unwrap();
        let (low, high) = (
            opencv::core::Scalar::all(0.0),
            opencv::core::Scalar::all(255.0),
        );
        opencv::core::randu(&mut small, &low, &high).unwrap();
        let mut big = Mat::default();
        opencv::imgproc::resize(
            &small,
            &mut big,
            opencv::core::Size::new(9_000, 6_000),
            0.0,
            0.0,
            opencv::imgproc::INTER_LINEAR,
        )
        .unwrap();
        let encode = |progressive: i32| {
            let mut out = Vector::<u8>::new();
            let params = Vector::from_slice(&[imgcodecs::IMWRITE_JPEG_PROGRESSIVE, progressive]);
            imgcodecs::imencode(".jpg", &big, &mut out, &params).unwrap();
            out.to_vec()
        };
        let sequential = encode(0);
        assert_eq!(jpeg_frame_marker(&sequential), Some(0xc0));
        let m = decode_image(&sequential).unwrap();
        assert_eq!((m.cols(), m.rows()), (4_500, 3_000));
        // A progressive one is held whole while decoding: refused as before.
        let progressive = encode(1);
        assert_eq!(jpeg_frame_marker(&progressive), Some(0xc2));
        assert_eq!(
            decode_image(&progressive).unwrap_err(),
            ImageError::TooManyPixels(9_000, 6_000)
        );
    }

    #[test]
    fn a_huge_declared_size_is_refused_before_decoding() {
        // A PNG header declaring 100000 × 100000 pixels, with no pixel data.
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            decode_image(&png).unwrap_err(),
            ImageError::TooManyPixels(100_000, 100_000)
        ));
    }
}
