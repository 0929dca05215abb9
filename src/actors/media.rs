//! Media reader: reads the images users send (fetch, decode, QR codes, OCR) through the shared
//! [`crate::media::ImageReader`]. Each read runs in its own task, so a slow CDN or a long OCR never holds up
//! the mailbox; the reader's permits bound how many images are read at once.

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinSet;

use super::{Deps, Directory};
use crate::media::ImageReading;
use crate::net::FetchError;
use crate::pipeline::Role;
use crate::telemetry;

pub struct MediaActor;

pub struct MediaState {
    deps: Deps,
    /// Reads in flight, aborted if the actor stops.
    reads: JoinSet<()>,
}

pub enum MediaMsg {
    /// Read the image at `url` (an attachment on Zalo's CDN).
    Read {
        url: String,
        reply: RpcReplyPort<Result<ImageReading, FetchError>>,
    },
}

impl Directory {
    pub fn media(&self) -> Option<ActorRef<MediaMsg>> {
        self.lookup(Role::Media)
    }
}

impl Actor for MediaActor {
    type Msg = MediaMsg;
    type State = MediaState;
    type Arguments = Deps;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        deps: Deps,
    ) -> Result<Self::State, ActorProcessingErr> {
        telemetry::mailbox_reset(Role::Media);
        Ok(MediaState {
            deps,
            reads: JoinSet::new(),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        state.reads.abort_all();
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        telemetry::mailbox_out(Role::Media);
        // Reap finished reads so the set does not grow.
        while state.reads.try_join_next().is_some() {}
        match msg {
            MediaMsg::Read { url, reply } => {
                let images = state.deps.images.clone();
                state.reads.spawn(async move {
                    let reading = images.read_url(&url).await;
                    if !reply.is_closed() {
                        let _ = reply.send(reading);
                    }
                });
            }
        }
        Ok(())
    }
}
