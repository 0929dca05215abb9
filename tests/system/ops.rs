//! The ops pack's static checks, with the tools an operator runs: promtool, amtool and `.ci/check_ops.py`.

/// promtool (rules, unit tests, config), amtool (config, routes), the compose file against the Compose
/// Specification schema, and the dashboards' static checks: `.ci/check_ops.py`. Skipped without the tools unless
/// `TRADESPHERE_REQUIRE_OPS_TOOLS=1` (CI sets it).
#[test]
fn static_ops_checks_pass() {
    let root = env!("CARGO_MANIFEST_DIR");
    let have_tools = ["python3", "promtool", "amtool"].iter().all(|tool| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok()
    });
    if !have_tools {
        assert!(
            std::env::var("TRADESPHERE_REQUIRE_OPS_TOOLS").as_deref() != Ok("1"),
            "python3, promtool and amtool are required (TRADESPHERE_REQUIRE_OPS_TOOLS=1)"
        );
        eprintln!("SKIPPED: python3/promtool/amtool not available");
        return;
    }
    let output = std::process::Command::new("python3")
        .arg(format!("{root}/.ci/check_ops.py"))
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(report.contains("0 failed"), "{report}");
}
