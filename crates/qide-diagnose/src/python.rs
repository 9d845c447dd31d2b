//! Python tracebacks and the bare `File "x.py", line N` + `SyntaxError`
//! form: the diagnostic points at the innermost frame in the project and
//! carries the final `Type: message` line.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Category, sink::Draft};

static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r#"^\s*File "(.+?)", line (\d+)(?:, in (.*))?\s*$"#).expect("valid regex")
});
static EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^([A-Za-z_][A-Za-z0-9_.]*)(?::(?: (.*))?)?\s*$").expect("valid regex")
});

/// A traceback whose frames are still being read.
#[derive(Debug)]
pub(crate) struct Traceback {
    start: u64,
    end: u64,
    last_frame: Option<(String, u32)>,
    last_project_frame: Option<(String, u32)>,
    exception: Option<(String, Option<String>)>,
    /// Started at a lone `File` line (no `Traceback` header), so it only
    /// counts if an exception line follows.
    bare: bool,
}

/// Opens a traceback at `Traceback (most recent call last):`, or at a
/// `File "…", line N` line printed alone, as Python does for syntax errors.
pub(crate) fn start(n: u64, line: &str) -> Option<Traceback> {
    let t = crate::trim_indent(line);
    let mut traceback = Traceback {
        start: n,
        end: n,
        last_frame: None,
        last_project_frame: None,
        exception: None,
        bare: false,
    };
    if t.starts_with("Traceback (most recent call last)") {
        return Some(traceback);
    }
    if t.starts_with("File \"") && line.starts_with(' ') {
        traceback.bare = true;
        return traceback.frame(line).then_some(traceback);
    }
    None
}

/// Whether `file` is the project's own code rather than the standard
/// library, an installed package or an interpreter-internal pseudo file.
pub(crate) fn is_project_file(file: &str) -> bool {
    const FOREIGN: &[&str] = &[
        "site-packages",
        "dist-packages",
        "/lib/python",
        "\\lib\\",
        "/usr/lib/",
        "<frozen",
        "<string>",
        "<stdin>",
        "importlib",
    ];
    !FOREIGN.iter().any(|f| file.contains(f))
}

/// The file and line of a `File "x.py", line N` frame line.
pub(crate) fn frame_location(line: &str) -> Option<(String, u32)> {
    let caps = FRAME.captures(line)?;
    Some((caps[1].to_string(), caps[2].parse().ok()?))
}

impl Traceback {
    fn frame(&mut self, line: &str) -> bool {
        let Some(caps) = FRAME.captures(line) else {
            return false;
        };
        let Some(number) = caps[2].parse().ok() else {
            return false;
        };
        let frame = (caps[1].to_string(), number);
        if is_project_file(&frame.0) {
            self.last_project_frame = Some(frame.clone());
        }
        self.last_frame = Some(frame);
        true
    }

    /// Offers the next line; returns whether it belongs to the traceback.
    /// The exception line belongs to it and ends it ([`Traceback::done`]).
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if line.starts_with(' ') || line.starts_with('\t') {
            self.frame(line);
            self.end = n;
            return true;
        }
        if line.trim().is_empty() {
            return false;
        }
        let Some(caps) = EXCEPTION.captures(line.trim_end()) else {
            return false;
        };
        let kind = caps[1].to_string();
        // A traceback ends with an exception type, which is a capitalised
        // name; anything else means the traceback was cut off.
        let short = kind.rsplit('.').next().unwrap_or(&kind);
        if !short.starts_with(|c: char| c.is_ascii_uppercase()) {
            return false;
        }
        self.exception = Some((kind, caps.get(2).map(|m| m.as_str().trim().to_string())));
        self.end = n;
        true
    }

    /// Whether the exception line was read, which ends the traceback.
    pub(crate) fn done(&self) -> bool {
        self.exception.is_some()
    }

    /// The finished traceback as a diagnostic; `None` for a lone `File`
    /// line that no exception followed.
    pub(crate) fn close(self) -> Option<Draft> {
        if self.bare && self.exception.is_none() {
            return None;
        }
        let (kind, detail) = self
            .exception
            .unwrap_or_else(|| ("Traceback".to_string(), Some("(cut off)".to_string())));
        let message = match &detail {
            Some(d) if !d.is_empty() => format!("{kind}: {d}"),
            _ => kind.clone(),
        };
        let category = exception_category(&kind, detail.as_deref().unwrap_or(""));
        let mut draft = Draft::error("python", category, message, (self.start, self.end));
        if let Some((file, line)) = self.last_project_frame.or(self.last_frame) {
            draft.file = Some(file);
            draft.line = Some(line);
        }
        draft.code = Some(kind);
        Some(draft)
    }
}

/// The failure class an uncaught Python exception stands for.
pub(crate) fn exception_category(kind: &str, detail: &str) -> Category {
    let short = kind.rsplit('.').next().unwrap_or(kind);
    match short {
        "SyntaxError" | "IndentationError" | "TabError" => Category::SyntaxError,
        "ModuleNotFoundError" => Category::MissingDependency,
        "ImportError" if detail.contains("No module named") => Category::MissingDependency,
        "MemoryError" => Category::OutOfMemory,
        "TimeoutError" => Category::Timeout,
        "KeyboardInterrupt" => Category::Infrastructure,
        "gaierror"
        | "ConnectionError"
        | "ConnectionRefusedError"
        | "ConnectionResetError"
        | "NewConnectionError"
        | "MaxRetryError" => Category::Network,
        _ => Category::Crash,
    }
}
