//! The conformance report: one line per check with the protocol section it
//! tests, pass or fail and why, then a summary; JSON objects with `--json`.

use crate::Error;

/// The checks run so far.
pub(crate) struct Report {
    json: bool,
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Report {
    pub(crate) fn new(json: bool) -> Self {
        Report {
            json,
            passed: 0,
            failed: 0,
            skipped: 0,
        }
    }

    /// Records and prints one check: `Ok(detail)` passed, `Err(why)` failed.
    pub(crate) fn check(&mut self, section: &str, check: &str, outcome: Result<String, String>) {
        let (mark, detail) = match outcome {
            Ok(detail) => {
                self.passed += 1;
                ("PASS", detail)
            }
            Err(why) => {
                self.failed += 1;
                ("FAIL", why)
            }
        };
        let passed = serde_json::json!({ "passed": mark == "PASS" });
        self.print(mark, passed, section, check, &detail);
    }

    /// Records and prints a check that could not be made against this
    /// target and roster, and why (neither a pass nor a failure).
    pub(crate) fn skip(&mut self, section: &str, check: &str, why: &str) {
        self.skipped += 1;
        self.print(
            "SKIP",
            serde_json::json!({ "skipped": true }),
            section,
            check,
            why,
        );
    }

    /// One line: `MARK  §SECTION CHECK: DETAIL`, or a JSON object with
    /// `verdict`'s field.
    fn print(
        &self,
        mark: &str,
        verdict: serde_json::Value,
        section: &str,
        check: &str,
        detail: &str,
    ) {
        if self.json {
            let mut line = serde_json::json!({
                "section": section,
                "check": check,
                "detail": detail,
            });
            if let (Some(line), serde_json::Value::Object(verdict)) =
                (line.as_object_mut(), verdict)
            {
                line.extend(verdict);
            }
            println!("{line}");
        } else {
            println!("{mark}  §{section:<7} {check}: {detail}");
        }
    }

    /// Prints the summary; an error when a check failed.
    pub(crate) fn finish(self) -> Result<(), Error> {
        let total = self.passed + self.failed + self.skipped;
        if self.json {
            println!(
                "{}",
                serde_json::json!({
                    "summary": {
                        "checks": total,
                        "passed": self.passed,
                        "failed": self.failed,
                        "skipped": self.skipped,
                    }
                })
            );
        } else {
            println!(
                "{total} checks: {} passed, {} failed; {} skipped",
                self.passed, self.failed, self.skipped
            );
        }
        if self.failed == 0 {
            Ok(())
        } else {
            Err(format!("{} of {total} conformance checks failed", self.failed).into())
        }
    }
}
