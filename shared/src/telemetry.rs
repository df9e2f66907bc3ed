//! Structured JSON logs, one line per event, level from `RUST_LOG` (default `info`).
//!
//! `RUST_LOG` takes `level` or `target=level` directives separated by commas (`warn`,
//! `info,booking_shared::store=debug`): tracing-subscriber's `Targets`, which needs no regex
//! engine in the binary (its `EnvFilter` does). An unreadable `RUST_LOG` falls back to `info`.
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let format = tracing_subscriber::fmt::layer().json().with_current_span(false).with_target(false);
    let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
}
