//! A conditional GET whose body is handed over chunk by chunk (outside scam feeds): the caller's
//! validators go out as `If-None-Match` / `If-Modified-Since`, a 304 is an answer of its own, and the body
//! streams under the fetch's deadline and size cap, compressed or not, as it arrives.

use bytes::Bytes;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};
use reqwest::{Response, StatusCode};
use tokio::time::Instant;

use super::fetcher::{classify, within};
use super::{FetchError, GuardedFetcher};

/// What the last copy was, for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Conditional {
    /// 304: the copy the validators name is still current.
    NotModified,
    Body(Box<BodyStream>),
}

/// A 2xx answer whose body has not been read yet.
#[derive(Debug)]
pub struct BodyStream {
    response: Response,
    deadline: Instant,
    max_bytes: u64,
    read: u64,
    /// The new validators, to send next time.
    pub validators: Validators,
    pub content_type: Option<String>,
}

impl BodyStream {
    /// The next chunk as it arrived on the wire (still compressed, when it was), `None` at the end. Past
    /// the deadline it is [`FetchError::Timeout`]; past the size cap, [`FetchError::TooLarge`].
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, FetchError> {
        let chunk = within(self.deadline, self.response.chunk())
            .await?
            .map_err(classify)?;
        if let Some(chunk) = &chunk {
            self.read += chunk.len() as u64;
            if self.read > self.max_bytes {
                return Err(FetchError::TooLarge);
            }
        }
        Ok(chunk)
    }
}

impl GuardedFetcher {
    /// GETs `url` with `validators` and `Accept-Encoding: gzip`, following redirects like
    /// [`GuardedFetcher::get`]. A 304 is [`Conditional::NotModified`]; any other status but 2xx is
    /// [`FetchError::HttpStatus`]. The deadline started now covers the body too.
    pub async fn get_conditional(
        &self,
        url: &str,
        validators: &Validators,
    ) -> Result<Conditional, FetchError> {
        let limits = *self.limits();
        let deadline = Instant::now() + limits.total_timeout;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let value = |v: &Option<String>| v.as_deref().and_then(|v| HeaderValue::from_str(v).ok());
        if let Some(etag) = value(&validators.etag) {
            headers.insert(IF_NONE_MATCH, etag);
        }
        if let Some(since) = value(&validators.last_modified) {
            headers.insert(IF_MODIFIED_SINCE, since);
        }
        let (_, end) = self
            .walk(url, limits.max_redirects, deadline, &headers)
            .await;
        let response = end?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        if !response.status().is_success() {
            return Err(FetchError::HttpStatus);
        }
        if response
            .content_length()
            .is_some_and(|n| n > limits.max_bytes)
        {
            return Err(FetchError::TooLarge);
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Conditional::Body(Box::new(BodyStream {
            validators: Validators {
                etag: header(ETAG),
                last_modified: header(LAST_MODIFIED),
            },
            content_type: header(CONTENT_TYPE),
            response,
            deadline,
            max_bytes: limits.max_bytes,
            read: 0,
        })))
    }
}
