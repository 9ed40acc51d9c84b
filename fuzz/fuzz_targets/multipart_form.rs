//! The API's multipart reading (`/upload`, `/attendance`): any body gives a form or a
//! refusal, never a crash or a hang.
#![no_main]

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let request = Request::builder()
        .method("POST")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(data.to_vec()))
        .unwrap();
    rt.block_on(async {
        let form = Multipart::from_request(request, &()).await;
        if let Ok((_, files, count)) = rollcall::api::read_form(form, "images").await {
            assert!(files.len() <= count);
        }
    });
});
