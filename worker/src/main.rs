//! `trustline`: the vendor's command-line tool and worker. It scripts every document a customer
//! needs to grant access (policies, CloudFormation templates and StackSets, quick-create links,
//! CLI and Terraform alternatives); manages the vendor's customers and their connections; syncs
//! every connected account's inventory once or on a schedule; and serves the API behind the
//! onboarding page (`trustline serve`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// jemalloc instead of the system's malloc. A sync with a thousand accounts in flight allocates
/// and frees from many threads (tokio's workers, the store's writer, blocking tasks); on the
/// organization-scale benchmark (1,000 accounts, bench/org-scale) glibc's malloc cost 134 s of
/// worker CPU and jemalloc 103 s, for the same work; mimalloc was as fast (97 s) but peaked at
/// 320 MB against jemalloc's 276 MB (glibc's: 255 MB). Its settings are built in by
/// `.cargo/config.toml` (`JEMALLOC_SYS_WITH_MALLOC_CONF`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // A large sync keeps many connections open; the default soft limit (often 1,024 files) is
    // raised to what the system allows.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::debug!(error = %e, "could not raise the open-files limit");
    }
    match cli::run(args) {
        Ok(output) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`trustline … | head`) is not an error worth a message.
            let _ = stdout.write_all(output.as_bytes());
            ExitCode::SUCCESS
        }
        Err(err) => {
            // Errors from core already name the field and the fix; anyhow adds the context.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(2)
        }
    }
}
