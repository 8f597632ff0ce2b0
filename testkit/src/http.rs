//! Blocking HTTP for tests, on `ureq`: one request to a loopback stand-in or server, its whole
//! answer back whatever the status (errors are the test's to judge). A `Host` header given by
//! the caller goes out as given, so tests can see how a server treats names it does not serve.

use std::io::Read as _;
use std::time::Duration;

/// A response as bytes: status, headers, body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request to an `http://` URL and reads the whole response. Redirects are not
/// followed and no proxy is used: tests talk to what they started.
pub fn exchange<'a>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> std::io::Result<RawResponse> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request.body(body).map_err(std::io::Error::other)?;
    let response = agent.run(request).map_err(std::io::Error::other)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = Vec::new();
    response.into_body().into_reader().read_to_end(&mut body)?;
    Ok(RawResponse { status, headers, body })
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpListener;

    use super::*;

    /// Answers one request with what it received, to see what went out on the wire.
    fn echo_once() -> (String, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let thread = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                head.push_str(&line);
            }
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .map_or(0, |v| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            head.push_str(&String::from_utf8_lossy(&body));
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 418 I'm a teapot\r\nX-Seen: yes\r\nContent-Length: {}\r\n\r\n{head}",
                head.len()
            )
            .unwrap();
        });
        (url, thread)
    }

    #[test]
    fn a_given_host_header_goes_out_as_given() {
        let (url, server) = echo_once();
        let headers = [("Host", "evil.example:8080"), ("X-Test", "1")];
        let r = exchange("GET", &format!("{url}/path?q=1"), headers, b"body on a GET").unwrap();
        server.join().unwrap();
        assert_eq!(r.status, 418, "a status >= 400 is an answer, not an error");
        assert!(r.headers.iter().any(|(k, v)| k == "x-seen" && v == "yes"), "{:?}", r.headers);
        let seen = r.text();
        assert!(seen.starts_with("GET /path?q=1 HTTP/1.1\r\n"), "{seen}");
        let hosts: Vec<&str> = seen.lines().filter(|l| l.to_ascii_lowercase().starts_with("host:")).collect();
        assert_eq!(hosts, ["host: evil.example:8080"], "{seen}");
        assert!(seen.ends_with("body on a GET"), "{seen}");
    }
}
