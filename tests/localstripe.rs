//! localstripe (a third-party fake Stripe server, from PyPI at a pinned
//! version) for the Stripe adapter's tests: installed into a virtual
//! environment when missing (`.ci/run` installs it first), started on
//! 127.0.0.1 on a free port, and stopped by its PID when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

pub const VERSION: &str = "localstripe==1.15.10";

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

/// The venv's python, with localstripe installed (installing it once).
fn python() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = venv();
    let python = dir.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import localstripe"])
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
            .args(["install", "--quiet", VERSION])
            .status()
            .unwrap();
        assert!(pip.success(), "pip install {VERSION}");
        assert!(ready(), "localstripe does not import after installing it");
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
