//! The one call the scam actor and `scam check --expand` make: follow what a checked message's links
//! lead to, and date its domains, within the settings.

use futures_util::future::join_all;

use super::expand::LinkExpander;
use super::plan::{Planned, domains_to_date, links_to_follow};
use super::rdap_client::RdapClient;
use crate::config::{LinksSettings, NetSettings};
use crate::scam::check::CheckOutcome;
use crate::scam::followed::{DomainAge, Followed};

/// Follows links and dates domains, as `links.expand` and `links.rdap` allow. Share it behind an `Arc`:
/// its cache and rate limit serve every message.
#[derive(Debug)]
pub struct LinkFollower {
    links: LinksSettings,
    net: NetSettings,
    expander: Option<LinkExpander>,
    rdap: Option<RdapClient>,
}

impl LinkFollower {
    /// `None` when both following and RDAP are off.
    #[must_use]
    pub fn new(links: &LinksSettings, net: &NetSettings) -> Option<Self> {
        if !links.expand && !links.rdap {
            return None;
        }
        Some(LinkFollower {
            links: links.clone(),
            net: net.clone(),
            expander: links.expand.then(|| LinkExpander::new(links, net)),
            rdap: links.rdap.then(|| RdapClient::new(links, net)),
        })
    }

    /// The links of `outcome` (checked from `text`) that [`LinkFollower::follow`] would walk.
    #[must_use]
    pub fn plan(&self, text: &str, outcome: &CheckOutcome) -> Vec<Planned> {
        if self.expander.is_none() {
            return Vec::new();
        }
        links_to_follow(text, outcome, &self.links, &self.net)
    }

    /// Whether following would find anything to ask: a link to walk, or a domain to date.
    #[must_use]
    pub fn wants(&self, text: &str, outcome: &CheckOutcome) -> bool {
        !self.plan(text, outcome).is_empty()
            || (self.rdap.is_some() && !domains_to_date(outcome, &[]).is_empty())
    }

    /// Walks the links worth following, then dates the domains met. Never fails: what could not be
    /// learned is simply missing, and each chain says why it stopped.
    pub async fn follow(&self, text: &str, outcome: &CheckOutcome) -> Followed {
        let chains = match &self.expander {
            Some(expander) => expander.expand_all(&self.plan(text, outcome)).await,
            None => Vec::new(),
        };
        let registered = match &self.rdap {
            Some(rdap) => {
                let domains = domains_to_date(outcome, &chains);
                let ages = domains.into_iter().map(|domain| async move {
                    let registered = rdap.registered(&domain).await?;
                    Some(DomainAge { domain, registered })
                });
                join_all(ages).await.into_iter().flatten().collect()
            }
            None => Vec::new(),
        };
        Followed {
            chains,
            registered,
            new_domain_days: self.links.new_domain_days,
        }
    }
}
