//! A small HTTP/1.1 file server on 127.0.0.1 for downloader tests: Range requests, 404s, a
//! route that drops the connection half-way on its first request, and a PyPI-style JSON index.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the server serves at a path.
#[derive(Clone)]
pub enum Route {
    /// The bytes, honouring `Range: bytes=N-`.
    File(Arc<Vec<u8>>),
    /// The bytes, but the first request is cut off after this many body bytes.
    DropOnce(Arc<Vec<u8>>, usize),
    /// A JSON document.
    Json(String),
}

pub struct Server {
    pub base: String,
    pub requests: Arc<AtomicUsize>,
    pub ranges: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(routes: HashMap<String, Route>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(Mutex::new(routes));
        let (req, rng) = (requests.clone(), ranges.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (routes, req, rng) = (routes.clone(), req.clone(), rng.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &routes, &req, &rng);
                });
            }
        });
        Self {
            base,
            requests,
            ranges,
        }
    }
}

fn handle(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, Route>>,
    requests: &AtomicUsize,
    ranges: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range_start = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            ranges.lock().unwrap().push(v.trim().to_string());
            range_start = v.trim().trim_end_matches('-').parse().unwrap_or(0);
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let route = routes.lock().unwrap().get(&path).cloned();
    match route {
        None => stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        ),
        Some(Route::Json(body)) => write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        Some(Route::File(bytes)) => send(&mut stream, &bytes, range_start, None),
        Some(Route::DropOnce(bytes, cut)) => {
            // Later requests get the plain file.
            routes
                .lock()
                .unwrap()
                .insert(path.clone(), Route::File(bytes.clone()));
            send(&mut stream, &bytes, range_start, Some(cut))
        }
    }
}

fn send(
    stream: &mut TcpStream,
    bytes: &[u8],
    start: usize,
    cut: Option<usize>,
) -> std::io::Result<()> {
    let start = start.min(bytes.len());
    let body = &bytes[start..];
    let head = if start > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
            body.len(),
            bytes.len() - 1,
            bytes.len()
        )
    } else {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
    };
    stream.write_all(head.as_bytes())?;
    let n = cut.map_or(body.len(), |c| c.min(body.len()));
    stream.write_all(&body[..n])?;
    stream.flush()?;
    if cut.is_some() {
        stream.shutdown(std::net::Shutdown::Both)?;
    }
    Ok(())
}
