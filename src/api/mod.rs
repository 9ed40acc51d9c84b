//! `rollcall serve`: the old Flask system's HTTP contract on Rollcall's database, so the
//! React dashboard, the door clients and scripts keep working. Same messages, same status
//! codes; the service behind it is the one the kiosk and the CLI use.

mod doors;
mod openapi;
mod pool;

use crate::attendance::{
    AttendanceService, EnrollError, LookAlike, OpenError, Outcome, PhotoInput, PhotoProblem,
    MAX_PHOTOS,
};
use crate::data_dir::DataDir;
use crate::reports;
use crate::reports::email::EmailError;
use crate::settings::Settings;
use crate::store::{Store, StoreError};
use axum::extract::multipart::MultipartRejection;
use axum::extract::ConnectInfo;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

/// Largest request body accepted (ten photos of a few megabytes, with room to spare).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What the server needs.
#[derive(Clone)]
pub struct ApiState {
    engines: Arc<pool::EnginePool>,
    /// Places for marks waiting for an engine.
    queue: Arc<tokio::sync::Semaphore>,
    settings: Settings,
    database: PathBuf,
    token: Option<String>,
    doors: Arc<doors::Doors>,
}

impl ApiState {
    /// Loads the face models and opens the data folder's records.
    pub fn open(
        data: DataDir,
        settings: Settings,
        token: Option<String>,
    ) -> Result<ApiState, OpenError> {
        let database = data.database();
        let first = AttendanceService::open(data.clone(), settings.clone())?;
        // The engines share one gallery: one copy of every template, read once, and an
        // enrolment through one engine is known to the others at once.
        let gallery = first.recognizer().gallery().clone();
        let mut services = vec![first];
        for _ in 1..pool::engine_count(settings.api.engines) {
            services.push(AttendanceService::open_sharing(
                data.clone(),
                settings.clone(),
                gallery.clone(),
            )?);
        }
        Ok(ApiState {
            doors: Arc::new(doors::Doors::new(data.settings(), &settings.api)),
            queue: Arc::new(tokio::sync::Semaphore::new(settings.api.queue.max(1))),
            engines: Arc::new(pool::EnginePool::new(services)),
            settings,
            database,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// How many recognition engines serve requests in parallel.
    pub fn engines(&self) -> usize {
        self.engines.size()
    }
}

/// The HTTP status for each contract message: one place.
pub fn status(o: Outcome) -> StatusCode {
    match o {
        Outcome::UserAdded | Outcome::AttendanceMarked => StatusCode::OK,
        Outcome::NoImages | Outcome::TooManyImages | Outcome::InvalidData | Outcome::UserExists => {
            StatusCode::BAD_REQUEST
        }
        Outcome::NoFace
        | Outcome::UserNotFound
        | Outcome::AlreadyMarked
        | Outcome::AbsentByHand => StatusCode::NOT_FOUND,
        Outcome::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn reply(o: Outcome) -> Response {
    (status(o), Json(json!({ "message": o.message() }))).into_response()
}

fn message(code: StatusCode, text: &str) -> Response {
    (code, Json(json!({ "message": text }))).into_response()
}

/// Seconds a client is asked to wait when the queue of marks is full.
const RETRY_AFTER_SECS: u64 = 1;

/// 503 with `Retry-After`: every engine is busy and the queue is full.
fn busy() -> Response {
    let body = json!({
        "message": "The server is busy; please try again in a moment",
        "retry_after_secs": RETRY_AFTER_SECS,
    });
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    r
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
    let engines = s.engines.clone();
    let result =
        blocking(move || engines.borrow().enroll(&roll, &name, &mail, &photos, "api")).await;
    // The old message, plus (for clients that read them) which photos were not used and why.
    let unused = |problems: &[PhotoProblem]| {
        problems
            .iter()
            .map(|p| json!({ "photo": p.label, "reason": p.reason }))
            .collect::<Vec<_>>()
    };
    match result {
        Some(Ok(done)) => {
            let o = done.outcome();
            let looks_like: Vec<_> = done
                .look_alikes
                .iter()
                .map(|l| json!({ "rollno": l.roll_no, "name": l.name }))
                .collect();
            if let Some(warning) = LookAlike::warning(&done.look_alikes) {
                tracing::warn!("upload of {}: {warning}", done.student_id);
            }
            let body = json!({
                "message": o.message(),
                "photos_used": done.used.len(),
                "photos_not_used": unused(&done.refused),
                "looks_like": looks_like,
            });
            (status(o), Json(body)).into_response()
        }
        Some(Err(e)) => {
            if let Some(code) = not_made_here(&e) {
                tracing::warn!("upload refused: {e}");
                let text = e.to_string();
                return (code, Json(json!({ "message": text, "reason": text }))).into_response();
            }
            let o = e.outcome();
            if o == Outcome::InternalError {
                let told = e.tells_the_client();
                if told {
                    tracing::warn!("upload refused: {e}");
                } else {
                    tracing::error!("upload failed: {e}");
                }
                return internal_error(told.then(|| e.to_string()));
            }
            let mut body = json!({ "message": o.message() });
            match &e {
                EnrollError::NoUsablePhoto(problems) => {
                    body["reason"] = json!("None of the photos can be used; nothing was stored.");
                    body["photos_not_used"] = json!(unused(problems));
                }
                EnrollError::InvalidData(why) => body["reason"] = json!(why),
                _ => {}
            }
            (status(o), Json(body)).into_response()
        }
        None => reply(Outcome::InternalError),
    }
}

/// The status for an enrolment this machine may not make (a door whose login to the school
/// server may only add marks: 403) or cannot make yet (a linked folder that has not reached
/// its server: 503); `None` for other errors. The client is told why in `message`: the
/// old contract's "Internal server error" would send its admin looking for a fault.
fn not_made_here(e: &EnrollError) -> Option<StatusCode> {
    match e {
        EnrollError::Store(StoreError::OfficeOnly(_)) => Some(StatusCode::FORBIDDEN),
        EnrollError::Store(StoreError::NotConnectedYet(_)) => Some(StatusCode::SERVICE_UNAVAILABLE),
        _ => None,
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
    // A bounded queue: when it is full the client is told to come back, instead of
    // waiting behind everyone else until its own time-out.
    let Ok(place) = s.queue.clone().try_acquire_owned() else {
        return busy();
    };
    let engines = s.engines.clone();
    let result = blocking(move || {
        let _place = place;
        match engines.borrow().mark_photo(&photo.bytes, "api") {
            Ok(m) => Ok(m.outcome()),
            Err(e) if e.outcome() == Outcome::InternalError => {
                tracing::error!("attendance failed: {e}");
                Err(e.tells_the_client().then(|| e.to_string()))
            }
            Err(e) => Ok(e.outcome()),
        }
    })
    .await;
    match result {
        Some(Ok(o)) => reply(o),
        Some(Err(reason)) => internal_error(reason),
        None => reply(Outcome::InternalError),
    }
}

/// "Internal server error", with the reason when there is one the client may be told.
fn internal_error(reason: Option<String>) -> Response {
    let o = Outcome::InternalError;
    match reason {
        Some(reason) => (
            status(o),
            Json(json!({ "message": o.message(), "reason": reason })),
        )
            .into_response(),
        None => reply(o),
    }
}

/// The whole history, as the old dashboard reads it.
async fn getdata(State(s): State<ApiState>) -> Response {
    let db = s.database.clone();
    let result = blocking(move || -> Result<serde_json::Value, String> {
        let store = Store::open(&db).map_err(|e| e.to_string())?;
        let (from, to) = reports::whole_history(&store).map_err(|e| e.to_string())?;
        let sheet = reports::Sheet::build(&store, from, to).map_err(|e| e.to_string())?;
        let data: Vec<serde_json::Value> = sheet
            .rows
            .iter()
            .map(|r| json!({ "id": r.roll_no, "dates": r.present.iter().map(|p| *p as u8).collect::<Vec<_>>() }))
            .collect();
        Ok(json!({
            "data": data,
            "ids": sheet.rows.iter().map(|r| r.roll_no.clone()).collect::<Vec<_>>(),
            "unique_dates": sheet.days.iter().copied().map(crate::store::day_text).collect::<Vec<_>>(),
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

/// Emails every student (or those under the threshold) their attendance up to yesterday
/// (today's classes may not be over). Nobody to mail: 200 without contacting the mail
/// server. Mail not set up: 503 naming the setting. The mail server failing: 500 with the
/// reason.
async fn send_mail(s: ApiState, under: Option<f64>) -> Response {
    let today = chrono::Local::now().date_naive();
    let result = blocking(
        move || -> Result<(reports::SendSummary, bool), reports::ReportError> {
            let mut store = Store::open(&s.database)?;
            let (from, to) = reports::whole_history(&store)?;
            // Today, whose classes may not be over, counts from tomorrow.
            let run = reports::Emailing {
                from,
                to,
                under,
                with_today: false,
                only: None,
            };
            let summary = reports::email_students(&mut store, &s.settings.email, &run, |_, _| {})?;
            for not_sent in &summary.failed {
                tracing::warn!("{not_sent}");
            }
            Ok((summary, run.days(today).is_none()))
        },
    )
    .await;
    let failed = |summary: &reports::SendSummary| {
        summary
            .failed
            .iter()
            .map(|n| json!({ "to": n.email, "roll_no": n.roll_no, "name": n.name, "reason": n.reason }))
            .collect::<Vec<_>>()
    };
    match result {
        Some(Ok((summary, no_day_over)))
            if summary.sent.is_empty() && summary.failed.is_empty() =>
        {
            let text = match under {
                _ if no_day_over => "Nobody was mailed: no class day is over yet (today \
                                     counts once its classes are over)."
                    .into(),
                Some(t) => format!("Nobody was mailed: no student is under {t} %."),
                None => "Nobody was mailed: no student has a class day to report.".into(),
            };
            (StatusCode::OK, Json(json!({ "message": text, "sent": 0 }))).into_response()
        }
        Some(Ok((summary, _))) => (
            StatusCode::OK,
            Json(json!({
                "message": "Mail sent successfully",
                "sent": summary.sent.len(),
                "failed": failed(&summary),
            })),
        )
            .into_response(),
        Some(Err(reports::ReportError::Email(EmailError::NotConfigured))) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "message": "Mail is not set up",
                "reason": "Set the mail server as `host` under [email] in settings.toml (or in \
                           Admin → Email settings), then restart `rollcall serve`.",
                "setting": "email.host",
            })),
        )
            .into_response(),
        Some(Err(e)) => {
            tracing::error!("sending mail failed: {e}");
            let o = Outcome::InternalError;
            (
                status(o),
                Json(json!({ "message": o.message(), "reason": e.to_string() })),
            )
                .into_response()
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

/// The token of an `Authorization: Bearer …` header.
fn bearer<B>(req: &Request<B>) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// With a token configured, the protected routes need `Authorization: Bearer <token>`.
async fn require_token(
    State(s): State<ApiState>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    if let Some(token) = &s.token {
        if bearer(&req) != Some(token.as_str()) {
            return message(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
    }
    next.run(req).await
}

/// With door credentials configured, `/attendance` needs a door token (or the admin
/// token), or a request from a listed door address.
async fn require_door(
    State(s): State<ApiState>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let doors = s.doors.current();
    if !doors.is_open() {
        let from = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let given = bearer(&req);
        let admin = given.is_some() && given == s.token.as_deref();
        if !admin && !doors.admits(from, given) {
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
    let door = Router::new()
        .route("/attendance", post(attendance))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_door));
    Router::new()
        .merge(door)
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

/// Listens on `addr` with room for a morning rush of connections (a backlog of 4096, so
/// a burst of door clients is queued rather than reset).
pub async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    // A name no resolver knows is told apart from a port that cannot be had.
    let found = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => e,
            _ => std::io::Error::new(std::io::ErrorKind::NotFound, e),
        })?;
    for a in found {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(4096)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("no address for {addr}"))))
}

/// How often a running server drops face snapshots past their retention (it does so
/// once a day; the hour bounds how late).
const RETENTION_CHECK: std::time::Duration = std::time::Duration::from_secs(3600);

/// Serves until Ctrl-C.
pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) -> std::io::Result<()> {
    let engines = state.engines.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RETENTION_CHECK);
        loop {
            every.tick().await;
            let engines = engines.clone();
            blocking(move || {
                if let Err(e) = engines.borrow().keep_retention() {
                    tracing::warn!("could not drop the face snapshots past their retention: {e}");
                }
            })
            .await;
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
