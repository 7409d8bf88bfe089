//! What a hostile client does that reqwest will not: a body streamed in chunks without a
//! `Content-Length`, to see whether the server stops reading it.
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The answer to a streamed request: its status, and how many body bytes the client had sent
/// when it arrived.
pub struct Streamed {
    pub status: u16,
    pub sent_before_answer: u64,
    pub head: String,
}

/// POSTs `prefix` and then filler bytes, `total` in all, as a chunked body (no
/// `Content-Length`) to `path` on `base` (`http://host:port`), stopping when the server answers
/// or closes.
pub async fn post_chunked(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    prefix: &[u8],
    total: u64,
) -> Streamed {
    let addr = base.trim_start_matches("http://");
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let prefix = prefix.to_vec();
    let write = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let filler = vec![b'a'; 64 * 1024];
        let mut first = Some(prefix);
        while counter.load(Ordering::Relaxed) < total {
            let chunk = first.take().unwrap_or_else(|| filler.clone());
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        writer.write_all(b"0\r\n\r\n").await?;
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let sent_before_answer = sent.load(Ordering::Relaxed);
    write.abort();
    let head = String::from_utf8_lossy(&answer).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Streamed {
        status,
        sent_before_answer,
        head,
    }
}
