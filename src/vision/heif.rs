//! HEIC and AVIF photos: an iPhone saves HEIC unless told otherwise, and newer phones and
//! the web use AVIF, so a teacher's folder of students' photos is often in them. OpenCV
//! 4.6 reads neither; the system's libheif (LGPL, Debian's `libheif1`, installed by
//! `scripts/setup`, and already needed by OpenCV's codecs through GDAL) decodes them. It
//! is loaded at run time, when the first such photo comes, so building Rollcall needs no
//! headers of it; one that cannot be used makes such a photo "cannot be opened on this
//! computer". Only its C API is used: the container is read, the primary image's size checked
//! against Rollcall's limits, and only then are its pixels decoded (with the photo's
//! rotation and mirroring applied, as the phone showed it).

use super::image_io::ImageError;
use libloading::Library;
use opencv::core::{Mat, Scalar, CV_8UC3};
use opencv::prelude::*;
use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

/// libheif's opaque context, image handle and decoded image.
#[repr(C)]
struct Opaque {
    _private: [u8; 0],
}

/// `struct heif_error`: `code` 0 is success.
#[repr(C)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

/// `heif_colorspace_RGB`, `heif_chroma_interleaved_RGB`, `heif_channel_interleaved`.
const COLORSPACE_RGB: c_int = 1;
const CHROMA_INTERLEAVED_RGB: c_int = 10;
const CHANNEL_INTERLEAVED: c_int = 10;

/// The library's file name (Debian's `libheif1`).
const LIBRARY: &str = "libheif.so.1";

/// The C API functions Rollcall calls.
struct Api {
    _library: Library,
    context_alloc: unsafe extern "C" fn() -> *mut Opaque,
    context_free: unsafe extern "C" fn(*mut Opaque),
    read_from_memory:
        unsafe extern "C" fn(*mut Opaque, *const c_void, usize, *const c_void) -> HeifError,
    primary_handle: unsafe extern "C" fn(*mut Opaque, *mut *mut Opaque) -> HeifError,
    handle_release: unsafe extern "C" fn(*const Opaque),
    handle_width: unsafe extern "C" fn(*const Opaque) -> c_int,
    handle_height: unsafe extern "C" fn(*const Opaque) -> c_int,
    decode: unsafe extern "C" fn(
        *const Opaque,
        *mut *mut Opaque,
        c_int,
        c_int,
        *const c_void,
    ) -> HeifError,
    image_width: unsafe extern "C" fn(*const Opaque, c_int) -> c_int,
    image_height: unsafe extern "C" fn(*const Opaque, c_int) -> c_int,
    plane: unsafe extern "C" fn(*const Opaque, c_int, *mut c_int) -> *const u8,
    image_release: unsafe extern "C" fn(*const Opaque),
}

impl Api {
    /// Loads libheif and initialises it once for the whole process.
    fn load() -> Option<Api> {
        // SAFETY: loading libheif runs only its own initialisers.
        let library = unsafe { Library::new(LIBRARY) }
            .map_err(|e| tracing::warn!("HEIC/AVIF photos cannot be read: {e}"))
            .ok()?;
        // SAFETY: the library is libheif, whose C functions have the signatures declared
        // in `Api` (libheif 1.x's `heif.h`).
        unsafe {
            macro_rules! f {
                ($name:literal) => {
                    *library
                        .get(concat!($name, "\0").as_bytes())
                        .map_err(|e| tracing::warn!("{LIBRARY} is not a usable libheif: {e}"))
                        .ok()?
                };
            }
            let init: unsafe extern "C" fn(*mut c_void) -> HeifError = f!("heif_init");
            if init(std::ptr::null_mut()).code != 0 {
                tracing::warn!("libheif could not be initialised");
                return None;
            }
            Some(Api {
                context_alloc: f!("heif_context_alloc"),
                context_free: f!("heif_context_free"),
                read_from_memory: f!("heif_context_read_from_memory_without_copy"),
                primary_handle: f!("heif_context_get_primary_image_handle"),
                handle_release: f!("heif_image_handle_release"),
                handle_width: f!("heif_image_handle_get_width"),
                handle_height: f!("heif_image_handle_get_height"),
                decode: f!("heif_decode_image"),
                image_width: f!("heif_image_get_width"),
                image_height: f!("heif_image_get_height"),
                plane: f!("heif_image_get_plane_readonly"),
                image_release: f!("heif_image_release"),
                _library: library,
            })
        }
    }
}

/// libheif, loaded at the first HEIC or AVIF photo (None: not installed here).
fn api() -> Option<&'static Api> {
    static API: OnceLock<Option<Api>> = OnceLock::new();
    API.get_or_init(Api::load).as_ref()
}

/// Frees what libheif allocated, whatever way decoding ends.
struct Held<'a> {
    api: &'a Api,
    context: *mut Opaque,
    handle: *mut Opaque,
    image: *mut Opaque,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or was allocated by libheif for this photo, and is
        // released once, here.
        unsafe {
            if !self.image.is_null() {
                (self.api.image_release)(self.image);
            }
            if !self.handle.is_null() {
                (self.api.handle_release)(self.handle);
            }
            if !self.context.is_null() {
                (self.api.context_free)(self.context);
            }
        }
    }
}

/// Decodes a HEIC or AVIF photo into a BGR `Mat`. `check_size` sees the width and height
/// before any pixel is decoded and may refuse the photo.
pub fn decode(
    bytes: &[u8],
    check_size: impl FnOnce(u64, u64) -> Result<(), ImageError>,
) -> Result<Mat, ImageError> {
    let api = api().ok_or(ImageError::NoHeifDecoder)?;
    let mut held = Held {
        api,
        // SAFETY: allocation only; freed by `held`.
        context: unsafe { (api.context_alloc)() },
        handle: std::ptr::null_mut(),
        image: std::ptr::null_mut(),
    };
    if held.context.is_null() {
        return Err(ImageError::Damaged);
    }
    // SAFETY: `bytes` outlives the context (`held` is dropped before this function
    // returns), the out-pointers are valid, and null options mean libheif's defaults.
    unsafe {
        let read = (api.read_from_memory)(
            held.context,
            bytes.as_ptr().cast(),
            bytes.len(),
            std::ptr::null(),
        );
        if read.code != 0 || (api.primary_handle)(held.context, &mut held.handle).code != 0 {
            return Err(ImageError::Damaged);
        }
        let (w, h) = (
            (api.handle_width)(held.handle),
            (api.handle_height)(held.handle),
        );
        if w <= 0 || h <= 0 {
            return Err(ImageError::Damaged);
        }
        check_size(w as u64, h as u64)?;
        let decoded = (api.decode)(
            held.handle,
            &mut held.image,
            COLORSPACE_RGB,
            CHROMA_INTERLEAVED_RGB,
            std::ptr::null(),
        );
        if decoded.code != 0 || held.image.is_null() {
            return Err(ImageError::Damaged);
        }
        let (w, h) = (
            (api.image_width)(held.image, CHANNEL_INTERLEAVED),
            (api.image_height)(held.image, CHANNEL_INTERLEAVED),
        );
        let mut stride: c_int = 0;
        let plane = (api.plane)(held.image, CHANNEL_INTERLEAVED, &mut stride);
        if plane.is_null() || w <= 0 || h <= 0 || (stride as i64) < 3 * w as i64 {
            return Err(ImageError::Damaged);
        }
        let (w, h, stride) = (w as usize, h as usize, stride as usize);
        let rgb = std::slice::from_raw_parts(plane, stride * (h - 1) + 3 * w);
        bgr_mat(rgb, w, h, stride).map_err(|_| ImageError::Damaged)
    }
}

/// Copies interleaved RGB rows (`stride` bytes apart) into a new BGR `Mat`.
fn bgr_mat(rgb: &[u8], w: usize, h: usize, stride: usize) -> opencv::Result<Mat> {
    let mut mat = Mat::new_rows_cols_with_default(h as i32, w as i32, CV_8UC3, Scalar::all(0.0))?;
    let out = mat.data_bytes_mut()?;
    for (y, row) in out.chunks_exact_mut(3 * w).enumerate() {
        let src = &rgb[y * stride..y * stride + 3 * w];
        for (o, s) in row.chunks_exact_mut(3).zip(src.chunks_exact(3)) {
            o.copy_from_slice(&[s[2], s[1], s[0]]);
        }
    }
    Ok(mat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_copied_past_their_padding_with_red_and_blue_swapped() {
        // Two rows of two pixels, each row padded to 8 bytes.
        let rgb = [1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12];
        let m = bgr_mat(&rgb, 2, 2, 8).unwrap();
        assert_eq!(
            m.data_bytes().unwrap(),
            &[3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]
        );
    }
}
