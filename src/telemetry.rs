//! Logging and metrics setup, and every metric name in one place.
//!
//! Architecture Invariant: metric labels carry only bounded, non-personal values (event names from a fixed
//! list, outcomes, kinds). User ids, phone numbers and message text never become labels.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::domain::notice::NoticeStatus;
use crate::net::FetchError;
use crate::pipeline::Role;
use crate::zalo::events;

pub const WEBHOOK_EVENTS: &str = "tradesphere_webhook_events_total";
pub const WEBHOOK_DURATION: &str = "tradesphere_webhook_request_duration_seconds";
/// Webhook events per inbox transaction (group commit).
pub const INBOX_BATCH_SIZE: &str = "tradesphere_inbox_batch_size";
/// The pipeline's writes (completions, attempts, send claims and results) per transaction (group commit).
pub const WRITE_BATCH_SIZE: &str = "tradesphere_write_batch_size";
pub const EVENTS_HANDLED: &str = "tradesphere_events_handled_total";
pub const INBOX_PENDING: &str = "tradesphere_inbox_pending_events";
pub const OUTBOUND_SENDS: &str = "tradesphere_outbound_sends_total";
pub const OUTBOUND_DURATION: &str = "tradesphere_outbound_send_duration_seconds";
pub const LLM_REQUESTS: &str = "tradesphere_llm_requests_total";
pub const LLM_DURATION: &str = "tradesphere_llm_request_duration_seconds";
pub const LLM_TOKENS: &str = "tradesphere_llm_tokens_total";
pub const LLM_BUDGET_REMAINING: &str = "tradesphere_llm_global_budget_remaining_tokens";
pub const HANDOFF_PAUSED: &str = "tradesphere_handoff_paused_messages_total";
pub const SCAM_LOOKUPS: &str = "tradesphere_scam_lookups_total";
pub const SCAM_LOOKUP_DURATION: &str = "tradesphere_scam_lookup_duration_seconds";
pub const SCAM_SIGNALS: &str = "tradesphere_scam_signals_total";
pub const SCAM_CHECKS: &str = "tradesphere_scam_checks_total";
pub const SCAM_REASONS: &str = "tradesphere_scam_reasons_total";
pub const SCAM_REPORTS_INDEXED: &str = "tradesphere_scam_reports_indexed";
pub const SCAM_USER_REPORTS: &str = "tradesphere_scam_user_reports_total";
/// Unix time of each feed's last successful sync (a new snapshot or a 304), by `feed` (0: never).
pub const SCAM_FEED_LAST_SUCCESS: &str = "tradesphere_scam_feed_last_success_timestamp_seconds";
/// Entries each feed lists now, by `feed`.
pub const SCAM_FEED_ENTRIES: &str = "tradesphere_scam_feed_entries";
/// Feed syncs, by `feed` and `result` (`feeds::SyncResult`).
pub const SCAM_FEED_SYNCS: &str = "tradesphere_scam_feed_syncs_total";
pub const MODERATION_DECISIONS: &str = "tradesphere_moderation_decisions_total";
pub const MODERATION_NOTICES: &str = "tradesphere_moderation_notices_total";
pub const ACTOR_RESTARTS: &str = "tradesphere_actor_restarts_total";
pub const CONVERSATION_ACTORS: &str = "tradesphere_conversation_actors";
/// Conversation actors stopped while idle: `reason` = `idle` (idle timeout) or `capacity` (`max_live`).
pub const CONVERSATIONS_STOPPED: &str = "tradesphere_conversations_stopped_total";
pub const TOKEN_EXPIRY: &str = "tradesphere_zalo_access_token_expiry_timestamp_seconds";
pub const REFRESH_TOKEN_EXPIRY: &str = "tradesphere_zalo_refresh_token_expiry_timestamp_seconds";
pub const TOKEN_REFRESH: &str = "tradesphere_zalo_token_refresh_total";
pub const TOKEN_LAST_REFRESH_SUCCESS: &str =
    "tradesphere_zalo_token_last_refresh_success_timestamp_seconds";
pub const TOKEN_REAUTH_REQUIRED: &str = "tradesphere_zalo_token_reauthorization_required";
pub const TOKEN_REFRESH_INTERRUPTED: &str = "tradesphere_zalo_token_refresh_interrupted_total";
pub const BUILD_INFO: &str = "tradesphere_build_info";
/// Partitions the cluster has (cluster mode only, so its alert stays silent on SQLite).
pub const CLUSTER_PARTITIONS: &str = "tradesphere_cluster_partitions";
/// Partitions this replica owns.
pub const CLUSTER_OWNED_PARTITIONS: &str = "tradesphere_cluster_owned_partitions";
/// Live cluster members, as this replica last read them.
pub const CLUSTER_MEMBERS: &str = "tradesphere_cluster_members";
/// Partitions this replica claimed.
pub const CLUSTER_TAKEOVERS: &str = "tradesphere_cluster_takeovers_total";
/// Partitions this replica stopped owning, by `reason` (`actors::cluster::LossReason`).
pub const CLUSTER_LOSSES: &str = "tradesphere_cluster_partition_losses_total";
/// Writes refused because another replica owns the partition now, by `op` (`store::FencedOp`).
pub const CLUSTER_FENCED_WRITES: &str = "tradesphere_cluster_fenced_writes_total";
pub const CLUSTER_HEARTBEAT_DURATION: &str = "tradesphere_cluster_heartbeat_duration_seconds";
/// Reply parts claimed but not sent because this replica stopped trusting its lease.
pub const OUTBOUND_ABANDONED: &str = "tradesphere_outbound_abandoned_total";
pub const INBOX_OLDEST_AGE: &str = "tradesphere_inbox_oldest_pending_age_seconds";
pub const BACKUP_LAST_SUCCESS: &str = "tradesphere_backup_last_success_timestamp_seconds";
pub const DB_POOL_CONNECTIONS: &str = "tradesphere_db_pool_connections";
pub const DB_POOL_MAX: &str = "tradesphere_db_pool_max_connections";
pub const LLM_BUDGET_LIMIT: &str = "tradesphere_llm_global_budget_limit_tokens";
pub const ALERTS_FORWARDED: &str = "tradesphere_alerts_forwarded_total";
pub const ACTOR_MAILBOX_DEPTH: &str = "tradesphere_actor_mailbox_depth_max";
pub const INBOUND_RATE_LIMITED: &str = "tradesphere_inbound_rate_limited_total";
pub const ADMIN_RATE_LIMITED: &str = "tradesphere_admin_rate_limited_total";
/// Images fetched (and decoded) from outside URLs: `result` = `ok` or a `net::FetchError` label.
pub const MEDIA_FETCH: &str = "tradesphere_media_fetch_total";
/// Time spent reading one image, by `stage`: `decode` (fetch included), `qr`, `ocr`.
pub const IMAGE_STAGE_DURATION: &str = "tradesphere_image_stage_duration_seconds";
/// QR codes found in the images read.
pub const IMAGE_QR_CODES: &str = "tradesphere_image_qr_codes_total";
/// Links followed, by `result`: why each walk ended (`scam::followed::ChainEnd`).
pub const LINK_EXPANSIONS: &str = "tradesphere_link_expansions_total";
/// Redirects met per link followed.
pub const LINK_EXPANSION_HOPS: &str = "tradesphere_link_expansion_hops";
/// RDAP lookups made (cached answers are not counted), by `result` (`scam::followed::RdapResult`).
pub const RDAP_LOOKUPS: &str = "tradesphere_rdap_lookups_total";
/// Campaign recipients by how their message ended (`domain::campaign::CampaignSend`): sent, failed, ambiguous,
/// or skipped and why.
pub const CAMPAIGN_SENDS: &str = "tradesphere_campaign_sends_total";

/// Messages sent to each singleton actor and not yet taken up, by [`Role`] (per-user conversation actors
/// are not counted: each handles one user's messages in order and is bounded by that user's pace). ractor
/// exposes no queue length, so senders count in ([`mailbox_in`]) and handlers count out ([`mailbox_out`]);
/// a restart resets the count, since the dead incarnation's mailbox is gone.
static MAILBOX_DEPTH: [AtomicI64; Role::START_ORDER.len()] =
    [const { AtomicI64::new(0) }; Role::START_ORDER.len()];

fn mailbox_slot(role: Role) -> &'static AtomicI64 {
    &MAILBOX_DEPTH[role as usize]
}

/// A message is on its way to the mailbox of the actor in `role`.
pub fn mailbox_in(role: Role) {
    mailbox_slot(role).fetch_add(1, Ordering::Relaxed);
}

/// The actor in `role` took a message up (or a send failed).
pub fn mailbox_out(role: Role) {
    let _ = mailbox_slot(role).fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
        Some((n - 1).max(0))
    });
}

/// The actor in `role` (re)started with an empty mailbox.
pub fn mailbox_reset(role: Role) {
    mailbox_slot(role).store(0, Ordering::Relaxed);
}

/// Copies the counts into the gauge (at each scrape).
pub fn publish_mailbox_depths() {
    for role in Role::START_ORDER {
        metrics::gauge!(ACTOR_MAILBOX_DEPTH, "actor" => role.as_str())
            .set(mailbox_slot(role).load(Ordering::Relaxed).max(0) as f64);
    }
}

/// The actors that are restarted under supervision, as label values.
/// Counts one checked message: its level, each reason by kind and each scenario.
pub fn count_check(outcome: &crate::scam::check::CheckOutcome) {
    metrics::counter!(SCAM_CHECKS, "level" => outcome.level.as_str()).increment(1);
    for reason in &outcome.reasons {
        metrics::counter!(SCAM_REASONS, "kind" => reason.kind.as_str()).increment(1);
    }
    for signal in &outcome.signals {
        metrics::counter!(SCAM_SIGNALS, "scenario" => signal.scenario.as_str()).increment(1);
    }
}

pub fn restarted_actors() -> impl Iterator<Item = &'static str> {
    Role::START_ORDER
        .into_iter()
        .map(Role::as_str)
        .chain([Role::CONVERSATION_LABEL])
}

/// Installs the global tracing subscriber (once). Level from `RUST_LOG`, default `info`.
pub fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The process-wide Prometheus recorder, installed on first use (a process can hold only one).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(WEBHOOK_DURATION.into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0,
                    ],
                )
                .and_then(|b| {
                    // Index lookups take microseconds.
                    b.set_buckets_for_metric(
                        Matcher::Full(SCAM_LOOKUP_DURATION.into()),
                        &[
                            0.000_001, 0.000_002, 0.000_005, 0.000_01, 0.000_025, 0.000_05,
                            0.000_1, 0.000_5, 0.001, 0.01,
                        ],
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(INBOX_BATCH_SIZE.into()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(LINK_EXPANSION_HOPS.into()),
                        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0],
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(WRITE_BATCH_SIZE.into()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Suffix("_seconds".into()),
                        &[
                            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                            60.0,
                        ],
                    )
                })
                .expect("bucket lists are non-empty")
                .install_recorder()
                .expect("the Prometheus recorder is installed once per process");
            describe_and_preinitialise();
            handle
        })
        .clone()
}

/// Descriptions (HELP lines) and zero-valued label sets, so dashboards are not empty on a quiet system.
fn describe_and_preinitialise() {
    use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};

    describe_counter!(
        WEBHOOK_EVENTS,
        Unit::Count,
        "Webhook requests by event name and outcome"
    );
    describe_histogram!(
        WEBHOOK_DURATION,
        Unit::Seconds,
        "Webhook request handling time, up to the answer"
    );
    describe_histogram!(
        INBOX_BATCH_SIZE,
        Unit::Count,
        "Webhook events committed per inbox transaction (group commit)"
    );
    describe_histogram!(
        WRITE_BATCH_SIZE,
        Unit::Count,
        "Pipeline writes (completions, attempts, send claims and results) committed per transaction (group commit)"
    );
    describe_counter!(
        EVENTS_HANDLED,
        Unit::Count,
        "Inbox events handled, by outcome"
    );
    describe_gauge!(
        INBOX_PENDING,
        Unit::Count,
        "Persisted events not yet handled (at the last sweep)"
    );
    describe_counter!(
        OUTBOUND_SENDS,
        Unit::Count,
        "Outbound message parts by result"
    );
    describe_histogram!(
        OUTBOUND_DURATION,
        Unit::Seconds,
        "Duration of one Zalo send call"
    );
    describe_counter!(LLM_REQUESTS, Unit::Count, "LLM completions by result");
    describe_histogram!(
        LLM_DURATION,
        Unit::Seconds,
        "Duration of one LLM completion request"
    );
    describe_counter!(
        SCAM_LOOKUPS,
        Unit::Count,
        "Entities checked against the report index, by entity kind and verdict"
    );
    describe_histogram!(
        SCAM_LOOKUP_DURATION,
        Unit::Seconds,
        "Time to look one entity up in the in-memory report index (all its keys)"
    );
    describe_counter!(
        SCAM_SIGNALS,
        Unit::Count,
        "Scam-phrase signals found in checked messages, by scenario"
    );
    describe_counter!(
        SCAM_CHECKS,
        Unit::Count,
        "Messages checked, by the level of their verdict (danger, caution, no_signs)"
    );
    describe_counter!(
        SCAM_REASONS,
        Unit::Count,
        "Reasons counted toward checked messages' verdicts, by kind"
    );
    describe_gauge!(
        SCAM_REPORTS_INDEXED,
        Unit::Count,
        "Distinct reported entities in the in-memory index, by kind"
    );
    describe_counter!(
        SCAM_USER_REPORTS,
        Unit::Count,
        "User reports, by result (created, duplicate, over_cap, verified, rejected)"
    );
    describe_counter!(
        MODERATION_DECISIONS,
        Unit::Count,
        "Moderation decisions, by action (report_verify, report_reject, appeal_accept, appeal_reject)"
    );
    describe_counter!(
        MODERATION_NOTICES,
        Unit::Count,
        "Moderation outcome notices that left their wait, by result (sent, expired)"
    );
    describe_gauge!(
        SCAM_FEED_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of each scam feed's last successful sync (0 when never), by feed"
    );
    describe_gauge!(
        SCAM_FEED_ENTRIES,
        Unit::Count,
        "Entries each scam feed lists now, by feed"
    );
    describe_counter!(
        SCAM_FEED_SYNCS,
        Unit::Count,
        "Scam feed syncs, by feed and result"
    );
    describe_counter!(
        ACTOR_RESTARTS,
        Unit::Count,
        "Actor restarts after a failure, by actor"
    );
    describe_gauge!(
        CONVERSATION_ACTORS,
        Unit::Count,
        "Live per-user conversation actors"
    );
    describe_counter!(
        CONVERSATIONS_STOPPED,
        Unit::Count,
        "Idle conversation actors stopped, by reason (idle timeout, or the live-actor cap)"
    );
    describe_gauge!(
        TOKEN_EXPIRY,
        Unit::Seconds,
        "Unix time at which the current Zalo access token expires"
    );
    describe_gauge!(BUILD_INFO, Unit::Count, "Build information (always 1)");
    describe_gauge!(
        INBOX_OLDEST_AGE,
        Unit::Seconds,
        "Age of the oldest unhandled inbox event (0 when none), read at each scrape"
    );
    describe_gauge!(
        BACKUP_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of the last successful `tradesphere backup`, read from the database at each scrape"
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        Unit::Count,
        "Database pool connections, by state (idle, in_use)"
    );
    describe_gauge!(DB_POOL_MAX, Unit::Count, "Database pool size limit");
    describe_gauge!(
        LLM_BUDGET_LIMIT,
        Unit::Count,
        "The daily global LLM token budget (0 = unlimited)"
    );
    describe_gauge!(
        ACTOR_MAILBOX_DEPTH,
        Unit::Count,
        "Messages waiting in a singleton actor's mailbox, by actor"
    );
    describe_counter!(
        INBOUND_RATE_LIMITED,
        Unit::Count,
        "User messages stored but not answered because their sender exceeded the per-user rate limit"
    );
    describe_counter!(
        ADMIN_RATE_LIMITED,
        Unit::Count,
        "Admin API requests refused with 429 by the per-caller rate limit"
    );
    describe_counter!(
        ALERTS_FORWARDED,
        Unit::Count,
        "Alertmanager notifications forwarded to admins on Zalo, by result (sent, failed)"
    );
    describe_gauge!(
        REFRESH_TOKEN_EXPIRY,
        Unit::Seconds,
        "Unix time at which the current refresh token expires (issue + 90 days)"
    );
    describe_counter!(
        TOKEN_REFRESH,
        Unit::Count,
        "Zalo token refresh attempts by result (ok, error, invalid_grant)"
    );
    describe_gauge!(
        TOKEN_LAST_REFRESH_SUCCESS,
        Unit::Seconds,
        "Unix time of the last successful token refresh"
    );
    describe_gauge!(
        TOKEN_REAUTH_REQUIRED,
        Unit::Count,
        "1 when Zalo refused the refresh token and an OA admin must re-authorise"
    );
    describe_counter!(
        TOKEN_REFRESH_INTERRUPTED,
        Unit::Count,
        "Refreshes interrupted between Zalo's answer and the commit"
    );
    for result in ["ok", "error", "invalid_grant"] {
        counter!(TOKEN_REFRESH, "result" => result).increment(0);
    }
    describe_counter!(
        MEDIA_FETCH,
        Unit::Count,
        "Images fetched from outside URLs and decoded, by result (ok, or why not)"
    );
    counter!(MEDIA_FETCH, "result" => FetchError::OK_LABEL).increment(0);
    for error in FetchError::ALL {
        counter!(MEDIA_FETCH, "result" => error.as_str()).increment(0);
    }
    describe_histogram!(
        IMAGE_STAGE_DURATION,
        Unit::Seconds,
        "Time to read one image, by stage: decode (fetch included), qr, ocr"
    );
    describe_counter!(
        IMAGE_QR_CODES,
        Unit::Count,
        "QR codes found in the images users sent"
    );
    counter!(IMAGE_QR_CODES).increment(0);
    describe_counter!(
        LINK_EXPANSIONS,
        Unit::Count,
        "Links followed to where they lead, by how the walk ended"
    );
    for end in crate::scam::followed::ChainEnd::ALL {
        counter!(LINK_EXPANSIONS, "result" => end.as_str()).increment(0);
    }
    describe_histogram!(
        LINK_EXPANSION_HOPS,
        Unit::Count,
        "Redirects met per link followed"
    );
    describe_counter!(
        RDAP_LOOKUPS,
        Unit::Count,
        "Domain registration dates asked by RDAP, by result"
    );
    for result in crate::scam::followed::RdapResult::ALL {
        counter!(RDAP_LOOKUPS, "result" => result.as_str()).increment(0);
    }
    counter!(TOKEN_REFRESH_INTERRUPTED).increment(0);
    describe_gauge!(
        CLUSTER_PARTITIONS,
        Unit::Count,
        "Partitions the cluster has (cluster mode only)"
    );
    describe_gauge!(
        CLUSTER_OWNED_PARTITIONS,
        Unit::Count,
        "Partitions this replica owns"
    );
    describe_gauge!(CLUSTER_MEMBERS, Unit::Count, "Live cluster members");
    describe_counter!(
        CLUSTER_TAKEOVERS,
        Unit::Count,
        "Partitions this replica claimed"
    );
    describe_counter!(
        CLUSTER_LOSSES,
        Unit::Count,
        "Partitions this replica stopped owning, by reason"
    );
    describe_counter!(
        CLUSTER_FENCED_WRITES,
        Unit::Count,
        "Writes refused because another replica owns the partition now, by op"
    );
    describe_histogram!(
        CLUSTER_HEARTBEAT_DURATION,
        Unit::Seconds,
        "Time of one cluster heartbeat statement"
    );
    describe_counter!(
        OUTBOUND_ABANDONED,
        Unit::Count,
        "Reply parts claimed but not sent because this replica stopped trusting its lease"
    );
    counter!(CLUSTER_TAKEOVERS).increment(0);
    counter!(OUTBOUND_ABANDONED).increment(0);
    for reason in crate::cluster::LossReason::ALL {
        counter!(CLUSTER_LOSSES, "reason" => reason.as_str()).increment(0);
    }
    for op in crate::cluster::FencedOp::ALL {
        counter!(CLUSTER_FENCED_WRITES, "op" => op.as_str()).increment(0);
    }
    describe_counter!(
        CAMPAIGN_SENDS,
        Unit::Count,
        "Campaign recipients by result: sent, failed, ambiguous, or skipped (opted_out, outside_window, unfollowed)"
    );
    for send in crate::domain::campaign::CampaignSend::ALL {
        counter!(CAMPAIGN_SENDS, "result" => send.as_str()).increment(0);
    }

    for outcome in ["accepted", "duplicate", "probe"] {
        for event in events::labels() {
            counter!(WEBHOOK_EVENTS, "event" => event, "outcome" => outcome).increment(0);
        }
    }
    for outcome in ["unauthorized", "malformed", "too_large", "unavailable"] {
        counter!(WEBHOOK_EVENTS, "event" => "unknown", "outcome" => outcome).increment(0);
    }
    for result in ["sent", "console", "retried", "failed", "ambiguous"] {
        counter!(OUTBOUND_SENDS, "result" => result).increment(0);
    }
    for result in [
        "ok",
        "error",
        "timeout",
        "not_configured",
        "rate_limited",
        "budget_exhausted",
        "breaker_open",
        "cancelled",
    ] {
        counter!(LLM_REQUESTS, "result" => result).increment(0);
    }
    describe_counter!(
        LLM_TOKENS,
        Unit::Count,
        "LLM tokens used, by kind (prompt, completion)"
    );
    describe_gauge!(
        LLM_BUDGET_REMAINING,
        Unit::Count,
        "Tokens left in today's global LLM budget (Vietnam day)"
    );
    describe_counter!(
        HANDOFF_PAUSED,
        Unit::Count,
        "User messages left to a human because an OA admin is talking to the user"
    );
    for kind in ["prompt", "completion"] {
        counter!(LLM_TOKENS, "kind" => kind).increment(0);
    }
    counter!(HANDOFF_PAUSED).increment(0);
    for kind in crate::scam::EntityKind::ALL {
        for verdict in crate::scam::verdict::Verdict::ALL {
            counter!(SCAM_LOOKUPS, "kind" => kind.as_str(), "verdict" => verdict.as_str())
                .increment(0);
        }
        gauge!(SCAM_REPORTS_INDEXED, "kind" => kind.as_str()).set(0.0);
    }
    for scenario in crate::scam::signals::Scenario::ALL {
        counter!(SCAM_SIGNALS, "scenario" => scenario.as_str()).increment(0);
    }
    for level in crate::scam::Level::ALL {
        counter!(SCAM_CHECKS, "level" => level.as_str()).increment(0);
    }
    for kind in crate::scam::ReasonKind::ALL {
        counter!(SCAM_REASONS, "kind" => kind.as_str()).increment(0);
    }
    for result in crate::scam::trust::ReportResult::ALL {
        counter!(SCAM_USER_REPORTS, "result" => result.as_str()).increment(0);
    }
    for action in crate::scam::trust::ModerationAction::ALL {
        counter!(MODERATION_DECISIONS, "action" => action.as_str()).increment(0);
    }
    for status in [NoticeStatus::Sent, NoticeStatus::Expired] {
        counter!(MODERATION_NOTICES, "result" => status.as_str()).increment(0);
    }
    for actor in restarted_actors() {
        counter!(ACTOR_RESTARTS, "actor" => actor).increment(0);
    }
    gauge!(CONVERSATION_ACTORS).set(0.0);
    for reason in ["idle", "capacity"] {
        counter!(CONVERSATIONS_STOPPED, "reason" => reason).increment(0);
    }
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    gauge!(INBOX_OLDEST_AGE).set(0.0);
    for state in ["idle", "in_use"] {
        gauge!(DB_POOL_CONNECTIONS, "state" => state).set(0.0);
    }
    for result in ["sent", "failed"] {
        counter!(ALERTS_FORWARDED, "result" => result).increment(0);
    }
    counter!(INBOUND_RATE_LIMITED).increment(0);
    counter!(ADMIN_RATE_LIMITED).increment(0);
    for role in Role::START_ORDER {
        gauge!(ACTOR_MAILBOX_DEPTH, "actor" => role.as_str()).set(0.0);
    }
    // Every outcome, so a dashboard shows it even before the first one happens.
    for outcome in crate::pipeline::Outcome::ALL {
        counter!(EVENTS_HANDLED, "outcome" => outcome.as_str()).increment(0);
    }
}

#[cfg(test)]
mod mailbox_tests {
    use super::*;

    #[test]
    fn mailbox_counts_in_and_out_and_resets() {
        // A role no other unit test touches.
        let role = Role::TokenKeeper;
        let depth = || mailbox_slot(role).load(Ordering::Relaxed);
        mailbox_reset(role);
        mailbox_in(role);
        mailbox_in(role);
        mailbox_out(role);
        assert_eq!(depth(), 1);
        mailbox_out(role);
        mailbox_out(role);
        assert_eq!(depth(), 0, "never below zero");
        mailbox_in(role);
        mailbox_reset(role);
        assert_eq!(depth(), 0);
    }

    #[test]
    fn the_start_order_lists_every_role_in_declaration_order() {
        for (i, role) in Role::START_ORDER.into_iter().enumerate() {
            assert_eq!(
                role as usize, i,
                "{role} is not at its place in the start order"
            );
        }
    }
}
