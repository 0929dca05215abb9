//! Why a fetch failed, one variant per `result` label of `tradesphere_media_fetch_total`.

/// Why a guarded fetch (and, for media, the decoding after it) failed. The messages name no URL or
/// address, so they may be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum FetchError {
    #[error("not a valid URL")]
    BadUrl,
    #[error("the scheme is not allowed (https only, http for allow-listed hosts)")]
    ForbiddenScheme,
    #[error("the host resolves to an address that is not allowed")]
    ForbiddenAddress,
    #[error("more redirects than allowed")]
    TooManyRedirects,
    #[error("the server could not be reached or broke off")]
    Unreachable,
    #[error("the fetch took longer than its deadline")]
    Timeout,
    #[error("the server answered with a status other than success")]
    HttpStatus,
    #[error("the body is larger than allowed")]
    TooLarge,
    #[error("not a PNG, JPEG, WebP or GIF image")]
    NotImage,
    #[error("the image is damaged or truncated")]
    BadImage,
    #[error("the image has more pixels than allowed")]
    TooManyPixels,
}

impl FetchError {
    pub const ALL: [FetchError; 11] = [
        FetchError::BadUrl,
        FetchError::ForbiddenScheme,
        FetchError::ForbiddenAddress,
        FetchError::TooManyRedirects,
        FetchError::Unreachable,
        FetchError::Timeout,
        FetchError::HttpStatus,
        FetchError::TooLarge,
        FetchError::NotImage,
        FetchError::BadImage,
        FetchError::TooManyPixels,
    ];

    /// The `result` label of a success.
    pub const OK_LABEL: &'static str = "ok";

    pub fn as_str(self) -> &'static str {
        match self {
            FetchError::BadUrl => "bad_url",
            FetchError::ForbiddenScheme => "forbidden_scheme",
            FetchError::ForbiddenAddress => "forbidden_address",
            FetchError::TooManyRedirects => "too_many_redirects",
            FetchError::Unreachable => "unreachable",
            FetchError::Timeout => "timeout",
            FetchError::HttpStatus => "http_status",
            FetchError::TooLarge => "too_large",
            FetchError::NotImage => "not_image",
            FetchError::BadImage => "bad_image",
            FetchError::TooManyPixels => "too_many_pixels",
        }
    }

    /// The `result` label of any outcome: [`FetchError::OK_LABEL`] or the error's own.
    pub fn result_label<T>(result: &Result<T, FetchError>) -> &'static str {
        match result {
            Ok(_) => Self::OK_LABEL,
            Err(e) => e.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn labels_are_distinct_snake_case_and_all_listed() {
        let labels: HashSet<&str> = FetchError::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(labels.len(), FetchError::ALL.len());
        assert!(!labels.contains(FetchError::OK_LABEL));
        for label in labels {
            assert!(label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(FetchError::result_label(&Ok::<(), _>(())), "ok");
        assert_eq!(
            FetchError::result_label(&Err::<(), _>(FetchError::TooLarge)),
            "too_large"
        );
    }
}
