//! Bad input gets a 4xx problem detail a person can act on — never a 500.

use logbuch_tests::{Backend, Person, TestApp, both, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn raw(
    t: &TestApp,
    who: Option<&Person>,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value, String) {
    let mut req = t.http.request(method, format!("{}{path}", t.url)).body(body);
    if let Some(p) = who {
        req = req.bearer_auth(&p.token);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), ct)
}

/// Who, method, path, content type, body, expected status.
type Case<'a> = (Option<&'a Person>, Method, String, Option<&'a str>, Vec<u8>, StatusCode);

async fn bad_requests_get_problem_details(backend: Backend) {
    let t = spawn_app_with(backend, |s| {
        s.limits.max_request_bytes = 64 * 1024;
        s.limits.max_attachment_bytes = 1000;
    })
    .await;
    let h = t.person("h@nw.example", &[("helper", Some("nw"), None)]).await;
    let n = t.create_ticket(&h, "nw", "sonstiges", "Test").await;
    let json_ct = Some("application/json");
    let stranger = Person { email: "x".into(), token: "lb_nope".into() };
    let cases: Vec<Case> = vec![
        (None, Method::GET, "/api/v1/tickets".into(), None, vec![], StatusCode::UNAUTHORIZED),
        (None, Method::GET, "/api/v1/me".into(), None, vec![], StatusCode::UNAUTHORIZED),
        (Some(&stranger), Method::GET, "/api/v1/me".into(), None, vec![], StatusCode::UNAUTHORIZED),
        (Some(&h), Method::GET, "/api/v1/nothing".into(), None, vec![], StatusCode::NOT_FOUND),
        (Some(&h), Method::PUT, "/api/v1/tickets".into(), None, vec![], StatusCode::METHOD_NOT_ALLOWED),
        (Some(&h), Method::GET, "/api/v1/tickets/abc".into(), None, vec![], StatusCode::BAD_REQUEST),
        (Some(&h), Method::GET, "/api/v1/tickets/99999999999999999999".into(), None, vec![], StatusCode::BAD_REQUEST),
        (Some(&h), Method::GET, "/api/v1/tickets/424242".into(), None, vec![], StatusCode::NOT_FOUND),
        (Some(&h), Method::GET, "/api/v1/tickets?per_page=1000".into(), None, vec![], StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::GET, "/api/v1/tickets?page=0".into(), None, vec![], StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::GET, "/api/v1/tickets?status=bald".into(), None, vec![], StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::GET, "/api/v1/tickets?tenant=xyz".into(), None, vec![], StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::GET, "/api/v1/tickets?unassigned=vielleicht".into(), None, vec![], StatusCode::BAD_REQUEST),
        (Some(&h), Method::GET, "/api/v1/tickets?colour=red".into(), None, vec![], StatusCode::BAD_REQUEST),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct, b"{not json".to_vec(), StatusCode::BAD_REQUEST),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), Some("text/plain"), b"{}".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct, br#"{"tenant":"nw"}"#.to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct,
            json!({"tenant":"nw","subject":"x","body":"x","requester":"a@example.org","colour":"red"}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct,
            json!({"tenant":"nw","subject":"   ","body":"x","requester":"a@example.org"}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct,
            json!({"tenant":"nw","subject":"x","body":"x","requester":"kein mail"}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct,
            json!({"tenant":"nw","queue":"gibtsnicht","subject":"x","body":"x","requester":"a@example.org"}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct,
            json!({"tenant":"nw","subject":"x","body":"x","requester":"a@example.org","priority":"bald"}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct,
            json!({"tenant":"nw","subject":"x","body":"x","requester":"a@example.org","attachments":[{"filename":"a.txt","content_base64":"!!!"}]}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct,
            json!({"tenant":"nw","subject":"x","body":"x","requester":"a@example.org","attachments":[{"filename":"big.bin","content_base64":"QUFB".repeat(400)}]}).to_string().into_bytes(), StatusCode::PAYLOAD_TOO_LARGE),
        (Some(&h), Method::POST, "/api/v1/tickets".into(), json_ct, vec![b' '; 70 * 1024], StatusCode::PAYLOAD_TOO_LARGE),
        (Some(&h), Method::POST, format!("/api/v1/tickets/{n}/notes"), json_ct, json!({"body": ""}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::POST, format!("/api/v1/tickets/{n}/reopen"), json_ct, b"{}".to_vec(), StatusCode::CONFLICT),
        (Some(&h), Method::POST, format!("/api/v1/tickets/{n}/move"), json_ct, json!({"queue": "sonstiges"}).to_string().into_bytes(), StatusCode::CONFLICT),
        (Some(&h), Method::POST, format!("/api/v1/tickets/{n}/handover"), json_ct, json!({"tenant": "nw"}).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&h), Method::PATCH, format!("/api/v1/tickets/{n}"), json_ct, b"{}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (who, method, path, ct, body, want) in cases {
        let (got, problem, content_type) = raw(&t, who, method.clone(), &path, ct, body).await;
        assert_eq!(got, want, "{method} {path}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{method} {path}");
        assert_eq!(problem["status"].as_u64(), Some(u64::from(want.as_u16())), "{method} {path}: {problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.len() > 10, "{method} {path}: the detail should say what to do: {problem}");
    }
    // Nothing of that created a ticket.
    assert_eq!(t.list_numbers(&h, "?status=new,open,waiting,resolved").await, vec![n]);
}

both!(bad_requests_get_problem_details);
