//! What the servers of this test process write to their log, for tests that check that nothing
//! secret ends up there. The first call installs a process-wide subscriber (every server of
//! every test in this process logs into one buffer from then on), so tests look for values only
//! they use.
use std::sync::{Mutex, OnceLock};

static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
/// Enough for a whole test run; beyond it the oldest half is dropped.
const CAP: usize = 64 << 20;

struct Writer;

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(lock) = BUFFER.get()
            && let Ok(mut b) = lock.lock()
        {
            if b.len() + buf.len() > CAP {
                let half = b.len() / 2;
                b.drain(..half);
            }
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing (once per process), at debug level for everything but the HTTP plumbing.
pub fn capture() {
    BUFFER.get_or_init(|| {
        let filter = tracing_subscriber::EnvFilter::new(
            "debug,hyper=info,hyper_util=info,h2=info,rustls=info,tokio=info,runtime=info",
        );
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(|| Writer)
            .try_init();
        Mutex::new(Vec::new())
    });
}

/// Everything captured so far.
pub fn text() -> String {
    BUFFER
        .get()
        .and_then(|b| {
            b.lock()
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        })
        .unwrap_or_default()
}
