//! The four ways a customer can give a vendor access to an AWS account, described as data.
//!
//! The wizard's cards, the CLI's help and the README's table all render from [`IntegrationKind`]
//! so that customers read the same security assessment everywhere.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result, impl_string_serde, quote};

/// How the vendor gets credentials for a customer's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntegrationKind {
    /// The customer creates a role that trusts the vendor's account only with the vendor-issued
    /// ExternalId; the vendor assumes it. No secret is shared. Recommended.
    CrossAccountRole,
    /// The customer hands over an access key pair plus a role ARN; the vendor exchanges the key
    /// for short-lived credentials with AssumeRole.
    Sts,
    /// The customer hands over a long-lived IAM user access key. Last resort.
    AccessKey,
    /// The vendor's software runs inside the customer's account (EC2 instance profile, ECS task
    /// role, Lambda execution role, EKS IRSA) and the SDK credential chain supplies temporary keys.
    SameAccountRole,
}

/// The facts about one integration kind that a customer needs to choose between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrationInfo {
    /// Stable identifier, used in URLs, JSON and CLI flags (`cross-account-role`, …).
    pub id: &'static str,
    /// Short title for a card or table row.
    pub title: &'static str,
    /// Security level from 1 (riskiest) to 5 (safest).
    pub security_stars: u8,
    /// Whether Trustline recommends this kind by default.
    pub recommended: bool,
    /// One sentence: when this kind is the right choice.
    pub best_for: &'static str,
    /// What the customer does or creates during setup.
    pub setup_includes: &'static [&'static str],
    /// What could go wrong, stated plainly.
    pub risks: &'static [&'static str],
    /// Whether a secret leaves the customer's account.
    pub shares_secret: bool,
}

impl IntegrationKind {
    /// Every kind, safest first, in the order the wizard shows them.
    pub const ALL: [IntegrationKind; 4] = [
        IntegrationKind::CrossAccountRole,
        IntegrationKind::Sts,
        IntegrationKind::AccessKey,
        IntegrationKind::SameAccountRole,
    ];

    /// The stable identifier (`cross-account-role`, `sts`, `access-key`, `same-account-role`).
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// Everything a customer needs to know about this kind.
    pub fn info(self) -> IntegrationInfo {
        match self {
            IntegrationKind::CrossAccountRole => IntegrationInfo {
                id: "cross-account-role",
                title: "Cross-account IAM role with an ExternalId",
                security_stars: 5,
                recommended: true,
                best_for: "Almost every customer: one click launches a CloudFormation stack, and no secret ever leaves your account.",
                setup_includes: &[
                    "A read-only IAM role created by a CloudFormation quick-create link",
                    "A trust policy that admits only the vendor's account, and only with your unique ExternalId",
                    "For an AWS Organization, a service-managed StackSet that rolls the role out to every account",
                ],
                risks: &[
                    "The vendor can read what the role's policy allows until you delete the role or stack",
                    "Editing the trust policy to drop the ExternalId condition re-opens the confused-deputy risk",
                ],
                shares_secret: false,
            },
            IntegrationKind::Sts => IntegrationInfo {
                id: "sts",
                title: "Access key exchanged for short-lived STS credentials",
                security_stars: 3,
                recommended: false,
                best_for: "Customers whose policy forbids cross-account trust but allows an IAM user that may only assume one role.",
                setup_includes: &[
                    "An IAM user whose only permission is sts:AssumeRole on one read-only role",
                    "An access key for that user and the role's ARN, given to the vendor",
                ],
                risks: &[
                    "The access key is a long-lived secret held by the vendor; rotate it at least every 90 days",
                    "If the key leaks, whoever holds it can assume the role until the key is deactivated",
                ],
                shares_secret: true,
            },
            IntegrationKind::AccessKey => IntegrationInfo {
                id: "access-key",
                title: "Long-lived IAM user access key",
                security_stars: 1,
                recommended: false,
                best_for: "Last resort, when neither a role nor STS is possible.",
                setup_includes: &[
                    "An IAM user with a strict read-only policy",
                    "A permissions boundary that caps what the user can ever be granted",
                    "Optional conditions limiting the key to the vendor's IP ranges and your regions",
                    "An access key handed to the vendor, rotated on a schedule",
                ],
                risks: &[
                    "A leaked key gives direct access until someone deactivates it",
                    "Keys do not expire by themselves; forgotten keys are a common breach path",
                    "You must rotate the key and update it with the vendor",
                ],
                shares_secret: true,
            },
            IntegrationKind::SameAccountRole => IntegrationInfo {
                id: "same-account-role",
                title: "Role for the vendor's software running in your account",
                security_stars: 4,
                recommended: false,
                best_for: "Self-hosted deployments: the vendor's software runs on EC2, ECS, Lambda or EKS in your own account.",
                setup_includes: &[
                    "A role trusted by the compute service (EC2 instance profile, ECS task role, Lambda execution role) or by your EKS cluster's OIDC provider (IRSA)",
                    "The read-only policy attached to that role; the SDK credential chain finds temporary keys",
                ],
                risks: &[
                    "The vendor's code runs inside your account with the role's permissions: keep the software updated",
                    "Anyone who can run code on that compute can use the role",
                ],
                shares_secret: false,
            },
        }
    }
}

impl fmt::Display for IntegrationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for IntegrationKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        IntegrationKind::ALL.into_iter().find(|k| k.id() == s).ok_or_else(|| {
            Error::invalid(
                "kind",
                format!("unknown integration kind {}; expected one of cross-account-role, sts, access-key, same-account-role", quote(s)),
            )
        })
    }
}

impl_string_serde!(IntegrationKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_only_the_role_is_recommended() {
        for kind in IntegrationKind::ALL {
            assert_eq!(kind.id().parse::<IntegrationKind>().unwrap(), kind);
        }
        let recommended: Vec<_> = IntegrationKind::ALL.into_iter().filter(|k| k.info().recommended).collect();
        assert_eq!(recommended, [IntegrationKind::CrossAccountRole]);
        let stars: Vec<u8> = IntegrationKind::ALL[..3].iter().map(|k| k.info().security_stars).collect();
        assert_eq!(stars, [5, 3, 1]);
        assert!("role".parse::<IntegrationKind>().unwrap_err().to_string().contains("cross-account-role"));
    }
}
