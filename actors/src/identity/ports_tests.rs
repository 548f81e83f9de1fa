use super::*;

#[test]
fn plaintext_passwords_never_show_in_debug_output() {
    let shown = format!("{:?}", Plaintext::new("hunter2 hunter2"));
    assert!(!shown.contains("hunter2"));
}

#[test]
fn user_tokens_name_their_user_and_store_only_a_hash() {
    let (token, hash) = user_token("01USER");
    let (user, presented) = parse_user_token(&token).unwrap();
    assert_eq!((user.as_str(), presented), ("01USER", hash));
    assert!(!token.contains(&URL_SAFE_NO_PAD.encode(hash)));
    assert!(parse_user_token("01USER.short").is_none());
    assert!(parse_user_token("no-dot").is_none());
}

#[tokio::test]
async fn hashes_are_argon2id_and_verify_only_the_right_password() {
    let hasher = PasswordHasher::new(HashCost {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let hash = hasher.hash("correct horse battery").await.unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(hasher.verify("correct horse battery", &hash).await.unwrap());
    assert!(!hasher.verify("wrong horse battery", &hash).await.unwrap());
    assert!(!hasher.verify("anything", "not a hash").await.unwrap());
    assert_ne!(hash, hasher.hash("correct horse battery").await.unwrap(), "salted");
}

#[tokio::test]
async fn the_file_outbox_writes_complete_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path().join("outbox"), "shop@example.com".into()).unwrap();
    let mail = Mail {
        to: "a@example.com".into(),
        subject: "Hi".into(),
        body: "line one\nline two\n".into(),
    };
    outbox.send(mail).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    let text = std::fs::read_to_string(&files[0]).unwrap();
    for needle in ["From: shop@example.com", "To: a@example.com", "Subject: Hi", "line two"] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

/// Speaks just enough SMTP on loopback to receive one message.
async fn one_message_smtp_server(listener: tokio::net::TcpListener) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (socket, _) = listener.accept().await.unwrap();
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 test ESMTP\r\n").await.unwrap();
    let mut message = String::new();
    let mut in_data = false;
    while let Some(line) = lines.next_line().await.unwrap() {
        if in_data {
            if line == "." {
                in_data = false;
                write.write_all(b"250 queued\r\n").await.unwrap();
            } else {
                message.push_str(&line);
                message.push('\n');
            }
            continue;
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 test\r\n",
            "DATA" => {
                in_data = true;
                b"354 go ahead\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            }
            _ => b"250 ok\r\n",
        };
        write.write_all(reply).await.unwrap();
    }
    message
}

#[tokio::test]
async fn the_smtp_mailer_delivers_to_the_configured_relay() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(one_message_smtp_server(listener));
    let mailer = SmtpMailer::new("127.0.0.1", port, None, "shop@example.com".into());
    let mail = Mail {
        to: "b@example.com".into(),
        subject: "Token".into(),
        body: "the token\n".into(),
    };
    mailer.send(mail).await.unwrap();
    drop(mailer);
    let received = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    assert!(
        received.contains("To: b@example.com") && received.contains("the token"),
        "{received}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hashing_queue_sheds_at_once_instead_of_waiting() {
    let cost = HashCost {
        memory_kib: 8 * 1024,
        iterations: 2,
        parallelism: 1,
    };
    let hasher = PasswordHasher::with_queue(cost, 2).unwrap();
    let attempts = (0..24).map(|_| {
        let hasher = hasher.clone();
        async move { hasher.hash("correct horse battery").await }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let shed: Vec<&Error> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(!shed.is_empty(), "a queue of two cannot take 24 at once");
    assert!(shed.iter().all(|e| e.code() == "busy"
        && matches!(
            e,
            Error::Unavailable {
                retry_after_secs: 1,
                ..
            }
        )));
    assert!(outcomes.iter().any(|o| o.is_ok()), "those in the queue are served");
    assert!(
        hasher.hash("correct horse battery").await.is_ok(),
        "and the queue frees up"
    );
}
