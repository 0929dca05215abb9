//! Reliability under faults: kill -9 under load, random actor panics, failing dependencies, a restarted database.
