//! Shared helpers: boot the real application on an ephemeral port with a
//! temporary data directory, and talk to it as a frontend would.

use actors::ports::AdvancedClock;
use nodes::config::Config;
use nodes::{Application, Core, Settings};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery";

/// The sandbox's webhook secrets in payment tests (the first signs).
pub const SECRET: &str = "whsec_test_current";
pub const PREVIOUS: &str = "whsec_test_previous";
/// Stripe's (localstripe's) API key and webhook secret in tests.
pub const STRIPE_KEY: &str = "sk_test_shop";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_test_stripe";

/// Puts the payment tests' secrets where the configurations name them.
pub fn test_secrets() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        // SAFETY: set once, before any application of this process reads
        // these variables; nothing else writes the environment.
        unsafe {
            std::env::set_var("SHOP_TEST_SANDBOX_SECRET", SECRET);
            std::env::set_var("SHOP_TEST_SANDBOX_PREVIOUS", PREVIOUS);
            std::env::set_var("SHOP_TEST_STRIPE_KEY", STRIPE_KEY);
            std::env::set_var("SHOP_TEST_STRIPE_WHSEC", STRIPE_WEBHOOK_SECRET);
        }
    });
}

/// Test configuration: the production defaults, with a cheap argon2 cost so
/// that hundreds of sign-ins stay fast (the rules do not change).
/// `http` goes into the `[http]` section, `extra` after it.
pub fn test_config_with(http: &str, extra: &str) -> String {
    format!(
        "[identity]\nargon2_memory_kib = 1024\nargon2_iterations = 1\nhash_queue = 1000\n[http]\n{http}\n{extra}\n[[nodes]]\nname = \"n1\"\nhttp_addr = \"127.0.0.1:0\"\n"
    )
}

/// Tests send hundreds of requests a second from one address: no rate limit.
pub fn test_config(extra: &str) -> String {
    test_config_with(
        "rate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 0",
        extra,
    )
}

fn new_clock() -> Arc<AdvancedClock> {
    Arc::new(AdvancedClock::default())
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub dir: TempDir,
    /// The order flows in-process: what the payments domain calls.
    pub orders: actors::orders::Orders,
    /// The application's clock: the system's time, which tests advance
    /// instead of sleeping. It survives restarts.
    pub clock: Arc<AdvancedClock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub struct Session {
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with("").await
    }

    /// With extra TOML for the `[identity]` section's neighbours.
    pub async fn spawn_with(extra: &str) -> Self {
        Self::spawn_with_config(&test_config(extra)).await
    }

    /// With a whole configuration file's text.
    pub async fn spawn_with_config(toml: &str) -> Self {
        Self::boot(tempfile::tempdir().unwrap(), toml, new_clock()).await
    }

    /// On the test configuration, with `dir` as the data directory.
    pub async fn spawn_in(dir: TempDir) -> Self {
        Self::boot(dir, &test_config(""), new_clock()).await
    }

    pub fn settings(dir: &Path, toml: &str, clock: &Arc<AdvancedClock>) -> Settings {
        let config = Config::parse(toml).unwrap();
        let mut settings = Settings::resolve(config, None, None, Some(dir.to_path_buf())).unwrap();
        settings.clock = clock.clone();
        settings
    }

    async fn boot(dir: TempDir, toml: &str, clock: Arc<AdvancedClock>) -> Self {
        let app = Application::build(Self::settings(dir.path(), toml, &clock))
            .await
            .unwrap();
        let base = format!("http://{}", app.http_addr());
        let orders = app.orders();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            base,
            client: Client::new(),
            dir,
            orders,
            clock,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Creates a user with roles directly in the data directory (what
    /// `node admin create-user` does), then boots the application on it.
    pub async fn spawn_with_admin() -> (Self, Session) {
        Self::spawn_with_admin_and("").await
    }

    /// [`TestApp::spawn_with_admin`] with `extra` TOML in the configuration.
    pub async fn spawn_with_admin_and(extra: &str) -> (Self, Session) {
        let dir = tempfile::tempdir().unwrap();
        let clock = new_clock();
        {
            let core = Core::start(&Self::settings(dir.path(), &test_config(extra), &clock))
                .await
                .unwrap();
            let account = actors::identity::NewAccount {
                username: "root",
                email: "root@example.com",
                password: PASSWORD,
                display_name: None,
            };
            core.domains
                .identity
                .register_with_roles(account, vec!["admin".into()])
                .await
                .unwrap();
            core.runtime.shutdown().await.unwrap();
        }
        let app = Self::boot(dir, &test_config(extra), clock).await;
        let admin = app.login("root", PASSWORD).await;
        (app, admin)
    }

    /// Stops gracefully and boots again on the same data.
    pub async fn restart(mut self) -> Self {
        self.shutdown().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let clock = self.clock.clone();
        // `orders` holds the old runtime (and its storage) until dropped.
        drop(self);
        Self::boot(dir, &test_config(""), clock).await
    }

    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, None, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// A GET without credentials; the response text.
    pub async fn fetch(&self, path: &str) -> String {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A GET without credentials: the status and the JSON body.
    pub async fn fetch_json_status(&self, path: &str) -> (StatusCode, Value) {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn fetch_json(&self, path: &str) -> Value {
        serde_json::from_str(&self.fetch(path).await).unwrap()
    }

    pub async fn register(&self, username: &str) -> Value {
        let res = self
            .post(
                "/api/v1/accounts",
                json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "registering {username}");
        res.json().await.unwrap()
    }

    pub async fn login(&self, login: &str, password: &str) -> Session {
        let res = self
            .post("/api/v1/auth/login", json!({"login": login, "password": password}))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "signing in {login}");
        let body: Value = res.json().await.unwrap();
        let access = body["access_token"].as_str().unwrap().to_string();
        let me: Value = self.get("/api/v1/me", &access).await.json().await.unwrap();
        Session {
            user_id: me["id"].as_str().unwrap().to_string(),
            access,
            refresh: body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// Registers and signs in.
    pub async fn user(&self, username: &str) -> Session {
        self.register(username).await;
        self.login(username, PASSWORD).await
    }

    /// A new user with the seller role, signed in again to carry it.
    pub async fn seller(&self, admin: &Session, name: &str) -> Session {
        let user = self.user(name).await;
        let path = format!("/api/v1/users/{}/roles", user.user_id);
        let res = self
            .call(
                Method::PUT,
                &path,
                Some(&admin.access),
                Some(json!({"roles": ["seller"]})),
            )
            .await;
        assert!(res.status().is_success());
        self.login(name, PASSWORD).await
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// The token in the newest mail to `to`, waiting up to 5 s for it.
    pub async fn mailed_token(&self, to: &str, subject: &str) -> String {
        for _ in 0..100 {
            if let Some(token) = find_token(&self.outbox(), to, subject) {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail '{subject}' to {to}");
    }
}

/// The texts of the mails in `outbox` to `to` about `subject`, oldest first.
fn mails(outbox: &Path, to: &str, subject: &str) -> Vec<String> {
    let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(outbox)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| {
            Some((
                e.metadata().ok()?.modified().ok()?,
                std::fs::read_to_string(e.path()).ok()?,
            ))
        })
        .filter(|(_, text)| text.contains(&format!("To: {to}")) && text.contains(subject))
        .collect();
    mails.sort_by_key(|(t, _)| *t);
    mails.into_iter().map(|(_, text)| text).collect()
}

/// The newest mail to `to` about `subject`.
pub fn mail_to(outbox: &Path, to: &str, subject: &str) -> Option<String> {
    mails(outbox, to, subject).pop()
}

/// How many mails went to `to` about `subject`.
pub fn mails_to(outbox: &Path, to: &str, subject: &str) -> usize {
    mails(outbox, to, subject).len()
}

/// Reads `.eml` files; the token is the line made of one `<id>.<secret>` word.
pub fn find_token(outbox: &Path, to: &str, subject: &str) -> Option<String> {
    mail_to(outbox, to, subject)?
        .lines()
        .map(str::trim)
        .find(|l| l.len() > 60 && l.contains('.') && !l.contains(' ') && !l.contains(':'))
        .map(String::from)
}

pub async fn error_code(res: Response) -> (StatusCode, String, Value) {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    (status, body["error"]["code"].as_str().unwrap_or("").to_string(), body)
}
