//! Campaigns: looks at the queue of campaign recipients every `campaigns.tick` (and when a campaign is
//! created) and hands the next batch to the outbound actor, unless it is night in Vietnam. The rows decide
//! everything (`campaigns::feed`): a restarted actor, or a second process, carries on where the database
//! says, and never queues a recipient twice.

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::{Deps, Directory};
use crate::delivery::Dispatch;
use crate::pipeline::Role;
use crate::telemetry;

pub struct CampaignsActor;

pub struct CampaignsState {
    deps: Deps,
}

pub enum CampaignsMsg {
    /// Feed the sender now. `scheduled` ticks schedule the next one; a nudge (a new campaign) does not, so
    /// there is only ever one chain of ticks.
    Tick { scheduled: bool },
}

impl Directory {
    pub fn campaigns(&self) -> Option<ActorRef<CampaignsMsg>> {
        self.lookup(Role::Campaigns)
    }

    /// Asks the campaigns actor to look at the queue now (a campaign was just created). Without it running,
    /// its next tick does.
    pub fn nudge_campaigns(&self) {
        if let Some(actor) = self.campaigns() {
            let _ = super::tell(
                Role::Campaigns,
                &actor,
                CampaignsMsg::Tick { scheduled: false },
            );
        }
    }
}

impl Actor for CampaignsActor {
    type Msg = CampaignsMsg;
    type State = CampaignsState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Campaigns);
        Ok(CampaignsState { deps })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // A side instance (`chat`) sends no campaigns.
        if state.deps.recovery {
            super::tell(
                Role::Campaigns,
                &myself,
                CampaignsMsg::Tick { scheduled: true },
            )?;
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Campaigns);
        let CampaignsMsg::Tick { scheduled } = msg;
        if !state.deps.recovery {
            return Ok(());
        }
        let deps = &state.deps;
        match crate::campaigns::feed(&deps.store, &deps.settings, deps.clock.now()).await {
            Ok(parts) if !parts.is_empty() => {
                tracing::info!(
                    parts = parts.len(),
                    "campaign messages handed to the sender"
                );
                // Without the outbound actor they wait in the database for its resume.
                deps.directory.dispatch(parts);
            }
            Ok(_) => {}
            // The rows are intact; the next tick tries again.
            Err(err) => tracing::warn!(error = %err, "cannot feed campaign messages yet"),
        }
        if scheduled {
            super::send_after_counted(
                Role::Campaigns,
                &myself,
                deps.settings.campaigns.tick,
                || CampaignsMsg::Tick { scheduled: true },
            );
        }
        Ok(())
    }
}
