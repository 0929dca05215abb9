//! Hostile input over HTTP: every malformed, oversized, forged or slow request gets the right status and stores nothing.
