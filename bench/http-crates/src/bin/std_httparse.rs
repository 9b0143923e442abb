//! What Vigil does: std::net, one accept thread, a thread per connection
//! under a cap, httparse for the head.
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&addr).unwrap();
    println!("{}", listener.local_addr().unwrap());
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if open.load(Ordering::Acquire) >= 64 {
            continue;
        }
        open.fetch_add(1, Ordering::AcqRel);
        let open = open.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut len = 0;
            loop {
                let Ok(n) = stream.read(&mut buf[len..]) else { break };
                if n == 0 {
                    break;
                }
                len += n;
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut req = httparse::Request::new(&mut headers);
                if let Ok(httparse::Status::Complete(_)) = req.parse(&buf[..len]) {
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
                    );
                    break;
                }
                if len == buf.len() {
                    break;
                }
            }
            open.fetch_sub(1, Ordering::AcqRel);
        });
    }
}
