//! Awkward photos, generated from real ones: damaged, huge, odd formats, rotated, tiny,
//! empty of faces and crowded with them. Each says what Rollcall should make of it.

use super::{faceless_jpeg, photos};
use opencv::core::{Mat, Rect, Vector, CV_16UC3};
use opencv::prelude::*;
use opencv::{core, imgcodecs, imgproc};

/// What should become of a photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Refused before any face is looked for; the message names the problem.
    Unreadable(&'static str),
    /// Read, but no face to use.
    NoFace,
    /// Several people of similar size: enrolment refuses it.
    Crowd,
    /// A good photo of the person.
    Usable,
    /// Damaged in a way a decoder may or may not notice: anything but a crash.
    Either,
}

/// One generated photo.
pub struct BadPhoto {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

fn encode(ext: &str, m: &Mat) -> Vec<u8> {
    let mut out = Vector::<u8>::new();
    imgcodecs::imencode(ext, m, &mut out, &Vector::new()).unwrap();
    out.to_vec()
}

fn read(path: &std::path::Path) -> Mat {
    imgcodecs::imread(path.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap()
}

/// A PNG whose header claims `w`×`h` pixels, with a tiny body: a decompression bomb.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    v.extend(13u32.to_be_bytes());
    v.extend(&ihdr);
    v.extend(crc32(&ihdr).to_be_bytes());
    v.extend(0u32.to_be_bytes());
    v.extend(b"IEND");
    v.extend(crc32(b"IEND").to_be_bytes());
    v
}

/// A JPEG whose frame header claims `w`×`h`: the same bomb in JPEG form.
fn jpeg_bomb(real: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut v = real.to_vec();
    let sof = v
        .windows(2)
        .position(|x| x == [0xff, 0xc0])
        .expect("a baseline JPEG");
    v[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    v[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    v
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A JPEG with an EXIF orientation tag inserted after its start marker.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend(1u16.to_be_bytes()); // one entry
    tiff.extend(0x0112u16.to_be_bytes()); // Orientation
    tiff.extend(3u16.to_be_bytes()); // SHORT
    tiff.extend(1u32.to_be_bytes());
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0]);
    tiff.extend(0u32.to_be_bytes()); // no next IFD
    let mut payload = b"Exif\x00\x00".to_vec();
    payload.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xff, 0xe1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

/// A CMYK JPEG (as print workflows make) of a BGR image.
fn cmyk_jpeg(bgr: &Mat) -> Vec<u8> {
    let (w, h) = (bgr.cols() as u16, bgr.rows() as u16);
    let mut cmyk = Vec::with_capacity(w as usize * h as usize * 4);
    for p in bgr.data_bytes().unwrap().chunks(3) {
        let (b, g, r) = (p[0] as f32, p[1] as f32, p[2] as f32);
        let k = 255.0 - r.max(g).max(b);
        let scale = if k >= 255.0 { 0.0 } else { 255.0 / (255.0 - k) };
        let c = (255.0 - r - k) * scale;
        let m = (255.0 - g - k) * scale;
        let y = (255.0 - b - k) * scale;
        // The encoder writes them inverted, as Adobe's CMYK JPEGs are.
        cmyk.extend([c as u8, m as u8, y as u8, k as u8]);
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&cmyk, w, h, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    out
}

/// Eight faces in a 4 × 2 grid.
fn crowd() -> Mat {
    let people = super::people_with_at_least("lfw-dev", 8);
    let mut grid =
        Mat::new_rows_cols_with_default(300, 600, core::CV_8UC3, core::Scalar::all(0.0)).unwrap();
    for i in 0..8 {
        let face = read(&photos("lfw-dev", &people[40 + i])[0]);
        let mut roi = Mat::roi_mut(
            &mut grid,
            Rect::new((i % 4) as i32 * 150, (i / 4) as i32 * 150, 150, 150),
        )
        .unwrap();
        face.copy_to(&mut roi).unwrap();
    }
    grid
}

/// `face` converted by ImageMagick to the format of `ext` (HEIC and AVIF through libheif's
/// encoders; `scripts/setup` installs both).
pub fn converted(face: &std::path::Path, ext: &str) -> Vec<u8> {
    let out = tempfile::Builder::new()
        .suffix(&format!(".{ext}"))
        .tempfile()
        .unwrap();
    let done = std::process::Command::new("convert")
        .arg(face)
        .arg(out.path())
        .status()
        .expect("ImageMagick's convert (scripts/setup installs it)");
    assert!(done.success(), "convert to {ext}");
    std::fs::read(out.path()).unwrap()
}

/// `bgr` as a camera's 10-bit (HDR) HEIC saves it: libheif's own encoder from a 16-bit
/// PNG (ImageMagick writes 8 bits only; `scripts/setup` installs both).
pub fn ten_bit_heic(bgr: &Mat) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (png, out) = (dir.path().join("deep.png"), dir.path().join("ten.heic"));
    let mut deep = Mat::default();
    bgr.convert_to(&mut deep, CV_16UC3, 257.0, 0.0).unwrap();
    std::fs::write(&png, encode(".png", &deep)).unwrap();
    let done = std::process::Command::new("heif-enc")
        .args(["--bit-depth", "10", "-o"])
        .arg(&out)
        .arg(&png)
        .output()
        .expect("libheif's heif-enc (scripts/setup installs it)");
    assert!(done.status.success(), "heif-enc: {done:?}");
    std::fs::read(out).unwrap()
}

/// A phone's "motion photo": the picture, then a short video in the same file (here
/// stand-in bytes holding a start-of-scan marker with no end-of-image marker after it).
fn motion_photo(jpeg: &[u8]) -> Vec<u8> {
    let mut v = jpeg.to_vec();
    v.extend_from_slice(b"\0\0\0\x18ftypmp42");
    v.extend((0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    v.extend_from_slice(&[0xff, 0xda, 0, 8, 1, 2, 3, 4, 5, 6]);
    v
}

/// A second of video of `bgr` as a phone saves it (MP4, written by OpenCV through FFmpeg):
/// picked by mistake among photos, as a phone's camera roll mixes both.
fn video(bgr: &Mat) -> Vec<u8> {
    use opencv::videoio::{VideoWriter, VideoWriterTrait};
    let out = tempfile::Builder::new().suffix(".mp4").tempfile().unwrap();
    let size = core::Size::new(bgr.cols() / 2 * 2, bgr.rows() / 2 * 2);
    let mut even = Mat::default();
    imgproc::resize(bgr, &mut even, size, 0.0, 0.0, imgproc::INTER_AREA).unwrap();
    let fourcc = VideoWriter::fourcc('m', 'p', '4', 'v').unwrap();
    let path = out.path().to_str().unwrap();
    let mut writer = VideoWriter::new(path, fourcc, 25.0, size, true).unwrap();
    for _ in 0..25 {
        writer.write(&even).unwrap();
    }
    writer.release().unwrap();
    let bytes = std::fs::read(out.path()).unwrap();
    assert_eq!(&bytes[4..8], b"ftyp", "OpenCV wrote an MP4");
    bytes
}

/// `bgr` enlarged to `width` pixels wide, as a phone's high-resolution mode saves it.
fn enlarged(bgr: &Mat, width: i32) -> Mat {
    let height = width * bgr.rows() / bgr.cols();
    let mut out = Mat::default();
    imgproc::resize(
        bgr,
        &mut out,
        core::Size::new(width, height),
        0.0,
        0.0,
        imgproc::INTER_LINEAR,
    )
    .unwrap();
    out
}

/// A HEIC whose image-size box claims `w`×`h` pixels, with the small picture's data.
fn heic_bomb(heic: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut v = heic.to_vec();
    let at = v
        .windows(4)
        .position(|b| b == b"ispe")
        .expect("a HEIC has an image-size box");
    // Box type, then version and flags, then width and height.
    v[at + 8..at + 12].copy_from_slice(&w.to_be_bytes());
    v[at + 12..at + 16].copy_from_slice(&h.to_be_bytes());
    v
}

/// Every awkward photo, made from `face` (a photo of one person).
pub fn bad_photos(face: &std::path::Path) -> Vec<BadPhoto> {
    let jpeg = std::fs::read(face).unwrap();
    let bgr = read(face);
    let png = encode(".png", &bgr);
    let mut gray = Mat::default();
    imgproc::cvt_color_def(&bgr, &mut gray, imgproc::COLOR_BGR2GRAY).unwrap();
    let mut deep = Mat::default();
    bgr.convert_to(&mut deep, CV_16UC3, 257.0, 0.0).unwrap();
    let mut alpha = Mat::default();
    imgproc::cvt_color_def(&bgr, &mut alpha, imgproc::COLOR_BGR2BGRA).unwrap();
    let mut tiny = Mat::default();
    imgproc::resize(
        &bgr,
        &mut tiny,
        core::Size::new(8, 8),
        0.0,
        0.0,
        imgproc::INTER_AREA,
    )
    .unwrap();
    let heic = converted(face, "heic");
    let mut garbled = jpeg.clone();
    let mid = garbled.len() / 2;
    for b in &mut garbled[mid..mid + 200] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    vec![
        BadPhoto {
            name: "truncated.jpg",
            bytes: jpeg[..jpeg.len() / 2].to_vec(),
            expect: Expect::Unreadable("damaged"),
        },
        BadPhoto {
            name: "truncated.png",
            bytes: png[..png.len() / 2].to_vec(),
            expect: Expect::Unreadable("damaged"),
        },
        BadPhoto {
            name: "garbled.jpg",
            bytes: garbled,
            expect: Expect::Either,
        },
        BadPhoto {
            name: "empty.jpg",
            bytes: Vec::new(),
            expect: Expect::Unreadable("empty"),
        },
        BadPhoto {
            name: "bomb.png",
            bytes: png_bomb(100_000, 100_000),
            expect: Expect::Unreadable("too large"),
        },
        BadPhoto {
            name: "bomb.jpg",
            bytes: jpeg_bomb(&jpeg, 60_000, 60_000),
            expect: Expect::Unreadable("too large"),
        },
        BadPhoto {
            name: "notes.jpg",
            bytes: b"Dear parents, the trip is on Friday.\n".to_vec(),
            expect: Expect::Unreadable("not a photo"),
        },
        BadPhoto {
            name: "scan.tiff",
            bytes: encode(".tiff", &bgr),
            expect: Expect::Unreadable("not a photo"),
        },
        BadPhoto {
            name: "clip.mp4",
            bytes: video(&bgr),
            expect: Expect::Unreadable("a video, not a photo"),
        },
        BadPhoto {
            name: "truncated.heic",
            bytes: heic[..heic.len() / 2].to_vec(),
            expect: Expect::Unreadable("damaged"),
        },
        BadPhoto {
            name: "bomb.heic",
            bytes: heic_bomb(&heic, 10_000, 10_000),
            expect: Expect::Unreadable("too large"),
        },
        BadPhoto {
            name: "iphone.heic",
            bytes: heic,
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "hdr-10bit.heic",
            bytes: ten_bit_heic(&bgr),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "phone.avif",
            bytes: converted(face, "avif"),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "phone-108mp.jpg",
            bytes: encode(".jpg", &enlarged(&bgr, 12_000)),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "motion-photo.jpg",
            bytes: motion_photo(&jpeg),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "gray.jpg",
            bytes: encode(".jpg", &gray),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "cmyk.jpg",
            bytes: cmyk_jpeg(&bgr),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "16bit.png",
            bytes: encode(".png", &deep),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "alpha.png",
            bytes: encode(".png", &alpha),
            expect: Expect::Usable,
        },
        BadPhoto {
            name: "tiny.png",
            bytes: encode(".png", &tiny),
            expect: Expect::NoFace,
        },
        BadPhoto {
            name: "no-face.jpg",
            bytes: faceless_jpeg(),
            expect: Expect::NoFace,
        },
        BadPhoto {
            name: "eight-faces.jpg",
            bytes: encode(".jpg", &crowd()),
            expect: Expect::Crowd,
        },
    ]
}

/// A photo stored on its side with an EXIF tag saying how to turn it upright; returns the
/// file and the upright size (width, height).
pub fn sideways_with_exif(face: &std::path::Path) -> (Vec<u8>, (i32, i32)) {
    let bgr = read(face);
    let mut side = Mat::default();
    core::rotate(&bgr, &mut side, core::ROTATE_90_COUNTERCLOCKWISE).unwrap();
    // Orientation 6: turn the stored picture 90° clockwise to show it.
    (
        with_exif_orientation(&encode(".jpg", &side), 6),
        (bgr.cols(), bgr.rows()),
    )
}
