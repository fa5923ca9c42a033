//! The names of the chain's sources, as botocore names the credential
//! `method` each produces.

use std::fmt;

/// A source of the chain, named exactly as botocore names the credential
/// `method` it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceName {
    /// `AWS_ACCESS_KEY_ID` and friends.
    Env,
    /// `role_arn` with `source_profile` or `credential_source`.
    AssumeRole,
    /// A web identity token file and a role (EKS IRSA).
    AssumeRoleWithWebIdentity,
    /// IAM Identity Center.
    Sso,
    /// Static keys in the shared credentials file.
    SharedCredentialsFile,
    /// `login_session`, from `aws login`.
    Login,
    /// `credential_process`.
    CustomProcess,
    /// Static keys in the config file.
    ConfigFile,
    /// The EC2 CLI's `AWS_CREDENTIAL_FILE`.
    Ec2CredentialsFile,
    /// Boto2's config file.
    BotoConfig,
    /// ECS or EKS Pod Identity container endpoint.
    ContainerRole,
    /// EC2 instance metadata.
    IamRole,
}

impl SourceName {
    /// Every source, in the order of the enum, which is botocore's order of
    /// the chain (`chain::ORDER`).
    pub const ALL: [SourceName; 12] = [
        SourceName::Env,
        SourceName::AssumeRole,
        SourceName::AssumeRoleWithWebIdentity,
        SourceName::Sso,
        SourceName::SharedCredentialsFile,
        SourceName::Login,
        SourceName::CustomProcess,
        SourceName::ConfigFile,
        SourceName::Ec2CredentialsFile,
        SourceName::BotoConfig,
        SourceName::ContainerRole,
        SourceName::IamRole,
    ];

    /// botocore's method name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceName::Env => "env",
            SourceName::AssumeRole => "assume-role",
            SourceName::AssumeRoleWithWebIdentity => "assume-role-with-web-identity",
            SourceName::Sso => "sso",
            SourceName::SharedCredentialsFile => "shared-credentials-file",
            SourceName::Login => "login",
            SourceName::CustomProcess => "custom-process",
            SourceName::ConfigFile => "config-file",
            SourceName::Ec2CredentialsFile => "ec2-credentials-file",
            SourceName::BotoConfig => "boto-config",
            SourceName::ContainerRole => "container-role",
            SourceName::IamRole => "iam-role",
        }
    }

    /// The source botocore calls `method`, if any.
    pub fn from_method(method: &str) -> Option<SourceName> {
        SourceName::ALL.into_iter().find(|s| s.as_str() == method)
    }

    /// Whether credentials from this source renew themselves when they
    /// expire (a remote source asked again), as opposed to static values
    /// pasted somewhere that will simply stop working.
    pub fn refreshes_itself(self) -> bool {
        !matches!(
            self,
            SourceName::Env
                | SourceName::SharedCredentialsFile
                | SourceName::ConfigFile
                | SourceName::Ec2CredentialsFile
                | SourceName::BotoConfig
        )
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
