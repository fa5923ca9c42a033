//! The chain's record of one walk: what `detect` said for every source, in
//! order, which source applied first, and how the walk ended. The cache's
//! resolution (`resolve_in`) and `credchain doctor` both walk through
//! [`decide`], so the two cannot disagree about which source answers.

use std::time::SystemTime;

use super::context::{ChainContext, SelectedProfile};
use super::sources::{self, Detection, Plan};
use super::{check_profile_exists, SourceName, ORDER};
use crate::types::credentials::Credentials;
use crate::types::error::{Error, Result};

/// What `detect` said about one source, kept for whoever explains the walk.
#[derive(Debug)]
pub enum Detected {
    /// The source does not apply; why.
    NotConfigured(String),
    /// The source applies; the credentials when they were read offline.
    Configured {
        /// Credentials already read from the environment or a file.
        ready: Option<Credentials>,
    },
    /// Its configuration is broken (half a key pair, a role without a
    /// token file...): the chain stops there if it gets there.
    Broken(Error),
    /// The shared files could not be read, so nothing could be decided.
    Unknown,
}

impl Detected {
    /// The record of `detection`; the plan itself stays with the caller,
    /// which may still have to carry it out.
    fn from_detection(detection: &Result<Detection>) -> Detected {
        match detection {
            Ok(Detection::NotConfigured(why)) => Detected::NotConfigured(why.clone()),
            Ok(Detection::Configured(Plan::Ready(credentials))) => {
                Detected::Configured { ready: Some(credentials.clone()) }
            }
            Ok(Detection::Configured(_)) => Detected::Configured { ready: None },
            Err(error) => Detected::Broken(error.clone()),
        }
    }

    /// Whether something is configured for the source (broken counts).
    pub fn configured(&self) -> Option<bool> {
        match self {
            Detected::NotConfigured(_) => Some(false),
            Detected::Configured { .. } | Detected::Broken(_) => Some(true),
            Detected::Unknown => None,
        }
    }
}

/// One walk of the chain: every source's detection and how the walk ended.
/// Once settled, exactly one of `winner` and `error` is set.
#[derive(Debug)]
pub struct Trace {
    /// The selected profile.
    pub profile: SelectedProfile,
    /// Each source's detection, in [`ORDER`] (all of them, also those after
    /// the one that settled the chain, so that they can be explained).
    pub detections: Vec<(SourceName, Detected)>,
    /// The selected profile was named and exists in neither file.
    pub profile_missing: bool,
    /// The source that answered and its credentials.
    pub winner: Option<(SourceName, Credentials)>,
    /// When the walk was settled (the winner's fetch finished).
    pub fetched_at: SystemTime,
    /// The chain's failure.
    pub error: Option<Error>,
    /// The source whose failure (fetch or broken configuration) stopped the
    /// chain.
    pub failed_source: Option<SourceName>,
}

/// What [`decide`] found offline: the trace so far, and the first source
/// that applies with its plan, still to be carried out.
#[derive(Debug)]
pub struct Decision {
    /// The walk so far; its `error` is set when nothing is to be fetched.
    pub trace: Trace,
    /// The first source that applies and how to get its credentials; none
    /// when the profile is missing, a broken source stops the chain first,
    /// or no source applies.
    pub first: Option<(SourceName, Plan)>,
}

impl Trace {
    /// The walk when the shared files could not be read: no source could be
    /// decided, and `error` (why the files could not be read) ends it.
    pub fn unreadable(profile: SelectedProfile, error: Error) -> Trace {
        Trace {
            profile,
            detections: ORDER.iter().map(|&source| (source, Detected::Unknown)).collect(),
            profile_missing: false,
            winner: None,
            fetched_at: SystemTime::now(),
            error: Some(error),
            failed_source: None,
        }
    }

    /// Records the outcome of carrying out the plan of `source`, the first
    /// that applied: it answers, or its failure is the chain's failure (as
    /// in botocore).
    pub fn settle(&mut self, source: SourceName, outcome: Result<Credentials>) {
        match outcome {
            Ok(credentials) => self.winner = Some((source, credentials)),
            Err(error) => {
                self.error = Some(error);
                self.failed_source = Some(source);
            }
        }
        self.fetched_at = SystemTime::now();
    }

    /// The chain's answer: the winner's credentials, or the error that
    /// ended the walk.
    pub fn outcome(self) -> Result<Credentials> {
        match (self.winner, self.error) {
            (Some((_, credentials)), _) => Ok(credentials),
            (None, Some(error)) => Err(error),
            // A settled trace always has one or the other; an unsettled one
            // has found nothing.
            (None, None) => Err(Error::no_credentials()),
        }
    }
}

/// Decides the chain over `ctx` offline: a named profile must exist, then
/// every source is detected in [`ORDER`]; the first that applies is to be
/// fetched, and a broken configuration met before it stops the chain.
/// Sources after the one that settles the chain are still detected (and
/// recorded) but change nothing; `detect` reads only the context.
pub fn decide(ctx: &ChainContext) -> Decision {
    let mut trace = Trace {
        profile: ctx.profile.clone(),
        detections: Vec::with_capacity(ORDER.len()),
        profile_missing: false,
        winner: None,
        fetched_at: SystemTime::now(),
        error: None,
        failed_source: None,
    };
    if let Err(error) = check_profile_exists(ctx) {
        trace.profile_missing = true;
        trace.error = Some(error);
    } else if let Err(error) = sources::check_settings(ctx) {
        trace.error = Some(error);
        trace.failed_source = Some(SourceName::IamRole);
    }
    let mut first = None;
    for source in ORDER {
        let detection = sources::detect(source, ctx);
        trace.detections.push((source, Detected::from_detection(&detection)));
        if trace.error.is_some() || first.is_some() {
            continue;
        }
        match detection {
            Ok(Detection::NotConfigured(_)) => {}
            Ok(Detection::Configured(plan)) => first = Some((source, plan)),
            Err(error) => {
                trace.error = Some(error);
                trace.failed_source = Some(source);
            }
        }
    }
    if first.is_none() && trace.error.is_none() {
        trace.error = Some(Error::no_credentials());
    }
    Decision { trace, first }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::{decide, Detected};
    use crate::chain::testing::Scratch;
    use crate::chain::{resolve_in, walk_in, ChainContext, Services, SourceName, Trace, ORDER};
    use crate::types::error::ErrorCode;

    /// Walks `ctx` as the cache does, on a runtime of the test's own.
    fn walk(ctx: &ChainContext) -> Trace {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(walk_in(ctx, &Services::default(), Duration::from_secs(5)))
    }

    fn configured(trace: &Trace) -> Vec<SourceName> {
        trace.detections.iter().filter(|(_, d)| d.configured() == Some(true)).map(|(s, _)| *s).collect()
    }

    #[test]
    fn every_source_is_recorded_in_order_and_only_the_first_configured_is_fetched() {
        let scratch = Scratch::new();
        scratch.credentials("[default]\naws_access_key_id = AKIAFILEEXAMPLE\naws_secret_access_key = file-secret\n");
        // Two later sources apply too: keys in the config file, and a
        // process that would leave a mark if it were ever run.
        let mark = scratch.path("process-ran");
        scratch.config(&format!(
            "[default]\naws_access_key_id = AKIACONFIGEXAMPLE\naws_secret_access_key = config-secret\n\
             credential_process = touch {mark}\n"
        ));
        let ctx = scratch.context(None, &[]);

        let decision = decide(&ctx);
        assert_eq!(decision.first.as_ref().map(|(s, _)| *s), Some(SourceName::SharedCredentialsFile));
        let trace = walk(&ctx);
        let order: Vec<SourceName> = trace.detections.iter().map(|(s, _)| *s).collect();
        assert_eq!(order, ORDER);
        assert_eq!(
            configured(&trace),
            [SourceName::SharedCredentialsFile, SourceName::CustomProcess, SourceName::ConfigFile]
        );
        assert!(matches!(trace.detections[7].1, Detected::Configured { ready: Some(_) }));
        let (winner, credentials) = trace.winner.as_ref().expect("a winner");
        assert_eq!(*winner, SourceName::SharedCredentialsFile);
        assert_eq!(credentials.access_key_id, "AKIAFILEEXAMPLE");
        assert!(trace.error.is_none() && trace.failed_source.is_none() && !trace.profile_missing);
        assert!(!Path::new(&mark).exists(), "a source after the winner was fetched");
        // The cache's resolution answers from the same walk.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let resolved = runtime.block_on(resolve_in(&ctx, &Services::default(), Duration::from_secs(5)));
        assert_eq!(resolved.unwrap().access_key_id, "AKIAFILEEXAMPLE");
    }

    #[test]
    fn a_broken_earlier_source_stops_the_chain_and_is_the_failed_source() {
        let scratch = Scratch::new();
        scratch.credentials("[default]\naws_access_key_id = AKIAFILEEXAMPLE\naws_secret_access_key = file-secret\n");
        // Half a key pair in the environment: `env` is broken, ahead of the file.
        let ctx = scratch.context(None, &[("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE")]);

        let decision = decide(&ctx);
        assert!(decision.first.is_none());
        let trace = walk(&ctx);
        assert_eq!(trace.failed_source, Some(SourceName::Env));
        assert!(trace.winner.is_none());
        let Detected::Broken(broken) = &trace.detections[0].1 else {
            panic!("env should be broken: {:?}", trace.detections[0]);
        };
        let error = trace.error.as_ref().expect("the chain's error");
        assert_eq!(error, broken);
        assert_eq!(error.code(), ErrorCode::PartialCredentials);
        // The file behind it was still detected, and recorded, but not used.
        assert_eq!(trace.detections.len(), ORDER.len());
        assert!(configured(&trace).contains(&SourceName::SharedCredentialsFile));
        assert_eq!(trace.outcome().unwrap_err().code(), ErrorCode::PartialCredentials);
    }
}
