//! A local stack of a test's own (`infra/local/stack.sh` on free ports, DynamoDB Local on disk),
//! for what needs a stack stopped and started again: recovery at start-up, the schedule.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{free_port, repo_root};

pub struct LocalStack {
    child: Child,
    pub api_url: String,
    pub dynamodb_url: String,
    pub table: String,
    /// Everything the stack printed so far.
    pub output: Arc<Mutex<Vec<String>>>,
}

/// Settings of a stack: where its data lives and the environment it is started with.
#[derive(Clone)]
pub struct StackConfig {
    pub data_dir: PathBuf,
    pub table: String,
    pub env: Vec<(String, String)>,
}

impl StackConfig {
    pub fn new(name: &str) -> Self {
        let data_dir = std::env::temp_dir().join(format!("{name}-{}", ulid::Ulid::new()));
        StackConfig { data_dir, table: name.to_string(), env: Vec::new() }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

impl LocalStack {
    /// Starts the stack and waits until it is ready: until it answers `GET /api/events` with 200
    /// over HTTP (router, function and DynamoDB Local all up), not until some line is printed.
    pub fn start(config: &StackConfig) -> Self {
        let (api_port, dynamodb_port) = (free_port(), free_port());
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("infra/local/stack.sh"))
            .env("API_PORT", api_port.to_string())
            .env("DYNAMODB_PORT", dynamodb_port.to_string())
            .env("DYNAMODB_DATA_DIR", &config.data_dir)
            .env("TABLE_NAME", &config.table)
            .env("STACK_NO_RELOAD", "1")
            .env("STACK_CONCURRENCY", "2")
            .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in &config.env {
            cmd.env(k, v);
        }
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().expect("start infra/local/stack.sh");
        let output = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let lines = output.clone();
        // Drains the stack's output for as long as it runs, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let mut stack = LocalStack {
            child,
            api_url: format!("http://127.0.0.1:{api_port}"),
            dynamodb_url: format!("http://127.0.0.1:{dynamodb_port}"),
            table: config.table.clone(),
            output,
        };
        let started = Instant::now();
        while !stack.answers() {
            if let Ok(Some(status)) = stack.child.try_wait() {
                panic!("the stack exited ({status}) before it answered:\n{}", stack.printed());
            }
            if started.elapsed() > Duration::from_secs(600) {
                panic!("the stack did not answer in {:?}:\n{}", started.elapsed(), stack.printed());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        stack
    }

    /// Whether `GET /api/events` answers 200. A bare HTTP/1.0 request, as this runs outside any
    /// async runtime.
    fn answers(&self) -> bool {
        let addr = self.api_url.trim_start_matches("http://");
        let Ok(mut conn) = TcpStream::connect(addr) else { return false };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
        let request = format!("GET /api/events HTTP/1.0\r\nHost: {addr}\r\n\r\n");
        let mut head = [0u8; 12];
        conn.write_all(request.as_bytes()).is_ok() && conn.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
    }

    /// Waits until the stack has printed a line containing `needle` (what it does after it
    /// answers, such as its start-up recovery's report); everything printed so far.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> String {
        let started = Instant::now();
        while !self.output.lock().unwrap().iter().any(|l| l.contains(needle)) {
            if started.elapsed() > timeout {
                panic!("the stack never printed {needle:?} in {timeout:?}:\n{}", self.printed());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.printed()
    }

    pub fn printed(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// SIGTERM to the stack, as Ctrl-C would; waits until everything it started has stopped.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: signalling our own child's process group.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let _ = self.child.wait();
        // stack.sh stops its own children on SIGTERM; make sure nothing outlives a failed test.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
        }
    }
}
