//! Photo decoding: any bytes give a picture or an `ImageError`, never a crash or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rollcall::vision::decode_image(data);
});
