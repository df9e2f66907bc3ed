//! A one-purpose HTTP/1.1 server for what the tests must stand in for: CloudFormation's
//! pre-signed response URL, Secrets Manager. It answers with canned replies in order (the last
//! one repeats) and hands back every request it received.
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// One request as received.
pub struct Received {
    /// When its head and body had arrived (before the answer went out).
    pub at: std::time::Instant,
    /// Request line and headers.
    pub head: String,
    /// The body, parsed as JSON (`Null` if it is not).
    pub body: Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// Serves `answers` (status, JSON body) in order on a free port; its base URL and the requests.
pub async fn serve(answers: Vec<(u16, String)>) -> (String, UnboundedReceiver<Received>) {
    serve_slowly(answers, std::time::Duration::ZERO).await
}

/// As [`serve`], each answer sent `delay` after its request arrived (a slow service).
pub async fn serve_slowly(
    answers: Vec<(u16, String)>,
    delay: std::time::Duration,
) -> (String, UnboundedReceiver<Received>) {
    assert!(!answers.is_empty());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = unbounded_channel();
    tokio::spawn(async move {
        let mut served = 0;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let Some((head, body)) = read_request(&mut socket).await else { continue };
            let at = std::time::Instant::now();
            let received = Received { at, head, body: serde_json::from_slice(&body).unwrap_or(Value::Null) };
            let _ = tx.send(received);
            tokio::time::sleep(delay).await;
            let (status, reply) = &answers[served.min(answers.len() - 1)];
            served += 1;
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (url, rx)
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&raw[..end]).to_string();
        let length = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-length")))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if raw.len() >= end + 4 + length {
            return Some((head, raw[end + 4..end + 4 + length].to_vec()));
        }
    }
}
