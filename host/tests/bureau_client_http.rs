//! The bureau client's error handling against canned HTTP answers from a tiny local server:
//! a 4xx ApiError, an error page that is not an ApiError, a success body that does not decode,
//! a server that never answers, nothing listening, and bad addresses.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use taxdisk_host::bureau_client::{BureauClient, BureauError};
use taxdisk_protocol::bureau_api::{BureauSettings, RedFormState};
use taxdisk_protocol::types::{DeviceSerial, TaxpayerId};

/// Serves one connection: answers `status` with `body`, and reports the request line and body.
fn canned(status: &str, body: &str) -> (String, mpsc::Receiver<(String, String)>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            r.read_line(&mut h).unwrap();
            if h.trim().is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).unwrap();
        r.get_mut().write_all(answer.as_bytes()).unwrap();
        tx.send((line.trim().to_string(), String::from_utf8(body).unwrap()))
            .unwrap();
    });
    (url, rx)
}

fn serial() -> DeviceSerial {
    DeviceSerial::new("661234567890").unwrap()
}

#[test]
fn h01_a_4xx_api_error_is_surfaced_with_code_message_and_rule() {
    let body = r#"{"code":"not_declared","message":"period 202611 is not declared","rule":"B5, FAQ 9.10"}"#;
    let (url, rx) = canned("400 Bad Request", body);
    let c = BureauClient::new(&url).unwrap();
    let err = c
        .settings(&BureauSettings {
            manual_red_review: true,
        })
        .unwrap_err();
    match &err {
        BureauError::Api {
            status,
            path,
            error,
        } => {
            assert_eq!((*status, path.as_str()), (400, "/settings"));
            assert_eq!(error.code, "not_declared");
            assert_eq!(error.rule, "B5, FAQ 9.10");
        }
        e => panic!("expected Api, got {e:?}"),
    }
    assert_eq!(err.api_code(), Some("not_declared"));
    let line = err.to_string();
    assert!(
        line.contains("period 202611 is not declared") && line.contains("B5, FAQ 9.10"),
        "{line}"
    );
    let (req, sent) = rx.recv().unwrap();
    assert_eq!(req, "POST /api/v1/settings HTTP/1.1");
    assert_eq!(sent, r#"{"manual_red_review":true}"#);
}

#[test]
fn an_error_page_that_is_not_an_api_error_is_an_http_error() {
    let (url, _rx) = canned("502 Bad Gateway", "<html>\n<b>proxy</b> down</html>");
    let err = BureauClient::new(&url).unwrap().health().unwrap_err();
    match &err {
        BureauError::Http {
            status, snippet, ..
        } => {
            assert_eq!(*status, 502);
            assert!(snippet.contains("proxy") && !snippet.contains('\n'));
        }
        e => panic!("expected Http, got {e:?}"),
    }
}

#[test]
fn a_success_body_that_does_not_decode_is_a_bad_answer() {
    let (url, _rx) = canned("200 OK", r#"{"status":"ok"}"#);
    let err = BureauClient::new(&url).unwrap().health().unwrap_err();
    assert!(matches!(err, BureauError::BadAnswer { .. }), "{err:?}");
    let (url, _rx) = canned("200 OK", "[1,2");
    let c = BureauClient::new(&url).unwrap();
    let err = c.grants(&serial(), 0).unwrap_err();
    assert!(matches!(err, BureauError::BadAnswer { .. }), "{err:?}");
}

#[test]
fn query_strings_and_paths_are_built_from_the_table() {
    let (url, rx) = canned("200 OK", "[]");
    let c = BureauClient::new(&format!("{url}/api/v1/")).unwrap();
    assert_eq!(
        c.base_url(),
        url,
        "a trailing prefix and slash are accepted"
    );
    let tp = TaxpayerId::new("91350100M000100Y43").unwrap();
    let forms = c
        .red_forms(Some(&tp), Some(RedFormState::UnderReview))
        .unwrap();
    assert!(forms.is_empty());
    let (req, _) = rx.recv().unwrap();
    assert_eq!(
        req,
        "GET /api/v1/red-forms?taxpayer_id=91350100M000100Y43&state=UnderReview HTTP/1.1"
    );
    let (url, rx) = canned("200 OK", "[]");
    BureauClient::new(&url)
        .unwrap()
        .updates(&serial(), 3)
        .unwrap();
    assert_eq!(
        rx.recv().unwrap().0,
        "GET /api/v1/disks/661234567890/updates?after_seq=3 HTTP/1.1"
    );
}

#[test]
fn h01_nothing_listening_is_unreachable_with_the_settings_hint() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = BureauClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let err = c.health().unwrap_err();
    assert!(matches!(err, BureauError::Unreachable { .. }), "{err:?}");
    let line = err.to_string();
    assert!(line.contains("安全接入服务器地址") && line.contains(&port.to_string()));
    assert!(!line.contains('\n'));
}

#[test]
fn a_bureau_that_never_answers_times_out() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let hold = thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        thread::sleep(Duration::from_millis(1500));
        drop(s);
    });
    let c = BureauClient::with_timeout(&url, Duration::from_millis(300)).unwrap();
    let start = Instant::now();
    let err = c.health().unwrap_err();
    assert!(matches!(err, BureauError::Timeout { .. }), "{err:?}");
    assert!(start.elapsed() < Duration::from_millis(1400));
    assert!(err.to_string().contains("/health"));
    hold.join().unwrap();
}

#[test]
fn bad_addresses_are_refused_before_any_call() {
    for bad in ["", "127.0.0.1:8600", "ftp://x", "http://", "http://a b"] {
        let err = BureauClient::new(bad).unwrap_err();
        assert!(matches!(err, BureauError::BadUrl(_)), "{bad:?}: {err:?}");
    }
    assert!(BureauClient::new("https://bureau.example:443").is_ok());
}
