//! `node`: runs one node of the shop, or administers its data.

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's allocator: a request allocates and frees
/// many small buffers across threads, where glibc's arenas showed up as a
/// sixth of the CPU of `GET /api/v1/me` (malloc, free, consolidation).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use nodes::cluster;
use nodes::cluster::wire::{Request, Response};
use nodes::config::Config;
use nodes::{Application, Core, Settings};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "node", about = "One node of the shop platform")]
struct Cli {
    /// The cluster configuration file.
    #[arg(long, global = true, default_value = "cluster.toml")]
    config: PathBuf,
    /// Which node of the configuration this process is (default: the first).
    #[arg(long, global = true)]
    name: Option<String>,
    /// Override the HTTP listen address.
    #[arg(long, global = true)]
    http: Option<SocketAddr>,
    /// Override the data directory.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// On SIGTERM/Ctrl-C, hand this node's shards to the others and leave
    /// the cluster before exiting.
    #[arg(long)]
    leave_on_shutdown: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Administer the shop: through the running cluster when the cookie is
    /// set and the configuration names several nodes, otherwise directly in
    /// the node's data directory (then the node must be stopped).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Inspect the cluster.
    Cluster {
        #[command(subcommand)]
        action: ClusterAction,
    },
    /// Ask the running node named by --name to hand its shards to the
    /// others, leave the cluster and exit.
    Leave,
}

#[derive(Subcommand)]
enum ClusterAction {
    /// Members, their state, shards per node, the epoch and hand-offs under
    /// way, as the node named by --name sees them (JSON).
    Status,
    /// Give up the membership change in progress: every shard move not yet
    /// switched is dropped and its shard served by its source again, data
    /// intact (an aborted join's node is no member).
    Abort,
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create a user with the given roles; the password is read from stdin.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long = "role", default_value = "customer")]
        roles: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A serving node logs at info; one-shot commands only warn.
    init_logging(if cli.command.is_none() { "info" } else { "warn" });
    // Without the default file, run on the embedded defaults; a file named
    // explicitly must exist.
    let config = if cli.config == std::path::Path::new("cluster.toml") && !cli.config.exists() {
        Config::default()
    } else {
        match Config::load(&cli.config) {
            Ok(config) => config,
            Err(e) => return fail(&e),
        }
    };
    let mut settings = match Settings::resolve(config, cli.name.as_deref(), cli.http, cli.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    settings.leave_on_shutdown = cli.leave_on_shutdown;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            None => serve(settings).await,
            Some(Command::Admin {
                action: AdminAction::CreateUser { username, email, roles },
            }) => create_user(settings, &username, &email, roles).await,
            Some(Command::Cluster {
                action: ClusterAction::Status,
            }) => cluster_status(&settings).await,
            Some(Command::Cluster {
                action: ClusterAction::Abort,
            }) => match cluster::client::request(&settings, &Request::AbortChange, Duration::from_secs(40)).await {
                Ok(Response::Json(answer)) => {
                    let answer: serde_json::Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
                    println!("aborted {}", answer["aborted"].as_str().unwrap_or_default());
                    Ok(())
                }
                Ok(other) => Err(format!("unexpected answer: {other:?}")),
                Err(e) => Err(e.to_string()),
            },
            Some(Command::Leave) => {
                match cluster::client::request(&settings, &Request::Leave, Duration::from_secs(600)).await {
                    Ok(_) => {
                        println!("node {} left the cluster and is shutting down", settings.node_name);
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `node cluster status`: the node's view of members, shards and moves,
/// with its view of the metadata Raft.
async fn cluster_status(settings: &Settings) -> Result<(), String> {
    let asked = [Request::Status, Request::RaftStatus];
    let mut answers = cluster::client::requests(settings, &asked, Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())?
        .into_iter();
    let Some(Ok(Response::Status(status))) = answers.next() else {
        return Err("unexpected answer to a status request".into());
    };
    let mut json = serde_json::to_value(&status).map_err(|e| e.to_string())?;
    if let Some(Ok(Response::Json(raft))) = answers.next() {
        json["raft"] = serde_json::from_str(&raft).map_err(|e| e.to_string())?;
    }
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    Ok(())
}

async fn serve(settings: Settings) -> Result<(), String> {
    let name = settings.node_name.clone();
    let app = Application::build(settings).await.map_err(|e| e.to_string())?;
    // Tests and scripts wait for this line.
    println!("node {name} listening on http://{}", app.http_addr());
    tracing::info!(node = %name, http = %app.http_addr(), "node started");
    app.run_until(shutdown_signal()).await.map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

async fn create_user(settings: Settings, username: &str, email: &str, roles: Vec<String>) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    if cluster::client::is_cluster(&settings) {
        let request = Request::CreateUser {
            username: username.to_string(),
            email: email.to_string(),
            password: actors::identity::ports::Plaintext::new(password),
            roles: roles.clone(),
        };
        return match cluster::client::request(&settings, &request, Duration::from_secs(30)).await {
            Ok(Response::Created(id)) => {
                println!("created user {username} ({id}) with roles {}", roles.join(", "));
                Ok(())
            }
            Ok(other) => Err(format!("unexpected answer: {other:?}")),
            Err(actors::Error::Validation { fields }) => Err(format!("invalid: {fields:?}")),
            Err(e) => Err(e.to_string()),
        };
    }
    let core = Core::start(&settings).await.map_err(|e| e.to_string())?;
    let account = actors::identity::NewAccount {
        username,
        email,
        password,
        display_name: None,
    };
    let profile = core
        .domains
        .identity
        .register_with_roles(account, roles)
        .await
        .map_err(|e| match e {
            actors::Error::Validation { fields } => format!("invalid: {fields:?}"),
            other => other.to_string(),
        })?;
    core.runtime.shutdown().await.map_err(|e| e.to_string())?;
    println!(
        "created user {} ({}) with roles {}",
        profile.username,
        profile.id,
        profile.roles.join(", ")
    );
    Ok(())
}

fn init_logging(default: &str) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let asked = std::env::var("LOG").unwrap_or_default();
    let mut filter = EnvFilter::try_from_env("LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // openraft narrates every election and replication step, and repeats
    // its errors twice a second while a peer is down: silent unless `LOG`
    // names it (the node logs the metadata Raft's leader and term changes).
    if !asked.contains("openraft")
        && let Ok(quiet) = "openraft=off".parse()
    {
        filter = filter.add_directive(quiet);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("node: {message}");
    ExitCode::FAILURE
}
