//! Command-line interface: argument definitions and dispatch.

mod accounts;
mod common;
mod doctor;
mod documents;
mod posture;
mod query;
mod serve;
mod sync;
mod tenants;
mod webhooks;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Trustline: connect customers' AWS accounts safely and keep an inventory of them.
#[derive(Debug, Parser)]
#[command(name = "trustline", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings shared by the worker commands; each overrides the config file.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Config file (default: ./trustline.toml when present).
    #[arg(long, global = true, env = "TRUSTLINE_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// The store: a SQLite file's path (config: store.path) or a postgres:// URL (config:
    /// store.url), shared by several workers.
    #[arg(long, global = true, env = "TRUSTLINE_STORE", hide_env_values = true)]
    store: Option<String>,
    /// Send every AWS call to this URL (config: aws.endpoint_url).
    #[arg(long, global = true, env = "TRUSTLINE_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// Home region for STS and IAM (config: aws.region).
    #[arg(long = "home-region", global = true)]
    home_region: Option<String>,
    /// Log lines as text or JSON (to stderr).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Override any config setting, e.g. `--set sync.regions='["eu-west-1"]'` or
    /// `--set limits.iam.per_second=20` (repeatable; wins over the config file).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate ExternalIds (160 random bits each, from the operating system's CSPRNG).
    ExternalId {
        /// Vendor prefix, e.g. `acme:tenant-42:`.
        #[arg(long)]
        prefix: Option<String>,
        /// How many to generate.
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// Print IAM policy documents (JSON).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print CloudFormation templates, or the role as AWS CLI commands or Terraform.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Print a CloudFormation console link that opens the stack with every parameter filled in.
    QuickCreateLink {
        /// HTTPS URL of the template in S3.
        #[arg(long)]
        template_url: String,
        /// Region the console opens in (its partition picks the console).
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Suggested stack name.
        #[arg(long, default_value = "vendor-read-only-access")]
        stack_name: String,
        /// The customer's ExternalId (pre-filled, so the customer never copies it).
        #[arg(long)]
        external_id: String,
        /// Other template parameters as NAME=VALUE (e.g. VendorPrincipal=arn:aws:iam::…:root).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// Describe the four integration kinds (JSON), as the wizard shows them.
    Kinds,
    /// Print a new key for sealing customer secrets in the store (set it as TRUSTLINE_SEAL_KEY),
    /// or re-seal the store's secrets under the current key (`seal-key rotate`).
    SealKey {
        #[command(subcommand)]
        command: Option<SealKeyCommand>,
    },
    /// Print a new operator token for `trustline serve` (256 random bits; TRUSTLINE_API_TOKEN).
    ApiToken,
    /// Manage the vendor's customers (tenants): each owns its connections and ExternalIds.
    #[command(subcommand)]
    Tenants(tenants::TenantsCommand),
    /// Manage connected accounts.
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// Manage signed webhook endpoints (Standard Webhooks), sent by `run` and `serve`.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Sync every connected account once and exit (for cron, systemd timers, Kubernetes CronJobs);
    /// the webhook events due are sent once before it exits (`run` and `serve` retry failures).
    Sync {
        /// Only this connection.
        #[arg(long)]
        connection: Option<String>,
        /// Accounts listed at once (config: sync.concurrency).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Print the run summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stay up and sync on a schedule; SIGTERM or Ctrl-C finishes the accounts in flight and exits.
    Run {
        /// An interval (6h, 30m) or a cron expression in UTC ('0 */6 * * *').
        #[arg(long, default_value = "6h")]
        schedule: trustline_worker::schedule::Schedule,
        /// Up to this much random delay before each run (e.g. 5m), to spread load.
        #[arg(long, default_value = "0s", value_parser = trustline_worker::schedule::parse_duration)]
        jitter: std::time::Duration,
        /// Accounts listed at once (config: sync.concurrency).
        #[arg(long)]
        concurrency: Option<usize>,
        /// How long an account's lease lasts without this replica's heartbeat: on a PostgreSQL
        /// store, how soon another replica takes over the accounts of one that stopped (config:
        /// sync.lease_ttl; default 60s).
        #[arg(long, value_parser = trustline_worker::schedule::parse_duration)]
        lease_ttl: Option<std::time::Duration>,
    },
    /// The store in use (engine, where, its migrations) and, for replicas sharing it, the
    /// replicas alive and the state of their leases.
    Doctor {
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Each connection's posture (healthy, degraded, unsafe), its findings and when it was last
    /// checked; every sync re-verifies, `--check` does now.
    Posture(posture::PostureArgs),
    /// Show the current inventory.
    Inventory(query::InventoryArgs),
    /// Show what changed since a time (RFC 3339) or a duration ago (e.g. 24h, 7d).
    Changes {
        /// RFC 3339 time or a duration such as 30m, 24h, 7d.
        #[arg(long)]
        since: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = common::OutputFormat::Table)]
        format: common::OutputFormat,
    },
    /// Export the whole inventory as JSON lines.
    Export,
    /// Stored CloudTrail management events as JSON lines.
    Events {
        /// Only this connection.
        #[arg(long)]
        connection: Option<String>,
        /// RFC 3339 time or a duration such as 30m, 24h, 7d.
        #[arg(long, default_value = "90d")]
        since: String,
        /// Print each event's full CloudTrail record (the JSON CloudTrail keeps), one per line,
        /// instead of its summary.
        #[arg(long)]
        records: bool,
    },
    /// Serve the verify and registration API for the onboarding page (docs/openapi.yaml).
    Serve(serve::ServeArgs),
}

#[derive(Debug, Subcommand)]
enum SealKeyCommand {
    /// Re-seal every sealed secret in the store under TRUSTLINE_SEAL_KEY, opening them with the
    /// keys in TRUSTLINE_SEAL_OLD_KEYS (comma-separated) or TRUSTLINE_SEAL_OLD_KEYS_FILE (one a
    /// line); prints how many were re-sealed. Afterwards the old keys can be dropped.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Trust policy for the cross-account role: the vendor, only with the ExternalId.
    Trust {
        #[command(flatten)]
        vendor: VendorArgs,
        /// The customer's ExternalId.
        #[arg(long)]
        external_id: String,
        #[command(flatten)]
        hardening: HardeningArgs,
    },
    /// Trust policy for the same-account kind on EC2, ECS or Lambda.
    ServiceTrust {
        /// The compute service.
        #[arg(long, value_enum)]
        service: ServiceArg,
        /// The customer's account ID (limits ECS tasks to it with aws:SourceAccount).
        #[arg(long)]
        account: Option<String>,
    },
    /// Trust policy for the same-account kind on EKS (IAM roles for service accounts).
    IrsaTrust {
        /// The customer's account ID.
        #[arg(long)]
        account: String,
        /// The cluster's OIDC issuer URL.
        #[arg(long)]
        oidc_issuer: String,
        /// Kubernetes namespace of the vendor's service account.
        #[arg(long)]
        namespace: String,
        /// The vendor's Kubernetes service account.
        #[arg(long)]
        service_account: String,
    },
    /// Least-privilege permission policy for the chosen data sets.
    Permissions {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Permissions boundary for the access-key kind's IAM user.
    Boundary {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Check a trust policy (file, or - for stdin): does a third party need the ExternalId?
    CheckTrust {
        /// The policy document.
        file: String,
        /// The role's own account, whose principals are not third parties.
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
    /// Single-account role stack (cross-account kind).
    Role {
        #[command(flatten)]
        role: RoleArgs,
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
    /// Organization rollout: service-managed StackSet plus the discovery role.
    Stackset {
        #[command(flatten)]
        role: RoleArgs,
        /// Root ID (r-…) for every account, or OU IDs (ou-…); repeat or comma-separate.
        #[arg(long = "target", value_delimiter = ',', required = true)]
        targets: Vec<String>,
        /// Who creates the StackSet.
        #[arg(long, value_enum, default_value_t = CallAsArg::ManagementAccount)]
        call_as: CallAsArg,
        /// Don't create the discovery role in the deploying account.
        #[arg(long)]
        no_discovery_role: bool,
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
    /// IAM user stack for the access-key or STS kind (the key itself is created by the customer).
    User {
        /// Which kind the user is for.
        #[arg(long, value_enum, default_value_t = KeyKindArg::AccessKey)]
        kind: KeyKindArg,
        /// Vendor name shown in descriptions.
        #[arg(long)]
        vendor_name: String,
        /// IAM user name.
        #[arg(long, default_value = "vendor-read-only")]
        user_name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
    /// The role as a shell script of AWS CLI commands.
    Cli {
        #[command(flatten)]
        role: RoleArgs,
        /// The customer's account ID.
        #[arg(long)]
        account: String,
    },
    /// The role as Terraform (hashicorp/aws provider).
    Terraform {
        #[command(flatten)]
        role: RoleArgs,
    },
}

#[derive(Debug, Args)]
struct VendorArgs {
    /// The vendor principal: arn:aws:iam::ACCOUNT:root or a vendor role ARN.
    #[arg(long, env = "TRUSTLINE_VENDOR_PRINCIPAL")]
    vendor: String,
}

#[derive(Debug, Args)]
struct HardeningArgs {
    /// Vendor egress range for aws:SourceIp (repeatable).
    #[arg(long = "source-ip")]
    source_ips: Vec<String>,
    /// VPC endpoint the vendor calls STS through, for aws:SourceVpce (repeatable).
    #[arg(long = "source-vpce")]
    source_vpces: Vec<String>,
    /// The vendor's organization, for aws:PrincipalOrgID.
    #[arg(long)]
    principal_org_id: Option<String>,
    /// Allow session tags (sts:TagSession).
    #[arg(long)]
    session_tags: bool,
    /// Allow setting a source identity (sts:SetSourceIdentity).
    #[arg(long)]
    source_identity: bool,
}

#[derive(Debug, Args)]
struct ScopeArgs {
    /// Data sets to read (repeatable): iam, ec2-network, cloudtrail, organizations.
    #[arg(long = "data-set", value_delimiter = ',', default_values_t = ["iam".to_owned(), "ec2-network".to_owned(), "cloudtrail".to_owned()])]
    data_sets: Vec<String>,
    /// Limit EC2 and CloudTrail reads to these regions (repeatable; default: all).
    #[arg(long = "region", value_delimiter = ',')]
    regions: Vec<String>,
    /// Limit every call to these source ranges (repeatable; key-based kinds).
    #[arg(long = "source-ip")]
    source_ips: Vec<String>,
    /// Account ID for resource ARNs (policy commands; templates use the stack's account).
    #[arg(long, default_value = "")]
    account: String,
    /// Partition for resource ARNs.
    #[arg(long, default_value = "aws")]
    partition: String,
}

#[derive(Debug, Args)]
struct RoleArgs {
    #[command(flatten)]
    vendor: VendorArgs,
    /// Vendor name shown in descriptions and the console.
    #[arg(long, env = "TRUSTLINE_VENDOR_NAME")]
    vendor_name: String,
    /// The role's name.
    #[arg(long, default_value = "VendorReadOnly")]
    role_name: String,
    /// The role's path.
    #[arg(long, default_value = "/")]
    role_path: String,
    /// Maximum session duration in seconds (3600–43200).
    #[arg(long, default_value_t = 3600)]
    max_session_seconds: u32,
    /// AWS-managed policy to attach as well (repeatable), e.g. SecurityAudit.
    #[arg(long = "managed-policy")]
    managed_policies: Vec<String>,
    /// The customer's ExternalId (templates: the parameter's default; CLI/Terraform: required).
    #[arg(long)]
    external_id: Option<String>,
    /// Data sets to read (repeatable): iam, ec2-network, cloudtrail, organizations.
    #[arg(long = "data-set", value_delimiter = ',', default_values_t = ["iam".to_owned(), "ec2-network".to_owned(), "cloudtrail".to_owned()])]
    data_sets: Vec<String>,
    /// Limit EC2 and CloudTrail reads to these regions (repeatable; default: all).
    #[arg(long = "region", value_delimiter = ',')]
    regions: Vec<String>,
    #[command(flatten)]
    hardening: HardeningArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ServiceArg {
    Ec2,
    EcsTasks,
    Lambda,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CallAsArg {
    ManagementAccount,
    DelegatedAdmin,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeyKindArg {
    AccessKey,
    Sts,
}

/// Runs a command and returns what it prints.
pub(crate) fn run(cli: Cli) -> anyhow::Result<String> {
    match cli.command {
        Command::Tenants(cmd) => tenants::tenants(&cli.global, cmd),
        Command::Accounts(cmd) => accounts::accounts(&cli.global, cmd),
        Command::Webhooks(cmd) => webhooks::webhooks(&cli.global, cmd),
        Command::Sync { connection, concurrency, json } => {
            sync::sync(&cli.global, connection, concurrency, json)
        }
        Command::Run { schedule, jitter, concurrency, lease_ttl } => {
            sync::run_scheduled(&cli.global, schedule, jitter, concurrency, lease_ttl)
        }
        Command::Doctor { json } => doctor::doctor(&cli.global, json),
        Command::Posture(args) => posture::posture(&cli.global, args),
        Command::Inventory(args) => query::inventory(&cli.global, &args),
        Command::Changes { since, format } => query::changes(&cli.global, &since, format),
        Command::Export => query::export(&cli.global),
        Command::Events { connection, since, records } => {
            query::events(&cli.global, connection.as_deref(), &since, records)
        }
        Command::Serve(args) => serve::serve(&cli.global, args),
        Command::SealKey { command: Some(SealKeyCommand::Rotate) } => accounts::rotate_seal_key(&cli.global),
        other => documents::run(&cli.global, other),
    }
    .map_err(documents::name_flag)
}
