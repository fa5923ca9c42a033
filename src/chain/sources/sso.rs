//! `sso`: IAM Identity Center, with an `sso_session` and its
//! `[sso-session NAME]` section, or the legacy `sso_start_url` form; the
//! token comes from `~/.aws/sso/cache`. aws-config's profile provider reads
//! both forms and calls the portal.

use aws_config::profile::ProfileFileCredentialsProvider;

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::Result;

/// Applies when the profile names an SSO account or role (botocore's test);
/// missing companions are reported by the provider as a config error.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let configured = ["sso_account_id", "sso_role_name"].iter().any(|k| ctx.profile_value(k).is_some());
    if !configured {
        return Ok(Detection::NotConfigured("the profile has no sso_account_id or sso_role_name".into()));
    }
    Ok(Detection::Configured(Plan::Sso { profile: ctx.profile.name.clone() }))
}

/// Asks the SSO portal through a fresh profile provider.
pub(super) async fn fetch(ctx: &ChainContext, profile: &str) -> Result<Credentials> {
    let provider = ProfileFileCredentialsProvider::builder()
        .configure(&provider_config(ctx, SourceName::Sso)?)
        .profile_name(profile)
        .build();
    delegate(SourceName::Sso, &provider).await
}

#[cfg(test)]
mod tests {
    use crate::chain::sources::Plan;
    use crate::chain::testing::{not_configured, plan, Scratch};
    use crate::chain::SourceName;

    fn sso_profile(scratch: &Scratch) -> String {
        match plan(scratch.detect(SourceName::Sso, None, &[("AWS_PROFILE", "dev")])) {
            Plan::Sso { profile } => profile,
            other => panic!("expected an Sso plan, got {other:?}"),
        }
    }

    #[test]
    fn an_sso_account_and_role_apply_for_the_selected_profile() {
        let scratch = Scratch::new();
        scratch.config(
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
        );
        assert_eq!(sso_profile(&scratch), "dev");
    }

    #[test]
    fn an_sso_role_name_alone_applies_and_its_companions_are_checked_later() {
        // botocore's SSOProvider applies when either of the two is present.
        let scratch = Scratch::new();
        scratch.config("[profile dev]\nsso_role_name = Admin\n");
        assert_eq!(sso_profile(&scratch), "dev");
    }

    #[test]
    fn an_sso_session_without_account_or_role_does_not_apply() {
        let scratch = Scratch::new();
        scratch.config("[profile dev]\nsso_session = corp\n[sso-session corp]\nsso_start_url = https://x/start\n");
        let why = not_configured(scratch.detect(SourceName::Sso, None, &[("AWS_PROFILE", "dev")]));
        assert_eq!(why, "the profile has no sso_account_id or sso_role_name");
    }
}
