//! The stand-ins the service talks to during a run, in the generator's process: an OpenAI-compatible model
//! that answers at once, and a Zalo OA API that records when each reply arrives. A message carries a marker
//! (`kt` and five letters); the fake model copies it into its answer, so the fake Zalo knows which message a
//! reply answers and can time it from the moment the webhook request was sent.
//!
//! A reply that carries no marker (a templated answer, no model involved) is matched by its recipient when the
//! run sends one message per user.
//!
//! Plain warp servers, not testkit's wiremock fakes, which keep every request they receive; the bodies they
//! answer are testkit's. The servers read the current run's tracker from a [`Slot`], so one pair of fakes at a
//! fixed address can serve replicas started outside the harness across several runs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use warp::Filter;

/// The tracker of the run in progress, swapped between runs.
pub type Slot = Arc<RwLock<Arc<Tracker>>>;

/// Zalo user id of user index 0; user i is `USER_BASE + i`.
pub const USER_BASE: u64 = 7_000_000_000_000_000_000;

/// Send times and reply arrivals of one run's messages, indexed by message number.
pub struct Tracker {
    t0: Instant,
    /// Message n comes from user n (one message per user), so a reply's recipient names its message.
    by_user: bool,
    /// Nanoseconds after `t0` when message n was sent, plus one (0 = not sent).
    sent_at: Vec<AtomicU64>,
    answered: Vec<AtomicBool>,
    pub latency: Mutex<Histogram<u64>>,
    pub replies: AtomicU64,
    pub answered_count: AtomicU64,
    pub unmatched: AtomicU64,
}

impl Tracker {
    pub fn new(messages: usize, users: usize) -> Self {
        Self {
            t0: Instant::now(),
            by_user: users >= messages,
            sent_at: (0..messages).map(|_| AtomicU64::new(0)).collect(),
            answered: (0..messages).map(|_| AtomicBool::new(false)).collect(),
            latency: Mutex::new(super::histogram()),
            replies: AtomicU64::new(0),
            answered_count: AtomicU64::new(0),
            unmatched: AtomicU64::new(0),
        }
    }

    pub fn sent(&self, n: usize, at: Instant) {
        let nanos = at.duration_since(self.t0).as_nanos() as u64 + 1;
        self.sent_at[n].store(nanos, Ordering::Release);
    }

    /// Records a reply arriving now: matched by its marker, else by its recipient.
    fn reply(&self, body: &[u8]) {
        match find_marker(body) {
            Some(n) => self.arrived(n),
            None => match recipient_index(body) {
                Some(n) if self.by_user => self.arrived(n),
                _ => {
                    self.replies.fetch_add(1, Ordering::Relaxed);
                    self.unmatched.fetch_add(1, Ordering::Relaxed);
                }
            },
        }
    }

    /// Records a reply to message n arriving now; only its first part counts.
    fn arrived(&self, n: usize) {
        let now = self.t0.elapsed().as_nanos() as u64 + 1;
        self.replies.fetch_add(1, Ordering::Relaxed);
        let Some(sent) = self.sent_at.get(n).map(|s| s.load(Ordering::Acquire)) else {
            self.unmatched.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if sent == 0 || self.answered[n].swap(true, Ordering::AcqRel) {
            return;
        }
        self.answered_count.fetch_add(1, Ordering::Relaxed);
        let micros = now.saturating_sub(sent) / 1_000;
        self.latency
            .lock()
            .expect("latency lock")
            .saturating_record(micros.max(1));
    }
}

/// The marker of message n: `kt` and five lowercase letters (letters only, so the scam scanner sees no
/// number in it and the message takes the model path).
pub fn marker(n: usize) -> String {
    let mut letters = [b'a'; 5];
    let mut rest = n;
    for slot in letters.iter_mut().rev() {
        *slot = b'a' + (rest % 26) as u8;
        rest /= 26;
    }
    format!("kt{}", std::str::from_utf8(&letters).expect("ascii"))
}

/// The message number of the last marker in `bytes`.
pub fn find_marker(bytes: &[u8]) -> Option<usize> {
    let mut found = None;
    let mut i = 0;
    while i + 7 <= bytes.len() {
        if &bytes[i..i + 2] == b"kt"
            && bytes[i + 2..i + 7].iter().all(u8::is_ascii_lowercase)
            && !bytes.get(i + 7).is_some_and(u8::is_ascii_lowercase)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
        {
            let n = bytes[i + 2..i + 7]
                .iter()
                .fold(0usize, |acc, b| acc * 26 + (b - b'a') as usize);
            found = Some(n);
            i += 7;
        } else {
            i += 1;
        }
    }
    found
}

/// The user index of a send's recipient (`"user_id":"<digits>"`), when it is one of the harness's users.
fn recipient_index(bytes: &[u8]) -> Option<usize> {
    let key = b"\"user_id\":\"";
    let at = bytes.windows(key.len()).position(|w| w == key)? + key.len();
    let digits = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let id: u64 = std::str::from_utf8(&bytes[at..at + digits])
        .ok()?
        .parse()
        .ok()?;
    usize::try_from(id.checked_sub(USER_BASE)?).ok()
}

/// Starts the fake model (answering after `llm_latency`) and the fake Zalo API, both on `listen` (port 0: any
/// free port); returns the model's and Zalo's base URLs.
pub async fn start(slot: Slot, listen: SocketAddr, llm_latency: Duration) -> (String, String) {
    let llm = warp::post()
        .and(warp::path!("v1" / "chat" / "completions"))
        .and(warp::body::bytes())
        .and_then(move |body: bytes::Bytes| async move {
            if !llm_latency.is_zero() {
                tokio::time::sleep(llm_latency).await;
            }
            // The last marker in the prompt is the current message's (history comes before it).
            let mark = find_marker(&body).map(marker).unwrap_or_default();
            let content = format!(
                "Chào bạn, mình đã nhận câu hỏi {mark}. Bạn đừng chuyển tiền hay đọc mã OTP cho người lạ nhé."
            );
            Ok::<_, std::convert::Infallible>(warp::reply::json(&testkit::openai::completion(
                &content,
            )))
        });
    let sends = Arc::new(AtomicU64::new(0));
    let zalo = warp::post()
        .and(warp::path!("v3.0" / "oa" / "message" / "cs"))
        .and(warp::body::bytes())
        .map(move |body: bytes::Bytes| {
            slot.read().expect("tracker slot").reply(&body);
            let id = sends.fetch_add(1, Ordering::Relaxed);
            warp::reply::json(&testkit::zalo::sent_body(
                &format!("lt{id:016x}"),
                &serde_json::json!("0"),
            ))
        });
    // One address for both: their paths do not overlap.
    let base = serve(llm.or(zalo), listen).await;
    (format!("{base}/v1"), base)
}

async fn serve<F>(filter: F, listen: SocketAddr) -> String
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .unwrap_or_else(|e| panic!("bind the fakes on {listen}: {e}"));
    let addr: SocketAddr = listener.local_addr().expect("fake address");
    tokio::spawn(warp::serve(filter).incoming(listener).run());
    format!("http://{addr}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reply_without_a_marker_is_matched_by_its_recipient() {
        let user = super::USER_BASE + 42;
        let body = format!(
            r#"{{"recipient":{{"user_id":"{user}"}},"message":{{"text":"Số này bị báo lừa đảo"}}}}"#
        );
        assert_eq!(super::recipient_index(body.as_bytes()), Some(42));
        assert_eq!(
            super::recipient_index(br#"{"recipient":{"user_id":"12"}}"#),
            None
        );
    }

    #[test]
    fn markers_round_trip() {
        for n in [0, 1, 25, 26, 12_345, 99_999, 11_881_375] {
            let text = format!("hỏi {} nhé", super::marker(n));
            assert_eq!(super::find_marker(text.as_bytes()), Some(n));
        }
    }
}
