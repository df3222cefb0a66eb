//! The `atrium` command: `serve` (the default), `migrate`, and operator commands.

use std::net::TcpListener;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use atrium::config::{Config, Overrides};

/// mimalloc instead of glibc malloc: a busy page allocates many small strings on
/// two async workers and the database threads, where glibc's arenas cost ~13 % of the
/// CPU in a profile of My Apps under load (see docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "atrium",
    version,
    about = "Self-hosted portal for organizations building machine-learning apps"
)]
struct Cli {
    /// Folder for the SQLite database, the mail outbox and the session key.
    #[arg(long, global = true, env = "ATRIUM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL (`sqlite:<path>` or `postgres://...`); defaults to SQLite in the data folder.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ATRIUM_BIND")]
        bind: Option<String>,
        /// Worker threads (default: one per core).
        #[arg(long, env = "ATRIUM_WORKERS")]
        workers: Option<usize>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Operator commands.
    Admin {
        #[command(subcommand)]
        command: atrium::admin::AdminCommand,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ATRIUM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let mut overrides = Overrides {
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        ..Overrides::default()
    };
    let command = cli.command.unwrap_or(Command::Serve {
        bind: None,
        workers: None,
    });
    let result = match command {
        Command::Serve { bind, workers } => {
            overrides.bind = bind;
            serve(overrides, workers)
        }
        Command::Migrate => migrate(overrides),
        Command::Admin { command } => {
            Config::load(overrides).and_then(|config| atrium::admin::run(&config, command))
        }
    };
    if let Err(e) = result {
        eprintln!("atrium: {e}");
        std::process::exit(1);
    }
}

fn serve(overrides: Overrides, workers: Option<usize>) -> Result<(), String> {
    let config = Config::load(overrides)?;
    let bind = config.bind.clone();
    let listener = TcpListener::bind(&bind).map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let workers = workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let state = atrium::build_state(config)?;
    tracing::info!(
        bind = %bind,
        database = %atrium::db::redact_url(&state.config.database_url),
        mail = %state.config.smtp_url.as_deref().map(atrium::db::redact_url).unwrap_or_else(|| state.config.outbox_dir().display().to_string()),
        sessions = if state.config.redis_url.is_some() { "redis" } else { "cookie" },
        "Atrium is listening on http://{bind}"
    );
    actix_web::rt::System::new().block_on(async move {
        let server = atrium::start(state, listener, workers).await?;
        server.await.map_err(|e| e.to_string())
    })
}

fn migrate(overrides: Overrides) -> Result<(), String> {
    let config = Config::load(overrides)?;
    let mut conn = atrium::db::open_one(&config.database_url)?;
    let applied = atrium::db::migrate(&mut conn)?;
    println!(
        "{}: migrations up to date ({} applied now)",
        atrium::db::redact_url(&config.database_url),
        applied.len()
    );
    Ok(())
}
