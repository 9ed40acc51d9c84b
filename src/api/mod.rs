//! `rollcall serve`: the old Flask system's HTTP contract on Rollcall's database, so the
//! React dashboard, the door clients and scripts keep working. Same messages, same status
//! codes; the service behind it is the one the kiosk and the CLI use.

mod openapi;

use crate::attendance::{AttendanceService, OpenError, Outcome, PhotoInput, MAX_PHOTOS};
use crate::data_dir::DataDir;
use crate::reports;
use crate::settings::Settings;
use crate::store::Store;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

/// Largest request body accepted (ten photos of a few megabytes, with room to spare).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What the server needs.
#[derive(Clone)]
pub struct ApiState {
    service: Arc<Mutex<AttendanceService>>,
    settings: Settings,
    database: PathBuf,
    token: Option<String>,
}

impl ApiState {
    /// Loads the face models and opens the data folder's records.
    pub fn open(
        data: DataDir,
        settings: Settings,
        token: Option<String>,
    ) -> Result<ApiState, OpenError> {
        let engine = crate::vision::FaceEngine::load(&settings)?;
        let database = data.database();
        let service = AttendanceService::open(data, settings.clone(), engine)?;
        Ok(ApiState {
            settings,
            database,
            service: Arc::new(Mutex::new(service)),
            token: token.filter(|t| !t.is_empty()),
        })
    }
}

/// The HTTP status for each contract message: one place.
pub fn status(o: Outcome) -> StatusCode {
    match o {
        Outcome::UserAdded | Outcome::AttendanceMarked => StatusCode::OK,
        Outcome::NoImages | Outcome::TooManyImages | Outcome::InvalidData | Outcome::UserExists => {
            StatusCode::BAD_REQUEST
        }
        Outcome::NoFace | Outcome::UserNotFound | Outcome::AlreadyMarked => StatusCode::NOT_FOUND,
        Outcome::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn reply(o: Outcome) -> Response {
    (status(o), Json(json!({ "message": o.message() }))).into_response()
}

fn message(code: StatusCode, text: &str) -> Response {
    (code, Json(json!({ "message": text }))).into_response()
}

/// Runs blocking work (models, SQLite) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// A multipart body's text fields, its files (at most `MAX_PHOTOS + 1` kept: enough to tell
/// "too many") and how many files it had.
pub type Form = (
    std::collections::HashMap<String, String>,
    Vec<PhotoInput>,
    usize,
);

/// Reads a multipart body: text fields and the files of `file_field`. `Err` when the body
/// is not a well-formed multipart form.
pub async fn read_form(
    form: Result<Multipart, MultipartRejection>,
    file_field: &str,
) -> Result<Form, ()> {
    let mut form = form.map_err(|_| ())?;
    let mut fields = std::collections::HashMap::new();
    let mut files = Vec::new();
    let mut count = 0;
    while let Some(field) = form.next_field().await.map_err(|_| ())? {
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            count += 1;
            let label = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(|_| ())?;
            if files.len() <= MAX_PHOTOS {
                files.push(PhotoInput {
                    label,
                    bytes: bytes.to_vec(),
                });
            }
        } else {
            let text = field.text().await.map_err(|_| ())?;
            fields.insert(name, text);
        }
    }
    Ok((fields, files, count))
}

async fn upload(
    State(s): State<ApiState>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok((fields, mut photos, count)) = read_form(form, "images").await else {
        return reply(Outcome::InvalidData);
    };
    if count > MAX_PHOTOS {
        return reply(Outcome::TooManyImages);
    }
    photos.truncate(MAX_PHOTOS);
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let (roll, name, mail) = (field("rollno"), field("name"), field("email"));
    let service = s.service.clone();
    let result = blocking(move || {
        let mut service = service.lock().unwrap_or_else(|p| p.into_inner());
        service
            .enroll(&roll, &name, &mail, &photos, "api")
            .map(|d| d.outcome())
            .map_err(|e| {
                if e.outcome() == Outcome::InternalError {
                    tracing::error!("upload failed: {e}");
                }
                e.outcome()
            })
    })
    .await;
    match result {
        Some(Ok(o)) | Some(Err(o)) => reply(o),
        None => reply(Outcome::InternalError),
    }
}

async fn attendance(
    State(s): State<ApiState>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok((_, mut files, _)) = read_form(form, "file").await else {
        return reply(Outcome::InvalidData);
    };
    if files.is_empty() {
        return reply(Outcome::InvalidData);
    }
    let photo = files.swap_remove(0);
    let service = s.service.clone();
    let result = blocking(move || {
        let mut service = service.lock().unwrap_or_else(|p| p.into_inner());
        match service.mark_photo(&photo.bytes, "api") {
            Ok(m) => m.outcome(),
            Err(e) => {
                if e.outcome() == Outcome::InternalError {
                    tracing::error!("attendance failed: {e}");
                }
                e.outcome()
            }
        }
    })
    .await;
    reply(result.unwrap_or(Outcome::InternalError))
}

/// The whole history, as the old dashboard reads it.
async fn getdata(State(s): State<ApiState>) -> Response {
    let db = s.database.clone();
    let result = blocking(move || -> Result<serde_json::Value, String> {
        let store = Store::open(&db).map_err(|e| e.to_string())?;
        let sheet = reports::whole_history(&store).map_err(|e| e.to_string())?;
        let data: Vec<serde_json::Value> = sheet
            .rows
            .iter()
            .map(|r| json!({ "id": r.roll_no, "dates": r.present.iter().map(|p| *p as u8).collect::<Vec<_>>() }))
            .collect();
        Ok(json!({
            "data": data,
            "ids": sheet.rows.iter().map(|r| r.roll_no.clone()).collect::<Vec<_>>(),
            "unique_dates": sheet.days.iter().map(|d| d.format("%Y-%m-%d").to_string()).collect::<Vec<_>>(),
        }))
    })
    .await;
    match result {
        Some(Ok(v)) => (StatusCode::OK, Json(v)).into_response(),
        Some(Err(e)) => {
            tracing::error!("getdata failed: {e}");
            reply(Outcome::InternalError)
        }
        None => reply(Outcome::InternalError),
    }
}

/// Emails every student (or those under the threshold) their attendance to date.
async fn send_mail(s: ApiState, under: Option<f64>) -> Response {
    let result = blocking(move || -> Result<(), String> {
        let mut store = Store::open(&s.database).map_err(|e| e.to_string())?;
        let sheet = reports::whole_history(&store).map_err(|e| e.to_string())?;
        let summary =
            reports::email_students(&mut store, &s.settings.email, &sheet, under, |_, _| {})
                .map_err(|e| e.to_string())?;
        for (to, why) in &summary.failed {
            tracing::warn!("mail to {to} failed: {why}");
        }
        Ok(())
    })
    .await;
    match result {
        Some(Ok(())) => message(StatusCode::OK, "Mail sent successfully"),
        Some(Err(e)) => {
            tracing::error!("sending mail failed: {e}");
            reply(Outcome::InternalError)
        }
        None => reply(Outcome::InternalError),
    }
}

async fn send_mail_all(State(s): State<ApiState>) -> Response {
    send_mail(s, None).await
}

async fn send_mail_less(State(s): State<ApiState>) -> Response {
    let threshold = s.settings.review.threshold_percent;
    send_mail(s, Some(threshold)).await
}

async fn openapi_json() -> Response {
    (StatusCode::OK, Json(openapi::document())).into_response()
}

/// With a token configured, the protected routes need `Authorization: Bearer <token>`.
async fn require_token(
    State(s): State<ApiState>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    if let Some(token) = &s.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return message(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
    }
    next.run(req).await
}

/// The router with every endpoint, limit and layer.
pub fn router(state: ApiState) -> Router {
    let protected = Router::new()
        .route("/upload", post(upload))
        .route("/getdata", get(getdata))
        .route("/sendmailall", post(send_mail_all))
        .route("/sendmaillees", post(send_mail_less))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    let origins: Vec<HeaderValue> = state
        .settings
        .api
        .cors_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    Router::new()
        .route("/attendance", post(attendance))
        .route("/openapi.json", get(openapi_json))
        .merge(protected)
        .fallback(|| async { message(StatusCode::NOT_FOUND, "Not found") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.settings.api.timeout_secs.max(1)),
        ))
        .layer(cors)
        .with_state(state)
}

/// Serves until Ctrl-C.
pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
