//! `boto-config`: Boto2's config file, `[Credentials]` section.

use super::{static_key_pair, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::files::Unreadable;
use crate::chain::ini::parse_ini;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// Tries only `BOTO_CONFIG` when it is set, else `/etc/boto.cfg` then
/// `~/.boto`; the first file with `aws_access_key_id` in `[Credentials]` wins.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let source = SourceName::BotoConfig;
    let broken = |path: &std::path::Path, problem: &str| {
        Error::from_source(ErrorCode::InvalidConfig, source.as_str(), format!("{}: {problem}", path.display()))
    };
    for file in &ctx.legacy.boto {
        let text = match &file.text {
            Ok(text) => text,
            Err(Unreadable::Missing) => continue,
            Err(Unreadable::Refused(why)) => return Err(broken(&file.path, why)),
        };
        let sections = parse_ini(text).map_err(|problem| broken(&file.path, &problem))?;
        let Some(section) = sections.get("Credentials") else {
            continue;
        };
        let get = |key: &str| section.get(key).map(String::as_str);
        if let Some((access, secret)) = static_key_pair(source, get, "aws_access_key_id", "aws_secret_access_key")? {
            return Ok(Detection::Configured(Plan::Ready(Credentials::new_static(source, access, secret))));
        }
    }
    Ok(Detection::NotConfigured("no Boto2 config file with [Credentials] aws_access_key_id".into()))
}
