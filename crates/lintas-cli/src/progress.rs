//! Progress of long exports and imports: a bar on a terminal, plain lines
//! (at most one a second, and the last) otherwise, always on stderr so that
//! stdout stays for results.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One long task's progress.
pub(crate) struct Progress {
    label: String,
    unit: &'static str,
    /// `None` when the total is not known in advance.
    total: Option<u64>,
    done: u64,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
}

impl Progress {
    /// A task of `total` `unit`s (bytes, notices, items).
    pub(crate) fn new(label: &str, total: u64, unit: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let template = format!("{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}} left)");
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.to_owned());
            bar
        });
        Progress {
            label: label.to_owned(),
            unit,
            total: Some(total),
            done: 0,
            bar,
            last_line: None,
        }
    }

    /// A task whose size is not known in advance: a running count.
    pub(crate) fn counting(label: &str, unit: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let template = format!("{{spinner}} {{msg}} {{pos}} {unit} ({{elapsed}})");
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            bar.set_message(label.to_owned());
            bar
        });
        Progress {
            label: label.to_owned(),
            unit,
            total: None,
            done: 0,
            bar,
            last_line: None,
        }
    }

    /// `n` more done.
    pub(crate) fn advance(&mut self, n: u64) {
        self.done = self.done.saturating_add(n);
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None => {
                let due = self
                    .last_line
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
                if due {
                    self.line();
                }
            }
        }
    }

    fn line(&mut self) {
        match self.total {
            Some(total) => {
                let percent = self
                    .done
                    .saturating_mul(100)
                    .checked_div(total)
                    .unwrap_or(100);
                eprintln!(
                    "{}: {} of {total} {} ({percent}%)",
                    self.label, self.done, self.unit
                );
            }
            None => eprintln!("{}: {} {}", self.label, self.done, self.unit),
        }
        self.last_line = Some(Instant::now());
    }

    /// How many are done so far.
    pub(crate) fn done(&self) -> u64 {
        self.done
    }

    /// Done: the bar cleared, or the last plain line.
    pub(crate) fn finish(mut self) {
        match self.bar.take() {
            Some(bar) => bar.finish_and_clear(),
            None => self.line(),
        }
    }
}
