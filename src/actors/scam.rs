//! Scam detector: extracts phone numbers, account numbers and domains from a message (pure, `scam::extract`)
//! and looks each one up in the scam-report table.

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::Deps;
use crate::faults::FaultPoint;
use crate::scam::{Finding, extract::extract};
use crate::store::{Store, StoreError};
use crate::telemetry;

pub struct ScamActor;

pub struct ScamState {
    deps: Deps,
}

pub enum ScamMsg {
    /// Findings for every entity in `text`, in order of appearance; empty when the text holds none.
    Check {
        text: String,
        reply: RpcReplyPort<Vec<Finding>>,
    },
}

impl Actor for ScamActor {
    type Msg = ScamMsg;
    type State = ScamState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(ScamState { deps })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ScamMsg::Check { text, reply } => {
                state.deps.faults.trip(FaultPoint::Scam);
                let findings = check_text(&state.deps.store, &text).await?;
                if !reply.is_closed() {
                    let _ = reply.send(findings);
                }
            }
        }
        Ok(())
    }
}

/// Extracts every entity from `text` and looks each up. Shared by the actor and `tradesphere scam check`.
pub async fn check_text(store: &Store, text: &str) -> Result<Vec<Finding>, StoreError> {
    let mut findings = Vec::new();
    for entity in extract(text) {
        let report = store.lookup_report(entity.kind, &entity.value).await?;
        let verdict = if report.is_some() {
            "reported"
        } else {
            "not_reported"
        };
        metrics::counter!(telemetry::SCAM_LOOKUPS, "kind" => entity.kind.as_str(), "verdict" => verdict)
            .increment(1);
        findings.push(Finding { entity, report });
    }
    Ok(findings)
}
