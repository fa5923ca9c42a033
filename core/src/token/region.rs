//! Which AWS region signs a token: read from the endpoint's host name when it
//! is an AWS-issued one, else from the caller's fallback chain.
//!
//! The region in the credential scope must be the database's own region or
//! the server rejects the token, so a wrong guess is worse than an error: the
//! parser only answers for host names whose shape AWS documents, and
//! otherwise says "none" so that the caller's chain decides.

use super::{TokenError, TokenErrorKind};

/// DNS suffixes (partitions) under which RDS and Aurora endpoints live, each
/// after the `rds` (or `rds-fips`) label and the region label, in either
/// order (see [`region_from_hostname`]).
const RDS_PARTITION_SUFFIXES: &[&[&str]] = &[
    &["amazonaws", "com"],
    &["amazonaws", "com", "cn"],
    &["amazonaws", "eu"],     // AWS European Sovereign Cloud
    &["c2s", "ic", "gov"],    // us-iso-*
    &["sc2s", "sgov", "gov"], // us-isob-*
];

/// The region named by an AWS database endpoint's host name, lower-cased, or
/// `None` when the name is not one AWS issues (an IP address, a CNAME of
/// your own, `localhost`, a global-database writer endpoint that spans
/// regions).
///
/// Recognised forms (case-insensitive, one trailing dot allowed):
///
/// | endpoint | example |
/// |---|---|
/// | RDS instance | `mydb.abc123.us-east-1.rds.amazonaws.com` |
/// | Aurora writer / reader / custom | `c.cluster-abc.…`, `c.cluster-ro-abc.…`, `c.cluster-custom-abc.…` |
/// | RDS Proxy, proxy endpoint, Limitless | `p.proxy-abc.…`, `e.endpoint.proxy-abc.…`, `d.shardgrp-abc.…` |
/// | China, old and new | `mydb.abc.cn-north-1.rds.amazonaws.com.cn`, `mydb.abc.rds.cn-north-1.amazonaws.com.cn` |
/// | GovCloud | `mydb.abc.us-gov-west-1.rds.amazonaws.com` (and `rds.us-gov-west-1.…`) |
/// | FIPS, ISO, sovereign | `rds-fips` label; `c2s.ic.gov`, `sc2s.sgov.gov`, `amazonaws.eu` |
/// | Aurora DSQL | `<cluster id>.dsql.us-east-1.on.aws` |
///
/// Only the structure is checked, not the list of regions that exist today,
/// so a region launched next year works without a release; a label is taken
/// for a region only when it looks like one (`xx-name-N`, such as
/// `us-gov-west-1` or `ap-southeast-7`).
pub fn region_from_hostname(hostname: &str) -> Option<String> {
    let host = hostname.strip_suffix('.').unwrap_or(hostname).to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }

    // Aurora DSQL: <id>.dsql.<region>.on.aws
    if let [rest @ .., "dsql", region, "on", "aws"] = labels.as_slice() {
        if !rest.is_empty() && looks_like_region(region) {
            return Some((*region).to_owned());
        }
        return None;
    }

    for suffix in RDS_PARTITION_SUFFIXES {
        let Some(front) = labels.strip_suffix(*suffix) else { continue };
        // At least one label (the instance, cluster or proxy name and its
        // account-specific id) must come before the region/rds pair; a bare
        // `rds.us-east-1.amazonaws.com` is the RDS API, not a database.
        if let [rest @ .., a, b] = front {
            if rest.is_empty() {
                return None;
            }
            // <region>.rds — commercial, GovCloud, old China form.
            if is_rds_label(b) && looks_like_region(a) {
                return Some((*a).to_owned());
            }
            // rds.<region> — new China form, some GovCloud/ISO endpoints.
            if is_rds_label(a) && looks_like_region(b) {
                return Some((*b).to_owned());
            }
        }
        return None;
    }
    None
}

fn is_rds_label(label: &str) -> bool {
    label == "rds" || label == "rds-fips"
}

/// `xx-word(-word)*-N`: a 2-letter area code (4 for the European Sovereign
/// Cloud's `eusc`), one or more words, a number. Matches every region AWS has
/// named so far (`us-east-1`, `us-gov-west-1`, `us-isob-east-1`,
/// `cn-northwest-1`, `eusc-de-east-1`) and rejects `global`, `cluster-abc`
/// and account-specific ids.
fn looks_like_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    if parts.len() < 3 {
        return false;
    }
    let first = parts[0];
    let last = parts[parts.len() - 1];
    (first.len() == 2 || first.len() == 4)
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.len() <= 2
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `region` is shaped as botocore requires of a region name
/// (`^[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?$`). It goes into the
/// signature's credential scope, where a `/` or a space would produce a token
/// that no server accepts, so anything else is refused up front.
pub(super) fn is_valid_region_name(region: &str) -> bool {
    let b = region.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Where the region that signed a token came from, for logs and
/// diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionSource {
    /// The caller passed it (the `region` argument of the C ABI).
    Explicit,
    /// Read from the endpoint's host name by [`region_from_hostname`].
    Hostname,
    /// The `AWS_REGION` environment variable.
    AwsRegion,
    /// The `AWS_DEFAULT_REGION` environment variable.
    AwsDefaultRegion,
    /// The `region` key of the active profile.
    Profile,
}

impl RegionSource {
    /// A short human name: `"the region argument"`, `"hostname"`,
    /// `"AWS_REGION"`, `"AWS_DEFAULT_REGION"`, `"profile"`.
    pub fn name(self) -> &'static str {
        match self {
            RegionSource::Explicit => "the region argument",
            RegionSource::Hostname => "hostname",
            RegionSource::AwsRegion => "AWS_REGION",
            RegionSource::AwsDefaultRegion => "AWS_DEFAULT_REGION",
            RegionSource::Profile => "profile",
        }
    }
}

/// The values the region fallback chain reads, passed in rather than read
/// here so that tests need not touch the process environment (which is
/// process-wide and racy under a parallel test runner).
///
/// An empty (or all-blank) string counts as unset, as it does for botocore;
/// surrounding blanks are trimmed (a stray newline in an environment file).
#[derive(Clone, Copy, Debug, Default)]
pub struct RegionSources<'a> {
    /// The caller's explicit region, if any.
    pub explicit: Option<&'a str>,
    /// `AWS_REGION` from the environment.
    pub aws_region: Option<&'a str>,
    /// `AWS_DEFAULT_REGION` from the environment.
    pub aws_default_region: Option<&'a str>,
    /// The `region` key of the active profile in the config file.
    pub profile_region: Option<&'a str>,
}

/// A region and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRegion {
    /// The region name, as it goes into the credential scope.
    pub region: String,
    /// Which link of the chain supplied it.
    pub source: RegionSource,
}

/// Picks the signing region: the explicit argument, then the host name, then
/// `AWS_REGION`, `AWS_DEFAULT_REGION` and the profile's `region`, first
/// non-empty wins.
///
/// The host name comes before the environment because a process often talks
/// to databases in several regions while its environment names one: the
/// endpoint's own region is the one the server checks. An explicit argument
/// still wins, for endpoints reached through an alias or a tunnel.
///
/// Errors: [`TokenErrorKind::InvalidArgument`] when the host name is not a
/// bare host name (checked first, so that `https://db.example.com` is told
/// about its scheme rather than about a missing region) or the winning value
/// is not a well-formed region name (the message names where it came from);
/// [`TokenErrorKind::NoRegion`] when no link names a region.
pub fn resolve_region(hostname: &str, sources: &RegionSources<'_>) -> Result<ResolvedRegion, TokenError> {
    super::validate_hostname(hostname)?;
    let non_empty = |v: Option<&str>| v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let found = non_empty(sources.explicit)
        .map(|r| (r, RegionSource::Explicit))
        .or_else(|| region_from_hostname(hostname).map(|r| (r, RegionSource::Hostname)))
        .or_else(|| non_empty(sources.aws_region).map(|r| (r, RegionSource::AwsRegion)))
        .or_else(|| non_empty(sources.aws_default_region).map(|r| (r, RegionSource::AwsDefaultRegion)))
        .or_else(|| non_empty(sources.profile_region).map(|r| (r, RegionSource::Profile)));
    match found {
        Some((region, source)) if is_valid_region_name(&region) => Ok(ResolvedRegion { region, source }),
        Some((region, source)) => Err(TokenError::new(
            TokenErrorKind::InvalidArgument,
            format!(
                "region {} from {} is not a valid region name (letters, digits and '-')",
                super::quoted(&region),
                source.name()
            ),
        )),
        None => Err(TokenError::new(
            TokenErrorKind::NoRegion,
            format!(
                "no region: hostname {} names none and neither AWS_REGION, AWS_DEFAULT_REGION nor the profile sets one; pass a region",
                super::quoted(hostname)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_endpoint_form() {
        let cases = [
            // RDS instance
            ("mydb.abc123xyz.us-east-1.rds.amazonaws.com", Some("us-east-1")),
            ("x.abc123.us-east-1.rds.amazonaws.com", Some("us-east-1")),
            // Aurora writer, reader, custom
            ("c.cluster-abc.us-east-1.rds.amazonaws.com", Some("us-east-1")),
            ("c.cluster-ro-abc.eu-west-3.rds.amazonaws.com", Some("eu-west-3")),
            ("c.cluster-custom-abc.ap-northeast-2.rds.amazonaws.com", Some("ap-northeast-2")),
            // RDS Proxy, proxy custom endpoint, Limitless shard group
            ("p.proxy-abc.us-east-1.rds.amazonaws.com", Some("us-east-1")),
            ("ro.endpoint.proxy-abc.us-west-2.rds.amazonaws.com", Some("us-west-2")),
            ("d.shardgrp-abc.ca-central-1.rds.amazonaws.com", Some("ca-central-1")),
            // China, old and new forms
            ("mydb.abc.cn-north-1.rds.amazonaws.com.cn", Some("cn-north-1")),
            ("c.cluster-abc.cn-northwest-1.rds.amazonaws.com.cn", Some("cn-northwest-1")),
            ("mydb.abc.rds.cn-north-1.amazonaws.com.cn", Some("cn-north-1")),
            ("p.proxy-abc.rds.cn-northwest-1.amazonaws.com.cn", Some("cn-northwest-1")),
            // GovCloud, both label orders, and FIPS
            ("mydb.abc.us-gov-west-1.rds.amazonaws.com", Some("us-gov-west-1")),
            ("c.cluster-abc.us-gov-east-1.rds.amazonaws.com", Some("us-gov-east-1")),
            ("mydb.abc.rds.us-gov-west-1.amazonaws.com", Some("us-gov-west-1")),
            ("mydb.abc.rds-fips.us-gov-west-1.amazonaws.com", Some("us-gov-west-1")),
            ("mydb.abc.us-east-1.rds-fips.amazonaws.com", Some("us-east-1")),
            // ISO partitions, European Sovereign Cloud
            ("mydb.abc.rds.us-iso-east-1.c2s.ic.gov", Some("us-iso-east-1")),
            ("mydb.abc.us-isob-east-1.rds.sc2s.sgov.gov", Some("us-isob-east-1")),
            ("mydb.abc.eusc-de-east-1.rds.amazonaws.eu", Some("eusc-de-east-1")),
            // Aurora DSQL
            ("abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws", Some("us-east-1")),
            ("abc.dsql.eu-west-2.on.aws", Some("eu-west-2")),
            // Case and a trailing dot do not matter
            ("MyDB.ABC.US-EAST-1.RDS.AMAZONAWS.COM", Some("us-east-1")),
            ("mydb.abc.us-east-1.rds.amazonaws.com.", Some("us-east-1")),
            ("ABC.DSQL.US-EAST-1.ON.AWS.", Some("us-east-1")),
            // Not AWS database endpoints: no guess
            ("db.example.com", None),
            ("localhost", None),
            ("10.0.0.5", None),
            ("", None),
            ("rds.us-east-1.amazonaws.com", None), // the RDS API itself
            ("us-east-1.rds.amazonaws.com", None),
            ("g.global-abc.global.rds.amazonaws.com", None), // spans regions
            ("mydb.abc.notaregion.rds.amazonaws.com", None),
            ("mydb.abc.us-east-1.rds.amazonaws.com.evil.example", None),
            ("mydb..us-east-1.rds.amazonaws.com", None),
            ("dsql.us-east-1.on.aws", None),
            ("x.dsql.global.on.aws", None),
            ("mydb.abc.us-east-1.ec2.amazonaws.com", None),
        ];
        for (host, want) in cases {
            assert_eq!(region_from_hostname(host).as_deref(), want, "{host}");
        }
    }

    #[test]
    fn fallback_chain_order() {
        let all = RegionSources {
            explicit: Some("eu-west-1"),
            aws_region: Some("us-west-1"),
            aws_default_region: Some("us-west-2"),
            profile_region: Some("ap-south-1"),
        };
        let rds = "c.cluster-abc.us-east-2.rds.amazonaws.com";
        let other = "db.example.com";
        let r = resolve_region(rds, &all).unwrap();
        assert_eq!((r.region.as_str(), r.source), ("eu-west-1", RegionSource::Explicit));

        let no_explicit = RegionSources { explicit: None, ..all };
        let r = resolve_region(rds, &no_explicit).unwrap();
        assert_eq!((r.region.as_str(), r.source), ("us-east-2", RegionSource::Hostname));
        let r = resolve_region(other, &no_explicit).unwrap();
        assert_eq!((r.region.as_str(), r.source), ("us-west-1", RegionSource::AwsRegion));

        let only_default = RegionSources { explicit: Some(""), aws_region: Some(""), ..all };
        let r = resolve_region(other, &only_default).unwrap();
        assert_eq!((r.region.as_str(), r.source), ("us-west-2", RegionSource::AwsDefaultRegion));

        let only_profile = RegionSources { profile_region: Some("ap-south-1"), ..Default::default() };
        let r = resolve_region(other, &only_profile).unwrap();
        assert_eq!((r.region.as_str(), r.source), ("ap-south-1", RegionSource::Profile));
    }

    #[test]
    fn no_region_is_a_clear_error() {
        let err = resolve_region("db.example.com", &RegionSources::default()).unwrap_err();
        assert_eq!(err.kind(), TokenErrorKind::NoRegion);
        assert_eq!(
            err.message(),
            "no region: hostname 'db.example.com' names none and neither AWS_REGION, \
             AWS_DEFAULT_REGION nor the profile sets one; pass a region"
        );
    }

    #[test]
    fn a_bad_hostname_is_reported_before_a_missing_region() {
        let err = resolve_region("https://db.example.com", &RegionSources::default()).unwrap_err();
        assert_eq!(err.kind(), TokenErrorKind::InvalidArgument);
        assert!(err.message().contains("scheme"), "{}", err.message());
        let err = resolve_region("", &RegionSources { explicit: Some("us-east-1"), ..Default::default() }).unwrap_err();
        assert_eq!(err.message(), "hostname is empty");
    }

    #[test]
    fn malformed_region_is_refused_naming_its_source() {
        let s = RegionSources { aws_region: Some("us-east-1/evil"), ..Default::default() };
        let err = resolve_region("db.example.com", &s).unwrap_err();
        assert_eq!(err.kind(), TokenErrorKind::InvalidArgument);
        assert!(err.message().contains("AWS_REGION"), "{}", err.message());
        assert!(is_valid_region_name("us-east-1"));
        assert!(!is_valid_region_name("-us"));
        assert!(!is_valid_region_name("us east"));
        assert!(!is_valid_region_name(""));
    }
}
