//! `GET /api/v1/cluster` (admin): this replica's member, the partitions it owns at which epochs, and the live
//! members as its last rebalance read them. Solo (SQLite) shows `"mode": "solo"` and owns everything.

use serde_json::{Value, json};
use warp::http::{HeaderMap, StatusCode};

use super::admin::refuse_unless_admin;
use super::{HttpState, json_reply};
use std::time::Duration;

use crate::actors::Directory;
use crate::actors::ask;
use crate::actors::cluster::{ClusterMsg, ClusterStatus};
use crate::cluster::Ownership;
use crate::pipeline::Role;

pub(super) async fn show(headers: HeaderMap, state: HttpState) -> warp::reply::Response {
    if let Some(denied) = refuse_unless_admin(&headers, &state) {
        return denied;
    }
    let status = status(&state.directory, &state.ownership).await;
    let body = json!({
        "mode": mode(&state.ownership),
        "member": status.member.as_ref().map(|(id, name)| json!({"id": id.as_str(), "name": name})),
        "partitions": status.partitions,
        "owned": status.owned.iter().map(|l| json!({
            "partition": l.partition.number(),
            "epoch": l.epoch,
        })).collect::<Vec<_>>(),
        "members": status.members.iter().map(|m| json!({
            "id": m.member.as_str(),
            "name": m.name,
            "owned": m.owned,
            "lease_remaining_ms": m.lease_remaining.as_millis() as u64,
            "draining": m.draining,
        })).collect::<Vec<_>>(),
    });
    json_reply(StatusCode::OK, body)
}

/// The `cluster` part of `/readyz`: who this replica is and what it owns (never a readiness condition: a
/// replica owning nothing still accepts webhooks for the others).
pub(super) fn readiness(ownership: &Ownership) -> Value {
    let owned: Vec<u16> = ownership
        .held()
        .iter()
        .map(|l| l.partition.number())
        .collect();
    json!({
        "mode": mode(ownership),
        "member": ownership.member_name(),
        "owned_partitions": if ownership.is_cluster() { owned.len() } else { usize::from(ownership.partitions()) },
        "partitions": owned,
    })
}

fn mode(ownership: &Ownership) -> &'static str {
    if ownership.is_cluster() {
        "cluster"
    } else {
        "solo"
    }
}

/// The cluster's status from the running actor, or solo's when there is none.
async fn status(directory: &Directory, ownership: &Ownership) -> ClusterStatus {
    if let Ok(status) = ask(
        || directory.cluster(),
        Role::Cluster,
        ClusterMsg::Status,
        Duration::from_secs(2),
    )
    .await
    {
        return status;
    }
    ClusterStatus {
        member: ownership
            .member()
            .zip(ownership.member_name().map(str::to_string)),
        partitions: ownership.partitions(),
        owned: ownership.held(),
        members: Vec::new(),
    }
}
