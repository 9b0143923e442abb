//! tiny_http's server with its default settings.
fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let server = tiny_http::Server::http(&addr).unwrap();
    println!("{}", server.server_addr());
    for request in server.incoming_requests() {
        let _ = request.respond(tiny_http::Response::from_string("ok\n"));
    }
}
