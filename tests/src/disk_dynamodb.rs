//! A DynamoDB Local of a test's own, keeping its data on disk (`-dbPath <dir> -sharedDb`, as
//! `infra/local/stack.sh` runs it with `DYNAMODB_DATA_DIR`) on a fixed port, so the test can
//! SIGKILL the JVM in the middle of traffic and start it again on the same port and data.
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;

use crate::free_port;

/// A client that gives up on a dead endpoint in seconds: a 1 s connect timeout, 5 s per
/// attempt, 10 s per operation, and the standard three attempts with short back-off (the
/// defaults back off from 1 s up to 20 s). Requests to a live DynamoDB Local take milliseconds.
pub fn client_with_timeouts(endpoint: &str) -> Client {
    let conf = crate::local_config(endpoint)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(1)),
        )
        .build();
    Client::from_conf(conf)
}

/// DynamoDB Local on disk, on one port for its whole life. Dropping it kills the JVM and
/// deletes the data.
pub struct DiskDynamoDb {
    pub port: u16,
    pub dir: PathBuf,
    pub endpoint: String,
    child: Option<Child>,
    /// Times started (1 after [`Self::start`]).
    pub starts: u32,
}

impl DiskDynamoDb {
    /// Starts it on a free port with a fresh data folder and waits until it answers.
    pub async fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("dynamodb-restart-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).expect("data folder");
        let mut db = DiskDynamoDb { port, endpoint: format!("http://127.0.0.1:{port}"), dir, child: None, starts: 0 };
        db.spawn();
        db.wait_ready().await;
        db
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        // The JVM gets SIGKILL if the thread that started it (the test's) goes away.
        let storage = ["-dbPath".as_ref(), self.dir.as_os_str(), "-sharedDb".as_ref()];
        let mut cmd = crate::dynamodb_local_command(&storage, self.port);
        self.child = Some(cmd.spawn().expect("java must be installed (infra/local/setup.sh)"));
        self.starts += 1;
    }

    /// Waits (up to two minutes) until it lists tables.
    pub async fn wait_ready(&self) {
        let client = client_with_timeouts(&self.endpoint);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if client.list_tables().send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("DynamoDB Local on {} did not answer within two minutes", self.endpoint);
    }

    /// SIGKILL to the JVM, which gets no chance to flush or close anything; returns once the
    /// process is gone.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL DynamoDB Local");
        let status = child.wait().expect("reap DynamoDB Local");
        assert!(!status.success(), "DynamoDB Local was killed, not stopped cleanly: {status}");
    }

    /// Starts it again on the same port and data folder; returns once it answers.
    pub async fn restart(&mut self) {
        self.spawn();
        self.wait_ready().await;
    }
}

impl Drop for DiskDynamoDb {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
