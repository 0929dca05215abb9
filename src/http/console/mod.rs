//! The moderation console: server-rendered pages under `/admin`, on the admin listener when there is one.
//!
//! - **Login.** `POST /admin/login` with the form field `token` (the admin token, compared in constant time)
//!   turns the browser's session into a moderator's. Sessions are signed cookies (`session`), `HttpOnly;
//!   SameSite=Strict`, and `Secure` behind https. Without an admin token the console does not exist (404);
//!   login attempts count against the admin API's per-caller limit, so the token is not guessed faster here.
//! - **Actions.** Every POST carries the session's `csrf_token` and, when the browser names it, our own
//!   origin (`csrf`); otherwise 403 and nothing changes. Changes go through `actions` only.
//! - **Pages.** `pages`, escaped by maud. Every answer carries a strict Content-Security-Policy (no script at
//!   all, styles from our stylesheet only), refuses framing, and is not cached.

pub mod actions;
pub mod appeals;
pub mod csrf;
mod pages;
pub mod route;
pub mod session;

use std::collections::HashMap;

use maud::Markup;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use warp::{Filter, Reply};

use super::{HttpState, PeerAddr, read_body};
use crate::config::ServerSettings;
use crate::domain::UserId;
use crate::telemetry;
use pages::{Frame, Nav};
use route::{Route, Verb};
use session::{Session, SessionKey, SessionKind};

/// The policy of every console answer: nothing runs, nothing is embedded, forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Messages shown on a conversation page (the newest).
const CONVERSATION_LIMIT: usize = 200;
/// Users listed on the conversations page.
const USER_LIMIT: u64 = 100;
/// Reports listed in the queue.
const QUEUE_LIMIT: u64 = 200;
/// The campaigns the campaigns page lists, newest first.
const CAMPAIGN_LIMIT: u64 = 20;
/// Longest rejection reason kept, in characters.
const MAX_REASON_CHARS: usize = 500;

/// The console's own state: the key its sessions are signed with.
pub struct Console {
    key: SessionKey,
    always_secure: bool,
}

impl Console {
    /// The configured session key, or a random one for this process.
    pub fn new(server: &ServerSettings) -> Self {
        let key = match &server.console_session_key {
            Some(secret) => SessionKey::from_configured(secret),
            None => SessionKey::from_random(rand::random()),
        };
        Self {
            key,
            always_secure: server.console_secure_cookie,
        }
    }
}

/// Every console route, as one filter.
pub(super) fn routes(state: HttpState) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path("admin")
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<PeerAddr>())
        .and(warp::body::stream())
        .and(warp::any().map(move || state.clone()))
        .then(
            |tail: warp::path::Tail,
             method: Method,
             query: String,
             headers: HeaderMap,
             peer: Option<PeerAddr>,
             body,
             state: HttpState| async move {
                let request = Request {
                    tail: tail.as_str().to_string(),
                    method,
                    query: form_fields(query.as_bytes()),
                    headers,
                    peer,
                };
                secured(handle(request, body, &state).await)
            },
        )
        .boxed()
}

/// A request as the console reads it.
struct Request {
    tail: String,
    method: Method,
    query: HashMap<String, String>,
    headers: HeaderMap,
    peer: Option<PeerAddr>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the browser reached us over https (directly or through a proxy that says so).
    fn https(&self) -> bool {
        self.header("x-forwarded-proto")
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }

    fn session(&self, key: &SessionKey, now: i64) -> Option<Session> {
        self.headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(session::cookie_value)
            .and_then(|value| key.open(value, now))
    }

    fn provenance(&self) -> csrf::Provenance<'_> {
        csrf::Provenance {
            origin: self.header("origin"),
            host: self.header("host"),
            sec_fetch_site: self.header("sec-fetch-site"),
        }
    }
}

async fn handle<S, B>(request: Request, body: S, state: &HttpState) -> warp::reply::Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    if state.settings.server.admin_token.is_none() {
        return not_found();
    }
    let verb = match request.method {
        Method::GET | Method::HEAD => Verb::Get,
        Method::POST => Verb::Post,
        _ => return not_found(),
    };
    let Some(route) = Route::parse(verb, request.tail.trim_start_matches('/')) else {
        return not_found();
    };
    let console = &state.console;
    let now = state.clock.now().timestamp();
    let session = request.session(&console.key, now);
    let secure = console.always_secure || request.https();

    if route == Route::Stylesheet {
        return stylesheet();
    }
    if !route.is_action() {
        return match session {
            Some(session) if session.kind == SessionKind::Moderator => {
                show(&route, &request, &session, state).await
            }
            _ if route == Route::LoginForm => login_form(session, now, secure, None, console),
            _ => redirect("/admin/login"),
        };
    }

    if route == Route::Login
        && let Err(wait) = state.admin_limiter.check(request.peer.map(|p| p.0))
    {
        metrics::counter!(telemetry::ADMIN_RATE_LIMITED).increment(1);
        let mut response = html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::message("Thử lại sau", "Quá nhiều lần thử từ địa chỉ này."),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return response;
    }
    let form = match read_body(&request.headers, body, &state.settings.server).await {
        Ok(raw) => form_fields(&raw),
        Err(err) => return err.reply(),
    };
    if let Err(refusal) = csrf::check(
        &console.key,
        session.as_ref(),
        form.get("csrf_token").map(String::as_str),
        &request.provenance(),
    ) {
        tracing::info!(refusal = refusal.as_str(), "console POST refused");
        return html(
            StatusCode::FORBIDDEN,
            pages::message(
                "Yêu cầu bị từ chối",
                "Biểu mẫu đã hết hạn hoặc không đến từ trang kiểm duyệt. Hãy tải lại trang rồi thử lại.",
            ),
        );
    }
    let session = session.expect("csrf::check passed, so there is a session");
    if route == Route::Login {
        return login(&form, session, now, secure, state);
    }
    if session.kind != SessionKind::Moderator {
        return redirect("/admin/login");
    }
    act(&route, &form, state, secure).await
}

/// The login form, in the browser's anonymous session (a fresh one when it has none).
fn login_form(
    session: Option<Session>,
    now: i64,
    secure: bool,
    error: Option<&str>,
    console: &Console,
) -> warp::reply::Response {
    let session = session
        .filter(|s| s.kind == SessionKind::Anonymous)
        .unwrap_or_else(|| Session::new(SessionKind::Anonymous, now, rand::random()));
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let page = pages::login::render(&console.key.csrf_token(&session), error);
    with_session(html(status, page), &console.key, &session, now, secure)
}

fn login(
    form: &HashMap<String, String>,
    session: Session,
    now: i64,
    secure: bool,
    state: &HttpState,
) -> warp::reply::Response {
    let Some(expected) = &state.settings.server.admin_token else {
        return not_found();
    };
    let given = form.get("token").map(String::as_str).unwrap_or_default();
    // As the bearer check: digests compared in constant time, so neither content nor length shows.
    let matches = Sha256::digest(given.as_bytes())[..]
        .ct_eq(&Sha256::digest(expected.expose_secret().as_bytes())[..]);
    if !bool::from(matches) {
        tracing::warn!("console login refused: wrong admin token");
        return login_form(
            Some(session),
            now,
            secure,
            Some("Mã quản trị không đúng."),
            &state.console,
        );
    }
    tracing::info!("console login");
    // A new nonce: a session planted before login is not the one that gets the rights.
    let moderator = Session::new(SessionKind::Moderator, now, rand::random());
    with_session(
        redirect("/admin/reports"),
        &state.console.key,
        &moderator,
        now,
        secure,
    )
}

/// A logged-in page.
async fn show(
    route: &Route,
    request: &Request,
    session: &Session,
    state: &HttpState,
) -> warp::reply::Response {
    let csrf = state.console.key.csrf_token(session);
    let notice = request.query.get("done").and_then(|done| notice(done));
    let (title, nav, body) = match route {
        Route::Home | Route::LoginForm => return redirect("/admin/reports"),
        Route::Reports => match report_queue(state).await {
            Ok(queue) => (
                "Báo cáo chờ duyệt",
                Nav::Reports,
                pages::reports::render(&queue, &csrf),
            ),
            Err(err) => return unavailable(&err),
        },
        Route::Appeals => match appeals::pending_appeals(state).await {
            Ok(appeals) => ("Kháng nghị", Nav::Appeals, pages::appeals::render(&appeals)),
            Err(err) => return unavailable(&err),
        },
        Route::Pauses => match state.store.active_pauses(state.clock.now()).await {
            Ok(rows) => {
                let pauses: Vec<_> = rows
                    .into_iter()
                    .map(|(user_id, until, reason)| pages::pauses::Pause {
                        user_id,
                        until,
                        reason,
                    })
                    .collect();
                (
                    "Tạm dừng bot",
                    Nav::Pauses,
                    pages::pauses::render(&pauses, &csrf),
                )
            }
            Err(err) => return unavailable(&err),
        },
        Route::Users => match state.store.recent_users(USER_LIMIT).await {
            Ok(users) => ("Hội thoại", Nav::Users, pages::users::render_list(&users)),
            Err(err) => return unavailable(&err),
        },
        Route::Conversation { user } => {
            let Ok(user) = UserId::parse(user.clone()) else {
                return not_found();
            };
            match conversation(state, &user).await {
                Ok(body) => ("Hội thoại", Nav::Users, body),
                Err(err) => return unavailable(&err),
            }
        }
        Route::Campaigns => {
            match crate::campaigns::recent(&state.store, CAMPAIGN_LIMIT, state.clock.now()).await {
                Ok(campaigns) => (
                    "Gửi cảnh báo",
                    Nav::Campaigns,
                    pages::campaigns::render(&campaigns, &csrf),
                ),
                Err(err) => return unavailable(&err),
            }
        }
        Route::Status => match status_page(state).await {
            Ok(body) => ("Token và nguồn dữ liệu", Nav::Status, body),
            Err(err) => return unavailable(&err),
        },
        _ => return not_found(),
    };
    let frame = Frame {
        title,
        nav,
        csrf: &csrf,
        notice,
    };
    html(StatusCode::OK, pages::page(&frame, body))
}

/// The one-line notice after an action (`?done=`), from a fixed list: never echoed from the URL.
fn notice(done: &str) -> Option<&'static str> {
    match done {
        "verified" => Some("Đã xác nhận báo cáo: số này sẽ được cảnh báo cho mọi người."),
        "rejected" => Some("Đã bác bỏ báo cáo."),
        "unpaused" => Some("Bot đã trả lời lại người dùng này."),
        "missing" => Some("Không còn mục này."),
        "campaign" => Some("Đã tạo cảnh báo: tin sẽ được gửi dần (không gửi từ 22:00 đến 06:00)."),
        "campaign_refused" => Some(
            "Không tạo được cảnh báo: nội dung trống hoặc quá dài, hoặc đường dẫn ảnh không phải https.",
        ),
        _ => None,
    }
}

async fn report_queue(
    state: &HttpState,
) -> Result<Vec<pages::reports::QueuedReport>, crate::store::StoreError> {
    let reports = state
        .store
        .user_reports(Some("pending"), QUEUE_LIMIT)
        .await?;
    let entities: Vec<(String, String)> = reports
        .iter()
        .map(|r| (r.kind.clone(), r.value.clone()))
        .collect();
    let counts = state.store.reporter_counts(&entities).await?;
    Ok(reports
        .into_iter()
        .map(|report| {
            let counts = counts
                .get(&(report.kind.clone(), report.value.clone()))
                .copied()
                .unwrap_or_default();
            pages::reports::QueuedReport { report, counts }
        })
        .collect())
}

async fn conversation(
    state: &HttpState,
    user: &UserId,
) -> Result<Markup, crate::store::StoreError> {
    let messages = state.store.messages_for(user).await?;
    let total = messages.len();
    let shown = &messages[total.saturating_sub(CONVERSATION_LIMIT)..];
    let paused = state.store.paused_until(user, state.clock.now()).await?;
    Ok(maud::html! {
        p { "Người dùng " span.value { (user.as_str()) } }
        (pages::users::render_conversation(shown, total, paused))
    })
}

async fn status_page(state: &HttpState) -> Result<Markup, crate::store::StoreError> {
    let token = state.store.load_token().await?;
    let token = crate::token::status_of(token.as_ref(), &state.settings.token);
    let states = state.store.feed_states().await?;
    let feeds: Vec<pages::feeds::FeedRow<'_>> = state
        .settings
        .scam
        .feeds
        .iter()
        .map(|feed| pages::feeds::FeedRow {
            feed,
            state: states.iter().find(|s| s.name == feed.name),
        })
        .collect();
    let sources = state.store.report_sources().await?;
    Ok(maud::html! {
        (pages::status::render_token(&token))
        (pages::feeds::render(&feeds, &sources, state.clock.now()))
    })
}

/// A logged-in action, after its CSRF check; answers with a redirect to the page it came from.
async fn act(
    route: &Route,
    form: &HashMap<String, String>,
    state: &HttpState,
    secure: bool,
) -> warp::reply::Response {
    match route {
        Route::Logout => {
            tracing::info!("console logout");
            let mut response = redirect("/admin/login");
            set_cookie(&mut response, &session::set_cookie("", 0, secure));
            response
        }
        Route::Decide { id, decision } => {
            let reason = form
                .get("reason")
                .map(|r| r.trim().chars().take(MAX_REASON_CHARS).collect::<String>())
                .filter(|r| !r.is_empty());
            match actions::decide_report(state, *id, *decision, reason.as_deref()).await {
                Ok(Some(_)) => {
                    tracing::info!(
                        report = id,
                        decision = decision.as_str(),
                        "console decision"
                    );
                    redirect(&format!("/admin/reports?done={}", decision.result()))
                }
                Ok(None) => redirect("/admin/reports?done=missing"),
                Err(err) => unavailable(&err),
            }
        }
        Route::CreateCampaign => {
            let campaign = crate::campaigns::NewCampaign {
                text: form.get("text").cloned().unwrap_or_default(),
                image_url: form
                    .get("image_url")
                    .map(|u| u.trim().to_string())
                    .filter(|u| !u.is_empty()),
            };
            let now = state.clock.now();
            match crate::campaigns::create(&state.store, &state.settings, campaign, now).await {
                Ok(created) => {
                    state.directory.nudge_campaigns();
                    tracing::info!(
                        campaign = created.id,
                        targeted = created.targeted,
                        "console campaign"
                    );
                    redirect("/admin/campaigns?done=campaign")
                }
                Err(crate::campaigns::CreateError::Store(err)) => unavailable(&err),
                Err(_) => redirect("/admin/campaigns?done=campaign_refused"),
            }
        }
        Route::ClearPause { user } => {
            let Ok(user) = UserId::parse(user.clone()) else {
                return not_found();
            };
            match actions::clear_pause(state, &user).await {
                Ok(true) => redirect("/admin/pauses?done=unpaused"),
                Ok(false) => redirect("/admin/pauses?done=missing"),
                Err(err) => unavailable(&err),
            }
        }
        _ => not_found(),
    }
}

/// Decodes `application/x-www-form-urlencoded` (a form body or a query); a repeated name keeps its first value.
fn form_fields(raw: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw) {
        fields
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    fields
}

fn html(status: StatusCode, markup: Markup) -> warp::reply::Response {
    warp::reply::with_status(warp::reply::html(markup.into_string()), status).into_response()
}

fn stylesheet() -> warp::reply::Response {
    let mut response = warp::reply::with_header(
        pages::STYLESHEET,
        header::CONTENT_TYPE,
        "text/css; charset=utf-8",
    )
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    response
}

/// 303: after a POST the browser GETs the page, so a reload does not repeat the action.
fn redirect(location: &str) -> warp::reply::Response {
    let mut response =
        warp::reply::with_status(warp::reply(), StatusCode::SEE_OTHER).into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn not_found() -> warp::reply::Response {
    html(
        StatusCode::NOT_FOUND,
        pages::message("Không có trang này", "Đường dẫn không tồn tại."),
    )
}

fn unavailable(err: &crate::store::StoreError) -> warp::reply::Response {
    tracing::error!(error = %err, "console page unavailable");
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        pages::message(
            "Tạm thời không xem được",
            "Cơ sở dữ liệu chưa trả lời. Hãy thử lại sau ít phút.",
        ),
    )
}

fn with_session(
    mut response: warp::reply::Response,
    key: &SessionKey,
    session: &Session,
    now: i64,
    secure: bool,
) -> warp::reply::Response {
    let cookie = session::set_cookie(&key.seal(session), session.max_age(now), secure);
    set_cookie(&mut response, &cookie);
    response
}

fn set_cookie(response: &mut warp::reply::Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The headers of every console answer.
fn secured(mut response: warp::reply::Response) -> warp::reply::Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: under it browsers send `Origin: null` with our own forms, which `csrf` refuses.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_decode_and_keep_the_first_value() {
        let fields = form_fields(b"token=a%2Bb+c&csrf_token=1&csrf_token=2&reason=l%E1%BB%ABa");
        assert_eq!(fields["token"], "a+b c");
        assert_eq!(fields["csrf_token"], "1");
        assert_eq!(fields["reason"], "lừa");
    }

    #[test]
    fn notices_come_from_a_fixed_list() {
        assert!(notice("verified").is_some());
        assert_eq!(notice("<script>"), None);
    }

    #[test]
    fn the_policy_allows_no_script() {
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'none'"));
        assert!(!CONTENT_SECURITY_POLICY.contains("script-src"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
    }
}
