//! The Python tools of others that tests run against, from PyPI at pinned
//! versions, in one virtual environment (installed when missing; `.ci/run`
//! installs them first): localstripe (a fake Stripe server, started on
//! 127.0.0.1 on a free port and stopped by its PID when dropped) and tuspy
//! (the tus client).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

pub const PACKAGES: [&str; 2] = ["localstripe==1.15.10", "tuspy==1.1.0"];

/// Serves localstripe's app on a socket bound to 127.0.0.1 (its own
/// command binds every interface), without its pickle file in /tmp, and
/// prints the port.
const LAUNCHER: &str = "
import socket
from aiohttp import web
from localstripe.server import app
from localstripe.resources import store
store.dump_to_disk = lambda: None
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(('127.0.0.1', 0))
print(sock.getsockname()[1], flush=True)
web.run_app(app, sock=sock, print=None)
";

fn venv() -> PathBuf {
    std::env::var_os("SHOP_TEST_LOCALSTRIPE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_TARGET_TMPDIR"), "/localstripe-venv")))
}

/// The venv's python, with the tools installed (installing them once).
pub fn python() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = venv();
    let python = dir.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import localstripe, tusclient"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv {}", dir.display());
        let pip = Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet"])
            .args(PACKAGES)
            .status()
            .unwrap();
        assert!(pip.success(), "pip install {PACKAGES:?}");
        assert!(ready(), "the tools do not import after installing them");
    }
    python
}

pub struct LocalStripe {
    pub base: String,
    child: Child,
}

impl LocalStripe {
    pub fn start() -> Self {
        let mut child = Command::new(python())
            .args(["-c", LAUNCHER])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("localstripe printed {line:?}"));
        Self {
            base: format!("http://127.0.0.1:{port}"),
            child,
        }
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        // Only the process this test started, by its PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
