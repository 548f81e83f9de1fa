//! Accounts, sign-in, tokens and the profile, over HTTP.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn registration_returns_the_account_and_refuses_bad_or_taken_fields() {
    let app = TestApp::spawn().await;
    let body = app.register("Alice").await;
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "Alice@example.com");
    assert_eq!(body["email_verified"], false);
    assert_eq!(body["roles"], json!(["customer"]));
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());

    let taken = app
        .post(
            "/api/v1/accounts",
            json!({"username": "ALICE", "email": "other@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(error_code(taken).await.1, "username_taken");
    let taken = app
        .post(
            "/api/v1/accounts",
            json!({"username": "alice2", "email": "alice@EXAMPLE.com", "password": PASSWORD}),
        )
        .await;
    let (status, code, _) = error_code(taken).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "email_taken"));

    let bad = app
        .post(
            "/api/v1/accounts",
            json!({"username": "x!", "email": "nope", "password": "password12345", "display_name": ""}),
        )
        .await;
    let (status, code, body) = error_code(bad).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    for field in ["username", "email", "password", "display_name"] {
        assert!(body["error"]["fields"][field].is_string(), "{field}: {body}");
    }
    let containing = app
        .post(
            "/api/v1/accounts",
            json!({"username": "bobby", "email": "b@example.com", "password": "I am bobby the great"}),
        )
        .await;
    let (_, _, body) = error_code(containing).await;
    assert!(
        body["error"]["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("username")
    );
}

#[tokio::test]
async fn malformed_bodies_get_clear_errors_and_change_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await.0, StatusCode::BAD_REQUEST);
    let missing = app.post("/api/v1/accounts", json!({"username": "carl"})).await;
    assert_eq!(error_code(missing).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .post(
            "/api/v1/accounts",
            json!({"username": "carl", "email": "c@example.com", "password": PASSWORD, "admin": true}),
        )
        .await;
    assert_eq!(error_code(unknown).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let huge = "x".repeat(2 * 1024 * 1024);
    let too_big = app
        .post(
            "/api/v1/accounts",
            json!({"username": "carl", "email": "c@example.com", "password": huge}),
        )
        .await;
    let (status, code, _) = error_code(too_big).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    // None of these created carl.
    app.register("carl").await;
}

#[tokio::test]
async fn the_mailed_token_verifies_the_email_once() {
    let app = TestApp::spawn().await;
    let account = app.register("dora").await;
    let token = app.mailed_token("dora@example.com", "Confirm your e-mail").await;
    assert!(token.starts_with(account["id"].as_str().unwrap()));
    let res = app.post("/api/v1/accounts/verify-email", json!({"token": token})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let session = app.login("dora", PASSWORD).await;
    let me: Value = app.get("/api/v1/me", &session.access).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true);
    for bad in [token.as_str(), "garbage", "01ABC.short"] {
        let (status, code, _) =
            error_code(app.post("/api/v1/accounts/verify-email", json!({"token": bad})).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_token"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn sign_in_issues_tokens_that_open_the_profile() {
    let app = TestApp::spawn().await;
    app.register("erin").await;
    let res = app
        .post(
            "/api/v1/auth/login",
            json!({"login": "erin@EXAMPLE.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = app.get("/api/v1/me", access).await.json().await.unwrap();
    assert_eq!(me["username"], "erin");
    assert_eq!(me["permissions"], json!(["cart:use", "order:create", "return:create"]));
    assert_eq!(me["quotas"]["max_addresses"], 10);
    for key in [
        "display_name",
        "phones",
        "addresses",
        "created_at",
        "roles",
        "email_verified",
    ] {
        assert!(me.get(key).is_some(), "{key}");
    }

    let no_token = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert!(no_token.headers().contains_key("www-authenticate"));
    assert_eq!(error_code(no_token).await.1, "missing_token");
    let forged = format!("{}x", &access[..access.len() - 1]);
    let (status, code, _) = error_code(app.get("/api/v1/me", &forged).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_token"));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_look_the_same_and_guessing_slows_only_the_guesser() {
    let app = TestApp::spawn().await;
    app.register("fred").await;
    let wrong = app
        .post(
            "/api/v1/auth/login",
            json!({"login": "fred", "password": "not his password"}),
        )
        .await;
    assert!(wrong.headers().contains_key("www-authenticate"));
    let (s1, _, wrong) = error_code(wrong).await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            json!({"login": "nobody", "password": "not his password"}),
        )
        .await;
    let (s2, _, unknown) = error_code(unknown).await;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
    for login in ["fred", "nobody"] {
        for _ in 0..3 {
            app.post(
                "/api/v1/auth/login",
                json!({"login": login, "password": "still wrong!!"}),
            )
            .await;
        }
        let slowed = app
            .post("/api/v1/auth/login", json!({"login": login, "password": PASSWORD}))
            .await;
        assert_eq!(
            slowed.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{login}: the same for unknown accounts"
        );
        let retry: u64 = slowed.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry));
    }
    // The owner, from another address, is not locked out by the guesser.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    let res = elsewhere
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": "fred", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let access = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Wrong current passwords on the password change count too.
    let change = |current: &str| {
        let body = json!({"current_password": current, "new_password": "a brand new passphrase"});
        app.call(reqwest::Method::POST, "/api/v1/me/password", Some(&access), Some(body))
    };
    for _ in 0..4 {
        assert_eq!(
            change("guess guess guess").await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(change(PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn refresh_tokens_rotate_reuse_revokes_and_logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let s = app.user("gina").await;
    let res = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let next: Value = res.json().await.unwrap();
    let next_refresh = next["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(next_refresh, s.refresh);
    assert_eq!(
        app.get("/api/v1/me", next["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let (status, code, _) = error_code(
        app.post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
            .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
    let revoked = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": next_refresh}))
        .await;
    assert_eq!(
        revoked.status(),
        StatusCode::UNAUTHORIZED,
        "reuse revoked the whole family"
    );

    let other = app.login("gina", PASSWORD).await;
    let out = app
        .post("/api/v1/auth/logout", json!({"refresh_token": other.refresh}))
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": other.refresh}))
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_reset_answers_the_same_for_everyone_and_the_token_works_once() {
    let app = TestApp::spawn().await;
    let before = app.user("hugo").await;
    for email in ["hugo@example.com", "nobody@example.com", "not an email"] {
        let res = app.post("/api/v1/auth/password-reset", json!({"email": email})).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{email}");
    }
    let token = app.mailed_token("hugo@example.com", "Reset your password").await;
    // Asking again at once answers the same and mails nothing more.
    for _ in 0..3 {
        let res = app
            .post("/api/v1/auth/password-reset", json!({"email": "hugo@example.com"}))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let resets = std::fs::read_dir(app.outbox())
        .unwrap()
        .filter(|e| {
            let text = std::fs::read_to_string(e.as_ref().unwrap().path()).unwrap_or_default();
            text.contains("Reset your password")
        })
        .count();
    assert_eq!(resets, 1, "reset mails are throttled per account");
    let weak = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": "a much better secret"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let again = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": "yet another secret"}),
        )
        .await;
    assert_eq!(error_code(again).await.1, "invalid_token");
    app.login("hugo", "a much better secret").await;
    let old = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": before.refresh}))
        .await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "a reset signs every session out"
    );
}

#[tokio::test]
async fn the_profile_can_be_edited_within_its_quotas() {
    let app = TestApp::spawn().await;
    let s = app.user("iris").await;
    let address = json!({"line1": "1 Main St", "city": "Taipei", "postal_code": "100", "country": "tw"});
    let res = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"display_name": "Iris", "phones": ["+886912345678"], "addresses": [address]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["display_name"], "Iris");
    assert_eq!(me["phones"], json!(["+886912345678"]));
    assert_eq!(me["addresses"][0]["country"], "TW");
    assert_eq!(me["addresses"][0]["line2"], Value::Null);

    let bad = app
        .call(Method::PATCH, "/api/v1/me", Some(&s.access), Some(json!({"phones": ["0912"], "addresses": [{"line1": "x", "city": "y", "postal_code": "1", "country": "XX"}]})))
        .await;
    let (status, _, body) = error_code(bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["phones[0]"].is_string());
    assert!(body["error"]["fields"]["addresses[0].country"].is_string());
    let many: Vec<Value> = (0..11).map(|_| address.clone()).collect();
    let over = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"addresses": many})),
        )
        .await;
    let (_, _, body) = error_code(over).await;
    assert!(
        body["error"]["fields"]["addresses"]
            .as_str()
            .unwrap()
            .contains("max_addresses")
    );

    // Rejected edits changed nothing; null clears the display name.
    let res = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"display_name": null})),
        )
        .await;
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["display_name"], Value::Null);
    assert_eq!(me["phones"], json!(["+886912345678"]));
    assert_eq!(me["addresses"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let here = app.user("jack").await;
    let elsewhere = app.login("jack", PASSWORD).await;
    let wrong = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&here.access),
            Some(json!({"current_password": "nope nope nope", "new_password": "a fresh long secret"})),
        )
        .await;
    let (_, _, body) = error_code(wrong).await;
    assert!(body["error"]["fields"]["current_password"].is_string());
    let res = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&here.access),
            Some(json!({"current_password": PASSWORD, "new_password": "a fresh long secret"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let kept = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": here.refresh}))
        .await;
    assert_eq!(kept.status(), StatusCode::OK);
    let ended = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": elsewhere.refresh}))
        .await;
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);
    app.login("jack", "a fresh long secret").await;
}

#[tokio::test]
async fn accounts_survive_a_restart() {
    let app = TestApp::spawn().await;
    let s = app.user("kate").await;
    app.call(
        Method::PATCH,
        "/api/v1/me",
        Some(&s.access),
        Some(json!({"display_name": "Kate"})),
    )
    .await;
    let app = app.restart().await;
    let me: Value = app.get("/api/v1/me", &s.access).await.json().await.unwrap();
    assert_eq!(
        me["display_name"], "Kate",
        "the old token is still valid: the key ring persisted"
    );
    app.login("kate", PASSWORD).await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_username_over_http_have_one_winner() {
    let app = TestApp::spawn().await;
    let attempts = (0..30).map(|i| {
        app.post(
            "/api/v1/accounts",
            json!({"username": "popular", "email": format!("p{i}@example.com"), "password": PASSWORD}),
        )
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 29);
}

#[tokio::test]
async fn passivating_every_few_milliseconds_loses_no_profile_edit() {
    let app = TestApp::spawn_with("[runtime]\npassivate_after_secs = 0\n").await;
    let s = app.user("lena").await;
    for i in 0..25 {
        let name = format!("Lena {i}");
        let res = app
            .call(
                Method::PATCH,
                "/api/v1/me",
                Some(&s.access),
                Some(json!({"display_name": name})),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        // Long enough for the sweep to passivate the user between requests.
        tokio::time::sleep(std::time::Duration::from_millis(if i % 2 == 0 { 40 } else { 0 })).await;
        let me: Value = app.get("/api/v1/me", &s.access).await.json().await.unwrap();
        assert_eq!(me["display_name"], name.as_str());
    }
    let metrics = app.fetch("/metrics").await;
    let passivations: f64 = metrics
        .lines()
        .find(|l| l.starts_with("shop_entity_passivations_total"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        passivations >= 10.0,
        "entities did passivate during the test: {passivations}"
    );
}

#[tokio::test]
async fn the_data_directory_and_the_outbox_are_private_to_the_shop() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    // An operator's data directory that others could read.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let app = TestApp::spawn_in(dir).await;
    app.register("priv").await;
    assert_eq!(mode(app.dir.path()), 0o700, "signing keys and records");
    assert_eq!(mode(&app.outbox()), 0o700, "reset and verification tokens");
    let mails: Vec<_> = std::fs::read_dir(app.outbox())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!mails.is_empty());
    for mail in mails {
        assert_eq!(mode(&mail), 0o600, "{}", mail.display());
    }
}

#[tokio::test]
async fn a_forgotten_username_is_mailed_to_its_address_and_nobody_learns_whether_it_exists() {
    let app = TestApp::spawn().await;
    app.user("hilde").await;
    for email in ["hilde@example.com", "nobody@example.com", "not an address"] {
        let res = app
            .post("/api/v1/auth/username-recovery", json!({"email": email}))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{email}");
    }
    let mut mail = None;
    for _ in 0..100 {
        mail = mail_to(&app.outbox(), "hilde@example.com", "Your username");
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mail = mail.expect("the username was mailed");
    assert!(mail.contains("It is: hilde"), "{mail}");
    assert!(mail_to(&app.outbox(), "nobody@example.com", "Your username").is_none());
    // Asked again at once: no second mail.
    let res = app
        .post("/api/v1/auth/username-recovery", json!({"email": "hilde@example.com"}))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mails_to(&app.outbox(), "hilde@example.com", "Your username"), 1);
}
