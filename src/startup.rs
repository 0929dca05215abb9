//! Builds and runs the application: database and migrations, the supervised actor tree, the HTTP server on
//! its own listener, plus an internal admin listener when `server.admin_listen` is set (port 0 works for both,
//! for tests), and graceful shutdown of both.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ractor::{Actor, ActorRef};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::actors::supervisor::{SupervisorActor, SupervisorMsg};
use crate::actors::{Deps, Directory};
use crate::config::{OutboundMode, Settings};
use crate::delivery::{Delivery, OutboundEvent};
use crate::faults::Faults;
use crate::http::{self, HttpState, Surface};
use crate::store::Store;
use crate::telemetry;

/// Variations used by the `chat` command and tests.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub faults: Faults,
    /// The wall clock for token schedules (default: the system clock).
    pub clock: Option<crate::clock::SharedClock>,
    /// Force a delivery mode instead of resolving it from the settings.
    pub delivery: Option<Delivery>,
    /// A side instance (`chat`) handles only what it is given: it neither replays other users' events nor
    /// resumes or reclassifies queued replies, which belong to the service.
    pub side_instance: bool,
    /// Test-only: completions, claims and sends ignore cluster ownership (`TRADESPHERE_FAULTS`).
    pub cluster_no_fence: bool,
}

pub struct Application {
    address: SocketAddr,
    admin_address: Option<SocketAddr>,
    deps: Deps,
    root: ActorRef<SupervisorMsg>,
    root_handle: JoinHandle<()>,
    /// The public server, then the admin server when separate.
    servers: Vec<JoinHandle<()>>,
    /// `true` stops every server: no new connections, in-flight requests finish.
    stop_servers: watch::Sender<bool>,
    intake: Arc<http::gate::IntakeGate>,
}

impl Application {
    pub async fn build(settings: Settings, options: BuildOptions) -> anyhow::Result<Self> {
        install_crypto_provider();
        let metrics = telemetry::metrics_handle();
        let settings = Arc::new(settings);

        let store = Store::connect(&settings.database)
            .await
            .with_context(|| format!("connecting to {}", settings.database.redacted_url()))?;
        store.migrate().await.context("applying migrations")?;
        let (ownership, cluster_db) = join_cluster(&settings, &store, &options).await?;
        store.join_cluster(ownership.clone(), settings.cluster.notify);
        // Parts left `sending` by a previous process may have reached Zalo: never resend them blindly. In a
        // cluster this is done per partition, by whoever takes it over.
        let interrupted = if options.side_instance || ownership.is_cluster() {
            0
        } else {
            store.sending_to_ambiguous().await?
        };
        if interrupted > 0 {
            tracing::warn!(
                count = interrupted,
                "outbound messages interrupted by the last stop are marked ambiguous"
            );
            // Counted like any other ambiguous send, so the dashboards and the failure-ratio alert see them.
            metrics::counter!(telemetry::OUTBOUND_SENDS, "result" => "ambiguous")
                .increment(interrupted);
        }

        let delivery = match options.delivery {
            Some(forced) => forced,
            None => resolve_delivery(&settings, &store).await?,
        };
        log_startup(&settings, delivery);

        let http_client = reqwest::Client::builder()
            .connect_timeout(settings.llm.connect_timeout)
            .user_agent(concat!("tradesphere/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        let (outbound_events, _) = broadcast::channel(1024);
        let directory = Directory::new();
        let images = Arc::new(crate::media::ImageReader::new(&settings));
        let ocr = images.ocr_status();
        if ocr.enabled {
            tracing::info!(tesseract = %ocr.detail, "OCR is on: images are read for text and QR codes");
        } else {
            tracing::warn!(reason = %ocr.detail, "OCR is off: images are read for QR codes only");
        }
        let deps = Deps {
            images: images.clone(),
            settings: settings.clone(),
            store: store.clone(),
            directory: directory.clone(),
            http: http_client,
            faults: options.faults,
            outbound_events,
            delivery,
            clock: options.clock.unwrap_or_else(crate::clock::system),
            recovery: !options.side_instance,
            ownership,
            cluster_db,
        };

        let (root, root_handle) =
            Actor::spawn(Some(directory.root_name()), SupervisorActor, deps.clone())
                .await
                .context("starting the actor system")?;

        let intake = Arc::new(http::gate::IntakeGate::default());
        let state = HttpState::new(http::HttpParts {
            settings: settings.clone(),
            store,
            directory,
            root: root.clone(),
            metrics: metrics.clone(),
            http: deps.http.clone(),
            clock: deps.clock.clone(),
            images,
            intake: intake.clone(),
            admin_limiter: Arc::new(http::limit::CallerLimiter::new(
                settings.server.admin_rate_per_minute,
                settings.server.admin_rate_burst,
            )),
            console: http::console::Console::new(&settings.server),
            ownership: deps.ownership.clone(),
        });
        // Both listeners are bound before anything is served, so a taken admin port fails the start cleanly.
        let listener = tokio::net::TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("binding {}", settings.server.listen))?;
        let address = listener.local_addr()?;
        let admin_listener = match settings.server.admin_listen {
            Some(admin) => Some(
                tokio::net::TcpListener::bind(admin)
                    .await
                    .with_context(|| format!("binding the admin listener {admin}"))?,
            ),
            None => None,
        };
        let admin_address = admin_listener
            .as_ref()
            .map(tokio::net::TcpListener::local_addr)
            .transpose()?;
        let (stop_servers, stopped) = watch::channel(false);
        let stop = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        let mut servers = Vec::with_capacity(2);
        match admin_listener {
            Some(admin_listener) => {
                servers.push(http::serve(
                    listener,
                    state.clone(),
                    Surface::Public,
                    stop(),
                ));
                servers.push(http::serve(admin_listener, state, Surface::Admin, stop()));
            }
            None => servers.push(http::serve(listener, state, Surface::All, stop())),
        }
        // The exporter needs periodic upkeep when installed as a plain recorder.
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                metrics.run_upkeep();
            }
        });
        match admin_address {
            Some(admin) => tracing::info!(
                %address,
                %admin,
                "listening (admin API and /metrics only on the admin address)"
            ),
            None => tracing::info!(%address, "listening"),
        }
        Ok(Self {
            address,
            admin_address,
            deps,
            root,
            root_handle,
            servers,
            stop_servers,
            intake,
        })
    }

    /// The public listener's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The admin listener's address, when `server.admin_listen` is set.
    pub fn admin_address(&self) -> Option<SocketAddr> {
        self.admin_address
    }

    /// The admin listener's port, when `server.admin_listen` is set.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin_address.map(|a| a.port())
    }

    pub fn store(&self) -> &Store {
        &self.deps.store
    }

    pub fn directory(&self) -> &Directory {
        &self.deps.directory
    }

    pub fn settings(&self) -> &Settings {
        &self.deps.settings
    }

    pub fn subscribe_outbound(&self) -> broadcast::Receiver<OutboundEvent> {
        self.deps.outbound_events.subscribe()
    }

    /// True while the root supervisor runs (false once it gave up).
    pub fn is_alive(&self) -> bool {
        !self.root_handle.is_finished()
    }

    /// Runs until SIGINT/SIGTERM (then shuts down gracefully) or until the actor system gives up (error).
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        tokio::select! {
            _ = shutdown_signal() => {
                tracing::info!("shutdown requested");
                self.shutdown().await;
                Ok(())
            }
            _ = &mut self.root_handle => {
                self.intake.close();
                stop_servers(&self.stop_servers, std::mem::take(&mut self.servers)).await;
                anyhow::bail!("the actor system stopped after exhausting its restart budget")
            }
        }
    }

    /// Graceful shutdown: close the intake gate (webhooks get 503, so Zalo redelivers, and `/readyz` says
    /// so), wait for the webhooks already inside to hand their events over, drain the actors in dependency
    /// order (intake first) with a deadline while the listeners still answer 503, then stop the listeners
    /// and close the database.
    pub async fn shutdown(self) {
        self.intake.close();
        if !self.intake.wait_empty(Duration::from_secs(10)).await {
            tracing::warn!(
                "webhook requests still running after 10 s; their events stay pending in the inbox"
            );
        }
        let _ = self
            .root
            .call(SupervisorMsg::Drain, Some(Duration::from_secs(30)))
            .await;
        stop_servers(&self.stop_servers, self.servers).await;
        let _ = self
            .root
            .stop_and_wait(Some("shutdown".into()), Some(Duration::from_secs(10)))
            .await;
        // Reply parts stored claimed that no send took (a conversation that finished after the outbound actor
        // had stopped) go back to `queued`, so the next start sends them instead of marking them ambiguous.
        match self.deps.store.release_pre_claimed(Duration::ZERO).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(
                released,
                "unsent reply parts left queued for the next start"
            ),
            Err(err) => tracing::warn!(error = %err, "could not release pre-claimed reply parts"),
        }
        self.deps.store.clone().close().await;
        tracing::info!("stopped");
    }
}

/// Stops every listener and waits (at most 10 s in all) for their in-flight requests.
async fn stop_servers(stop: &watch::Sender<bool>, servers: Vec<JoinHandle<()>>) {
    let _ = stop.send(true);
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::future::join_all(servers),
    )
    .await;
}

/// `auto` means Zalo when an access token exists (database or environment), else the console.
async fn resolve_delivery(settings: &Settings, store: &Store) -> anyhow::Result<Delivery> {
    Ok(match settings.outbound.mode {
        OutboundMode::Zalo => Delivery::Zalo,
        OutboundMode::Console => Delivery::Console { print: true },
        OutboundMode::Auto => {
            let has_token =
                settings.zalo.access_token.is_some() || store.load_token().await?.is_some();
            if has_token {
                Delivery::Zalo
            } else {
                Delivery::Console { print: true }
            }
        }
    })
}

/// One line per part saying whether it is live or in fallback, so an operator sees at a glance.
fn log_startup(settings: &Settings, delivery: Delivery) {
    let database = if settings.database.is_sqlite() {
        "sqlite"
    } else {
        "postgres"
    };
    tracing::info!(
        database,
        url = %settings.database.redacted_url(),
        "database: live"
    );
    match delivery {
        Delivery::Zalo => tracing::info!(api = %settings.zalo.api_url, "outbound: live (Zalo API)"),
        Delivery::Console { .. } => {
            tracing::warn!(
                "outbound: fallback to console (no Zalo access token or TRADESPHERE_OUTBOUND=console); replies are printed and stored"
            )
        }
    }
    if settings.llm.api_key.is_some() {
        tracing::info!(model = %settings.llm.model, base_url = %settings.llm.base_url, "llm: live");
    } else {
        tracing::warn!("llm: fallback to templated Vietnamese answers (no OPENAI_API_KEY)");
    }
    if settings.zalo.oa_secret_key.is_some() {
        tracing::info!("webhook: signatures verified (X-ZEvent-Signature)");
    } else {
        tracing::warn!(
            "webhook: ZALO_OA_SECRET_KEY is not set, so unsigned events are accepted; use this only locally"
        );
    }
    if settings.server.admin_token.is_some() {
        tracing::info!(
            per_minute = settings.server.admin_rate_per_minute.get(),
            burst = settings.server.admin_rate_burst.get(),
            separate_listener = settings.server.admin_listen.is_some(),
            "admin api: enabled"
        );
    } else {
        tracing::info!("admin api: disabled (no ADMIN_TOKEN)");
    }
}

/// sea-orm's TLS brings ring and reqwest brings aws-lc-rs; with both compiled in, rustls needs an explicit
/// process default before any TLS connection.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// On PostgreSQL (the service, not a side instance): checks the partition count against the database's and
/// registers this process as a new cluster member, trusting its lease from the instant before the insert. The
/// cluster actor claims partitions from there. Elsewhere: solo.
async fn join_cluster(
    settings: &Settings,
    store: &Store,
    options: &BuildOptions,
) -> anyhow::Result<(crate::cluster::Ownership, Option<crate::store::ClusterDb>)> {
    use crate::cluster::{MemberId, Ownership};
    let cluster = &settings.cluster;
    if store.is_sqlite() || options.side_instance {
        if !options.side_instance {
            // One process owning everything: the cluster panels show it so.
            metrics::gauge!(crate::telemetry::CLUSTER_OWNED_PARTITIONS)
                .set(f64::from(cluster.partitions));
            metrics::gauge!(crate::telemetry::CLUSTER_MEMBERS).set(1.0);
        }
        return Ok((Ownership::solo(cluster.partitions), None));
    }
    let db = crate::store::ClusterDb::connect(&settings.database)
        .await
        .context("connecting the cluster's connection")?;
    let stored = db.partitions().await.context("reading cluster_config")?;
    anyhow::ensure!(
        stored == cluster.partitions,
        "cluster.partitions is {} but this database was created with {stored} partitions; \
         every replica must use {stored} (the value is never changed in place)",
        cluster.partitions
    );
    let member = MemberId::random();
    let sent = std::time::Instant::now();
    db.register(&member, &cluster.member_name, cluster.member_ttl)
        .await
        .context("registering as a cluster member")?;
    let ownership = Ownership::cluster(
        member,
        cluster.member_name.clone(),
        cluster.partitions,
        options.cluster_no_fence,
    );
    ownership.trust_until(sent + cluster.member_ttl - cluster.trust_margin);
    crate::actors::cluster::claim_first_share(&db, &ownership, cluster)
        .await
        .context("claiming partitions")?;
    tracing::info!(
        member = %cluster.member_name,
        owned = ownership.held().len(),
        "joined the cluster"
    );
    Ok((ownership, Some(db)))
}
