//! `report.html` in a real browser: headless Chromium renders a fresh report at 1280 px and
//! we check what a reader would see — every plot decoded, nothing wider than the window,
//! and a full-page screenshot that is not blank.
//!
//! Skipped (with a message on stderr) when Debian's `chromium` or `chromium-driver` is not
//! installed; `.ci/run` installs them when it can.
//!
//! Why a hand-written WebDriver client instead of `fantoccini` or `thirtyfour`: the test needs
//! seven commands (status, new session, set window rect, navigate, execute script, one
//! chromedriver DevTools call, delete session) as JSON over HTTP/1.1 to a chromedriver on
//! 127.0.0.1. Both crates are async clients over tokio and hyper. Measured on this project's
//! 2-core machine (clean debug build of a one-line probe, other builds running):
//! fantoccini 0.22 pulls 97 crates, 73 of them not already in our lockfile, 2 min 29 s
//! (86 / 64 without its default TLS feature); thirtyfour 0.38 pulls 140, 98 new, 4 min 23 s.
//! The client below is ~250 lines on std's `TcpStream` and the `serde_json` we already use,
//! adds no crate and compiles in seconds. The W3C protocol it speaks is small and stable, so
//! the crate would save little code and cost every clean CI run minutes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{TWO_PLACEMENTS, capsim, write};

/// The width the report must fit: a common laptop browser window.
const WIDTH: u64 = 1280;
const HEIGHT: u64 = 900;
/// Upper bound on any one WebDriver request (page loads of a ~1 MB report take well under a
/// second here; a hung browser must fail the test, not hang it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long chromedriver may take to answer `/status` after it is spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The first of `names` found as an executable file on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// chromedriver and the browser binary, or why the test cannot run. `CAPSIM_CHROMEDRIVER` and
/// `CAPSIM_CHROMIUM` override the search.
fn browser_tools() -> Result<(PathBuf, PathBuf), String> {
    let find = |var: &str, names: &[&str]| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .or_else(|| on_path(names))
    };
    let driver = find("CAPSIM_CHROMEDRIVER", &["chromedriver"])
        .ok_or("chromedriver not found on PATH (Debian package chromium-driver)")?;
    let browser = find("CAPSIM_CHROMIUM", &["chromium", "chromium-browser"])
        .ok_or("chromium not found on PATH (Debian package chromium)")?;
    Ok((driver, browser))
}

/// One HTTP/1.1 exchange with chromedriver; returns the JSON body's `value`. WebDriver errors
/// (any status >= 400) come back as `Err` with the driver's error name and message.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    let payload = body.map(Value::to_string).unwrap_or_default();
    // chromedriver answers `Connection: close` but leaves the socket open, so the body is
    // read by its Content-Length (or chunk by chunk), never to EOF.
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(payload.as_bytes()))
        .map_err(|e| format!("{method} {path}: write: {e}"))?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let mut read_more = |raw: &mut Vec<u8>| -> Result<bool, String> {
        let n = stream
            .read(&mut chunk)
            .map_err(|e| format!("{method} {path}: read: {e}"))?;
        raw.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    };
    let split = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if !read_more(&mut raw)? {
            return Err(format!(
                "{method} {path}: connection closed inside the headers"
            ));
        }
    };
    let headers = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status: u16 = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: bad status line"))?;
    // Header names are case-insensitive and chromedriver writes no space after the colon.
    let header = |name: &str| {
        headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    };
    let body_start = split + 4;
    let content = if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok())
    {
        while raw.len() < body_start + len {
            if !read_more(&mut raw)? {
                return Err(format!("{method} {path}: body shorter than Content-Length"));
            }
        }
        raw[body_start..body_start + len].to_vec()
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            if let Some(body) = dechunk(&raw[body_start..]) {
                break body;
            }
            if !read_more(&mut raw)? {
                return Err(format!("{method} {path}: connection closed inside a chunk"));
            }
        }
    } else {
        while read_more(&mut raw)? {}
        raw[body_start..].to_vec()
    };
    let json: Value = serde_json::from_slice(&content)
        .map_err(|e| format!("{method} {path}: status {status}, body is not JSON: {e}"))?;
    let value = json.get("value").cloned().unwrap_or(Value::Null);
    if status >= 400 {
        return Err(format!(
            "{method} {path}: {status} {}: {}",
            value["error"].as_str().unwrap_or("?"),
            value["message"].as_str().unwrap_or("")
        ));
    }
    Ok(value)
}

/// Decodes an HTTP/1.1 chunked body, or `None` while it is incomplete (chromedriver sends
/// Content-Length today; this keeps the client correct if that changes).
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// A chromedriver on a free loopback port. Dropping it ends the driver and every browser it
/// started (they share its process group), so a failing test leaves nothing running.
struct ChromeDriver {
    child: Child,
    addr: SocketAddr,
}

impl ChromeDriver {
    fn start(exe: &Path, log: &Path) -> Result<ChromeDriver, String> {
        let mut last_error = String::new();
        // The port is free when we ask but could be taken before chromedriver binds it:
        // retry with a new one rather than fail.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free loopback port: {e}"))?
                .port();
            let mut cmd = Command::new(exe);
            cmd.arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let child = cmd
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
            let mut driver = ChromeDriver {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
            };
            let deadline = Instant::now() + STARTUP_TIMEOUT;
            while Instant::now() < deadline {
                if let Ok(Some(status)) = driver.child.try_wait() {
                    last_error = format!("chromedriver exited with {status}");
                    break;
                }
                match http(driver.addr, "GET", "/status", None) {
                    Ok(v) if v["ready"] == true => return Ok(driver),
                    Ok(_) => {}
                    Err(e) => last_error = e,
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(driver);
        }
        let tail = std::fs::read_to_string(log).unwrap_or_default();
        let tail: String = tail.lines().rev().take(20).collect::<Vec<_>>().join("\n");
        Err(format!(
            "chromedriver did not become ready: {last_error}\nlog tail:\n{tail}"
        ))
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver, and the browser it launched if the session could
        // not be deleted cleanly.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session; dropping it quits the browser.
struct Session<'a> {
    driver: &'a ChromeDriver,
    id: String,
}

impl<'a> Session<'a> {
    fn new(driver: &'a ChromeDriver, browser: &Path, profile: &Path) -> Result<Self, String> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 30_000},
            "goog:chromeOptions": {
                "binary": browser.to_string_lossy(),
                "args": [
                    "--headless=new",
                    // The page is our own file:// report and the network is closed: the
                    // sandbox protects nothing here and cannot start as root in a container.
                    "--no-sandbox",
                    "--disable-gpu",
                    // /dev/shm is tiny in many containers; Chromium then crashes on big pages.
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let value = http(driver.addr, "POST", "/session", Some(&caps))?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| format!("new session: no sessionId in {value}"))?
            .to_string();
        Ok(Session { driver, id })
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.id);
        http(self.driver.addr, method, &path, body.as_ref())
    }

    fn script(&self, js: &str) -> Result<Value, String> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
    }

    /// A Chrome DevTools command through chromedriver's vendor endpoint.
    fn cdp(&self, cmd: &str, params: Value) -> Result<Value, String> {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = http(
            self.driver.addr,
            "DELETE",
            &format!("/session/{}", self.id),
            None,
        );
    }
}

/// `file://` URL of an absolute path, percent-encoding what a URL path may not hold.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Standard base64 (the screenshot's encoding) without a crate for one call.
fn base64_decode(text: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {:?}", c as char),
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for group in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in group.iter().enumerate() {
            acc |= u32::from(digit(c)) << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..group.len()]);
    }
    out
}

/// Width, height, distinct RGB colours and the fraction of pixels that are not near-white.
fn png_stats(bytes: &[u8]) -> (u32, u32, usize, f64) {
    let mut dec = png::Decoder::new(bytes);
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("screenshot decodes");
    let px = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    let mut total = 0usize;
    for p in buf[..info.buffer_size()].chunks(px) {
        let rgb = (p[0], p[1.min(px - 1)], p[2.min(px - 1)]);
        colours.insert(rgb);
        total += 1;
        if rgb.0 < 235 || rgb.1 < 235 || rgb.2 < 235 {
            inked += 1;
        }
    }
    (
        info.width,
        info.height,
        colours.len(),
        inked as f64 / total as f64,
    )
}

#[test]
fn report_renders_in_headless_chromium() {
    let (driver_exe, browser) = match browser_tools() {
        Ok(tools) => tools,
        Err(why) => {
            eprintln!("SKIPPED report_renders_in_headless_chromium: {why}");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "small.toml", TWO_PLACEMENTS);
    let out = tmp.path().join("report");
    capsim()
        .args(["run", "-q", "--out"])
        .arg(&out)
        .arg(&scen)
        .assert()
        .success();
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    let img_tags = html.matches("<img ").count();
    assert!(img_tags > 0, "the report has no <img> at all");

    let driver = ChromeDriver::start(&driver_exe, &tmp.path().join("chromedriver.log"))
        .unwrap_or_else(|e| panic!("{e}"));
    let session = Session::new(&driver, &browser, &tmp.path().join("profile"))
        .unwrap_or_else(|e| panic!("{e}"));
    session
        .cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": WIDTH, "height": HEIGHT})),
        )
        .unwrap();
    session
        .cmd("POST", "/url", Some(json!({"url": file_url(&report)})))
        .unwrap();

    // 1. Every image decoded. Data-URI images decode asynchronously after `load`, so poll.
    let deadline = Instant::now() + Duration::from_secs(15);
    let images = loop {
        let v = session
            .script(
                "return {ready: document.readyState, images: Array.from(document.images).map(\
                 i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))}",
            )
            .unwrap();
        let all_done = v["ready"] == "complete"
            && v["images"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["complete"] == true);
        if all_done || Instant::now() > deadline {
            break v["images"].as_array().unwrap().clone();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        images.len(),
        img_tags,
        "the browser sees a different number of images than report.html has"
    );
    let broken: Vec<String> = images
        .iter()
        .filter(|i| i["w"].as_u64().unwrap_or(0) == 0 || i["h"].as_u64().unwrap_or(0) == 0)
        .map(|i| i["alt"].as_str().unwrap_or("?").to_string())
        .collect();
    assert!(broken.is_empty(), "images that did not decode: {broken:?}");

    // 2. No horizontal overflow at 1280 px; on failure, name the widest offenders.
    let layout = session
        .script(
            "const vw = document.documentElement.clientWidth;\
             const wide = Array.from(document.querySelectorAll('body *'))\
               .filter(e => e.getBoundingClientRect().right > vw + 0.5)\
               .slice(0, 8)\
               .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') +\
                    ' right=' + Math.round(e.getBoundingClientRect().right));\
             return {inner: window.innerWidth, client: vw,\
                     scroll: document.documentElement.scrollWidth, wide: wide};",
        )
        .unwrap();
    assert_eq!(layout["inner"], WIDTH, "the window is not {WIDTH} px wide");
    let scroll_width = layout["scroll"].as_u64().unwrap();
    assert!(
        scroll_width <= WIDTH,
        "report.html overflows horizontally at {WIDTH} px: scrollWidth {scroll_width}; \
         elements past the right edge: {}",
        layout["wide"]
    );

    // 3. A full-page screenshot that is not blank. W3C "Take Screenshot" captures only the
    // viewport; DevTools can capture beyond it when given the page's full size.
    let metrics = session.cdp("Page.getLayoutMetrics", json!({})).unwrap();
    let page_h = metrics["cssContentSize"]["height"].as_f64().unwrap().ceil();
    let shot = session
        .cdp(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": WIDTH, "height": page_h, "scale": 1}}),
        )
        .unwrap();
    let png_bytes = base64_decode(shot["data"].as_str().unwrap());
    if let Some(dir) = std::env::var_os("CAPSIM_SCREENSHOT_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("report-1280-full.png"), &png_bytes).unwrap();
    }
    let (w, h, colours, inked) = png_stats(&png_bytes);
    assert_eq!(u64::from(w), WIDTH, "screenshot width");
    assert_eq!(
        f64::from(h),
        page_h,
        "the screenshot is not the full page height"
    );
    // Plots, tables and text give hundreds of colours and several percent of inked pixels;
    // a blank or failed render is one or two colours and almost all white.
    assert!(
        colours >= 64,
        "screenshot has only {colours} distinct colours"
    );
    assert!(
        inked >= 0.03,
        "screenshot is {:.1}% non-white: blank?",
        inked * 100.0
    );

    drop(session);
    drop(driver);
}
