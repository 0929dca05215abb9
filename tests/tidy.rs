//! Tidy: the Architecture Invariants of ARCHITECTURE.md, checked on the source text. Fast, and std-only
//! apart from `regex`. Each failure names the file and line it objects to. A small lexer tells comments
//! and string literals from code, and `#[cfg(test)]` items are masked where a rule is about production code.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

/// Import edges `(from, to)` between the children of one directory, each with its first `file:line`.
type Edges = BTreeMap<(String, String), String>;

/// Comments, strings (raw ones with up to two `#`) and char literals; everything else is code.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r###"(?s)//[^\n]*|/\*.*?\*/|b?r"[^"]*"|b?r#".*?"#|b?r##".*?"##|b?"(?:[^"\\]|\\.)*"|b?'(?:[^'\\\n]|\\[^\n]+?)'"###).unwrap()
});

/// One line of a source file: its code (string literals blanked), comment text and string literals.
#[derive(Default)]
struct Line {
    code: String,
    comment: String,
    strings: Vec<String>,
    test: bool,
}

struct Source {
    rel: String,
    lines: Vec<Line>,
}

impl Source {
    fn parse(rel: &str, text: &str) -> Source {
        let mut lines = lex(text.strip_suffix('\n').unwrap_or(text));
        for (start, end, _) in test_items(&code_of(&lines, true)) {
            lines[start..=end].iter_mut().for_each(|l| l.test = true);
        }
        let rel = rel.to_string();
        Source { rel, lines }
    }

    /// Numbered lines, those of `#[cfg(test)]` items only if `tests`.
    fn numbered(&self, tests: bool) -> impl Iterator<Item = (&Line, usize)> {
        let lines = self.lines.iter().zip(1..);
        lines.filter(move |(l, _)| tests || !l.test)
    }
}

/// The code of `lines`, one line each; lines of `#[cfg(test)]` items blank unless `with_tests`.
fn code_of(lines: &[Line], with_tests: bool) -> String {
    let mut code = Vec::new();
    for l in lines {
        code.push(if l.test && !with_tests { "" } else { &l.code });
    }
    code.join("\n")
}

/// Splits Rust source into lines. A comment's or string literal's text belongs to the line it starts
/// on; a char literal such as `'"'` becomes `' '` in the code, and a lifetime stays code.
fn lex(text: &str) -> Vec<Line> {
    let (mut code, mut found, mut last) = (String::new(), Vec::new(), 0);
    for m in TOKEN.find_iter(text) {
        let (t, comment) = (m.as_str(), m.as_str().starts_with('/'));
        code += &text[last..m.start()];
        last = m.end();
        if t.ends_with('\'') && !comment {
            code += "' '";
            continue;
        }
        let inner = if comment {
            t
        } else {
            &t[t.find('"').unwrap() + 1..t.rfind('"').unwrap()]
        };
        found.push((code.matches('\n').count(), comment, inner.to_string()));
        code += if comment { "" } else { "\"\"" };
        code += &"\n".repeat(t.matches('\n').count());
    }
    code += &text[last..];
    let mut lines: Vec<Line> = code.split('\n').map(|_| Line::default()).collect();
    for (line, code) in lines.iter_mut().zip(code.split('\n')) {
        line.code = code.to_string();
    }
    for (n, comment, text) in found {
        if comment {
            lines[n].comment += &text;
        } else {
            lines[n].strings.push(text);
        }
    }
    lines
}

/// Each `#[cfg(test)]` item as (first line, last line, is a module), lines counted from 0.
fn test_items(code: &str) -> Vec<(usize, usize, bool)> {
    let attr = Regex::new(r"#\[cfg\((all\()?test\b[^\]]*\]").unwrap();
    let module = Regex::new(r"^\s*(#\[[^\]]*\]\s*)*(pub(\([^)]*\))?\s+)?mod\s").unwrap();
    let (b, line) = (code.as_bytes(), |pos: usize| {
        code[..pos].matches('\n').count()
    });
    let mut out = Vec::new();
    for m in attr.find_iter(code) {
        // The item ends with its block, or at a `;`, `,` or `}` outside brackets and generics.
        let (mut depth, mut angle, mut end) = (0, 0, b.len() - 1);
        for k in m.end()..b.len() {
            let generic = b[k - 1].is_ascii_alphanumeric() || b"_:".contains(&b[k - 1]);
            match b[k] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b'<' if generic => angle += 1,
                b'>' if angle > 0 && !b"-=".contains(&b[k - 1]) => angle -= 1,
                b'{' | b';' | b'}' if depth == 0 => {
                    end = if b[k] == b'{' { closing(b, k) } else { k };
                    break;
                }
                b',' if depth == 0 && angle == 0 => {
                    end = k;
                    break;
                }
                _ => {}
            }
        }
        out.push((
            line(m.start()),
            line(end),
            module.is_match(&code[m.end()..]),
        ));
    }
    out
}

/// The index of the bracket that closes the one at `open`.
fn closing(b: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (k, x) in b.iter().enumerate().skip(open) {
        depth += i32::from(b"{[(".contains(x)) - i32::from(b"}])".contains(x));
        if depth == 0 {
            return k;
        }
    }
    b.len() - 1
}

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file under `dir`, sorted by path.
fn sources(dir: &str) -> Vec<Source> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
        let path = entry.unwrap().path();
        let rel = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
        if path.is_dir() {
            out.extend(sources(&rel));
        } else if rel.ends_with(".rs") {
            out.push(Source::parse(&rel, &read(&rel)));
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

fn verdict(rule: &str, failures: Vec<String>) {
    assert!(failures.is_empty(), "{rule}:\n  {}", failures.join("\n  "));
}

/// Fails with `rule` and a `file:line: finding` for each line of the `.rs` files under `dirs` on which
/// `f` finds something. Lines of `#[cfg(test)]` items are checked only if `tests`.
fn check_lines(rule: &str, dirs: &[&str], tests: bool, f: impl Fn(&str, &Line) -> Option<String>) {
    let mut failures = Vec::new();
    for src in dirs.iter().flat_map(|dir| sources(dir)) {
        for (line, n) in src.numbered(tests) {
            failures.extend(f(&src.rel, line).map(|f| format!("{}:{n}: {f}", src.rel)));
        }
    }
    verdict(rule, failures);
}

#[test]
fn source_files_are_small_and_end_with_their_tests() {
    let mut failures = Vec::new();
    for src in sources("src") {
        let tests = test_items(&code_of(&src.lines, true));
        let (len, tests) = (src.lines.len(), tests.into_iter().find(|t| t.2));
        let (before, after) = tests.map_or((len, len), |t| (t.0, t.1 + 1));
        if before > 800 {
            failures.push(format!("{}: {before} lines before its tests", src.rel));
        }
        let code_after = |(l, n): &(&Line, usize)| *n > after && !l.code.trim().is_empty();
        if let Some((_, n)) = src.numbered(false).find(code_after) {
            failures.push(format!("{}:{n}: code after the tests module", src.rel));
        }
    }
    let rule = "files over 800 lines before their tests, or with code after them";
    verdict(rule, failures);
}

#[test]
fn no_comment_cites_a_document_section() {
    let cite = Regex::new(r"BENCHMARKS\.md|(?i:\bsection\s+\d)|§").unwrap();
    let rule = "comments citing a document section (state the reason, with its one figure)";
    check_lines(rule, &["src", "benches", "tests"], true, |_, l| {
        let found = cite.is_match(&l.comment);
        found.then(|| l.comment.trim().to_string())
    });
}

#[test]
fn each_foreign_vocabulary_stays_in_its_room() {
    let sql = Regex::new(r"\b(sea_orm|sea_query|sqlx)\b").unwrap();
    let http = Regex::new(r"\b(warp|hyper|hyper_util)\b").unwrap();
    let json = Regex::new(r"\bjson!").unwrap();
    let event = r"^((user|oa)_(send|received|seen|reacted|submit|click)(_\w*)?|follow)$";
    let event = Regex::new(event).unwrap();
    let rule = "sea-orm only in store/, warp only in http/, Zalo's JSON and events only in zalo/";
    check_lines(rule, &["src"], true, |rel, l| {
        if sql.is_match(&l.code) && !rel.starts_with("src/store/") {
            return Some("sea-orm or sqlx outside src/store/".into());
        }
        if http.is_match(&l.code) && !rel.starts_with("src/http/") {
            return Some("warp or hyper outside src/http/".into());
        }
        if l.test || rel.starts_with("src/zalo/") {
            return None;
        }
        if json.is_match(&l.code) && !rel.starts_with("src/http/") {
            return Some("json! outside src/zalo/ (Zalo's JSON) and src/http/ (ours)".into());
        }
        let name = l.strings.iter().find(|s| event.is_match(s))?;
        Some(format!("Zalo event name \"{name}\" outside src/zalo/"))
    });
}

/// A file's module path: `src/a/b.rs` is `[a, b]`; `src/a/mod.rs` and `src/a.rs` are `[a]`.
fn module_path(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs").trim_end_matches("/mod");
    let keep = |s: &&str| !["lib", "main"].contains(s);
    rel.split('/')
        .skip(1)
        .filter(keep)
        .map(String::from)
        .collect()
}

static ALIAS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+as\s+\w+").unwrap());

/// The paths a `use` tree names: `a::{b::{C, D as E}, self}` names `a::b::C`, `a::b::D` and `a`.
fn expand_use(tree: &str) -> Vec<String> {
    let tree = ALIAS.replace_all(tree, "");
    let (mut prefixes, mut path, mut out) = (vec![String::new()], String::new(), Vec::new());
    for ch in tree.chars().filter(|c| !c.is_whitespace()).chain([',']) {
        if ch == '{' {
            prefixes.push(path.clone());
        } else if ch != ',' && ch != '}' {
            path.push(ch);
        } else {
            if path.len() > prefixes.last().unwrap().len() {
                out.push(path.trim_end_matches("::self").to_string());
            }
            if ch == '}' {
                prefixes.pop();
            }
            path = prefixes.last().unwrap().clone();
        }
    }
    out
}

/// A `crate::`, `super::` or `self::` path, made absolute from a file at module path `here`.
fn resolve(path: &str, here: &[String]) -> Option<Vec<String>> {
    let segs: Vec<&str> = path.split("::").collect();
    let ups = segs.iter().take_while(|s| **s == "super").count();
    let mut base = match segs[0] {
        "crate" | "$crate" => vec![],
        "self" => here.to_vec(),
        "super" => here[..here.len().checked_sub(ups)?].to_vec(),
        _ => return None,
    };
    base.extend(segs[ups.max(1)..].iter().map(|s| s.to_string()));
    Some(base)
}

/// `(path, line)` of every `crate::`, `super::` and `self::` path in a file's production code.
fn references(src: &Source) -> Vec<(String, usize)> {
    let uses = Regex::new(r"\buse\s+([^;]+);").unwrap();
    let path = Regex::new(r"(\$crate|\bcrate|\bsuper|\bself)(::\w+)+").unwrap();
    let code = code_of(&src.lines, false);
    let line = |pos: usize| code[..pos].matches('\n').count() + 1;
    let mut out = Vec::new();
    for c in uses.captures_iter(&code) {
        let n = line(c.get(0).unwrap().start());
        out.extend(expand_use(&c[1]).into_iter().map(|p| (p, n)));
    }
    let blank = |c: &regex::Captures| c[0].replace(|ch| ch != '\n', " ");
    let rest = uses.replace_all(&code, blank);
    for m in path.find_iter(&rest) {
        out.push((m.as_str().to_string(), line(m.start())));
    }
    out
}

/// The child module each item re-exported by a `mod.rs` or `lib.rs` comes from, by the item's path.
fn reexports(srcs: &[Source]) -> BTreeMap<Vec<String>, String> {
    let re = Regex::new(r"\bpub(\([^)]*\))?\s+use\s+(self::)?([^;]+);").unwrap();
    let mut out = BTreeMap::new();
    let is_root = |s: &&Source| s.rel.ends_with("mod.rs") || s.rel.ends_with("lib.rs");
    for src in srcs.iter().filter(is_root) {
        for c in re.captures_iter(&code_of(&src.lines, false)) {
            for path in expand_use(&c[3]) {
                let mut item = module_path(&src.rel);
                item.push(path.rsplit("::").next().unwrap().into());
                out.insert(item, path.split("::").next().unwrap().into());
            }
        }
    }
    out
}

/// For each directory of `src/`, the import edges between its children (files and subdirectories; a
/// `mod.rs` counts as its directory, and an item it re-exports as the child that defines it).
fn import_graph(srcs: &[Source]) -> BTreeMap<Vec<String>, Edges> {
    let paths: Vec<Vec<String>> = srcs.iter().map(|s| module_path(&s.rel)).collect();
    let is_module = |p: &[String]| paths.iter().any(|m| m.starts_with(p));
    let (reexports, mut graph) = (reexports(srcs), BTreeMap::<_, Edges>::new());
    for (src, here) in srcs.iter().zip(&paths) {
        for (path, n) in references(src) {
            let target = resolve(&path, here).unwrap_or_default();
            let depth = here.len().min(target.len());
            for d in (0..depth).take_while(|&d| target[..d] == here[..d]) {
                let mut to = target[..=d].to_vec();
                if let (false, Some(child)) = (is_module(&to), reexports.get(&to)) {
                    to[d] = child.clone();
                }
                if to[d] != here[d] && is_module(&to) {
                    let edges = graph.entry(here[..d].to_vec()).or_default();
                    let edge = edges.entry((here[d].clone(), to[d].clone()));
                    edge.or_insert_with(|| format!("{}:{n}", src.rel));
                }
            }
        }
    }
    graph
}

/// The edges that lie on a cycle: those whose target reaches back to their source.
fn on_cycles(edges: &Edges) -> Vec<String> {
    let reaches = |from: &String, to: &String| {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![from]);
        while let Some(n) = todo.pop() {
            let next = edges.keys().filter(|(f, _)| f == n).map(|(_, t)| t);
            todo.extend(next.filter(|t| seen.insert(*t)));
        }
        seen.contains(to)
    };
    let cyclic = edges.iter().filter(|((a, b), _)| reaches(b, a));
    cyclic
        .map(|((a, b), at)| format!("{a} -> {b} ({at})"))
        .collect()
}

#[test]
fn no_import_cycle_between_modules_or_files() {
    let (graph, mut failures) = (import_graph(&sources("src")), Vec::new());
    for (dir, edges) in &graph {
        let cyclic = on_cycles(edges);
        if !cyclic.is_empty() {
            failures.push(format!("src/{}: {}", dir.join("/"), cyclic.join(", ")));
        }
    }
    for ((from, to), at) in graph.get(&vec![]).into_iter().flatten() {
        if from == "config" {
            failures.push(format!("config -> {to} ({at}): config is a leaf"));
        }
    }
    let rule = "import cycles (crate:: and super:: paths outside tests), or config importing";
    verdict(rule, failures);
}

/// Words of other vocabularies that equal an outcome's string, and the rooms where they mean that.
const HOMONYMS: &[(&str, &str)] = &[
    ("llm", "src/actors/"),                // the LLM actor's role
    ("llm", "src/telemetry.rs"),           // the `actor` label
    ("llm", "src/faults.rs"),              // a fault point
    ("rate_limited", "src/http/"),         // the admin limit's error code
    ("rate_limited", "src/llm/"),          // an LLM request's result label
    ("rate_limited", "src/actors/llm.rs"), // the same label
    ("rate_limited", "src/telemetry.rs"),  // the same label, pre-registered
    ("help", "src/reply/"),                // the help command's words
    ("help", "src/scam/"),                 // a top-level domain
    ("unfollow", "src/zalo/"),             // Zalo's event name
];

#[test]
fn outcome_strings_are_spelled_only_in_the_pipeline_vocabulary() {
    let pipeline = read("src/pipeline.rs");
    let arm = Regex::new(r#"Outcome::\w+\s*=>\s*"(\w+)""#).unwrap();
    let arms = arm.captures_iter(&pipeline);
    let outcomes: BTreeSet<&str> = arms.map(|c| c.extract::<1>().1[0]).collect();
    assert!(outcomes.len() > 10, "no Outcome::as_str in src/pipeline.rs");
    let rule = "outcome strings outside src/pipeline.rs";
    check_lines(rule, &["src"], false, |rel, l| {
        let other = |s: &str| HOMONYMS.iter().any(|(w, r)| *w == s && rel.starts_with(r));
        let spelled = |s: &&String| outcomes.contains(s.as_str()) && !other(s);
        let s = l.strings.iter().find(spelled)?;
        let misplaced = rel != "src/pipeline.rs";
        misplaced.then(|| format!("\"{s}\" (use crate::pipeline::Outcome)"))
    });
}

#[test]
fn actors_directory_holds_actors_only() {
    let actor = Regex::new(r"\bimpl\s*(<[^>]*>)?\s*(ractor::)?Actor\s+for\b").unwrap();
    let free_fn = Regex::new(r"^pub\s+(async\s+)?fn\s+(\w+)").unwrap();
    // mod.rs holds the tree's plumbing (roles, directory, ask and tell); restart.rs the restart budget.
    let exempt = |s: &Source| s.rel.ends_with("/mod.rs") || s.rel == "src/actors/restart.rs";
    let mut failures = Vec::new();
    for src in sources("src/actors").into_iter().filter(|s| !exempt(s)) {
        if !actor.is_match(&code_of(&src.lines, false)) {
            failures.push(format!("{}: no `impl Actor for`", src.rel));
        }
        for (l, n) in src.numbered(false) {
            let name = free_fn.captures(&l.code).map(|f| f[2].to_string());
            failures.extend(name.map(|f| format!("{}:{n}: public free function `{f}`", src.rel)));
        }
    }
    let rule = "src/actors/ holds actors only (a service goes to its own module)";
    verdict(rule, failures);
}

#[test]
fn the_maps_stay_short() {
    let mut failures = Vec::new();
    for (doc, max) in [
        ("ARCHITECTURE.md", 15_000),
        ("README.md", 10_000),
        ("BENCHMARKS.md", 12_000),
    ] {
        let size = read(doc).len();
        if size > max {
            failures.push(format!("{doc}: {size} bytes, at most {max}"));
        }
    }
    verdict("documents over their size", failures);
}

/// The checks' machinery on small synthetic inputs, written `path: text` with `|` for a line break.
mod selftest {
    use super::*;

    fn file(spec: &str) -> Source {
        let (rel, text) = spec.split_once(": ").unwrap();
        Source::parse(rel, &text.replace('|', "\n"))
    }

    #[test]
    fn the_lexer_tells_code_comments_and_strings_apart() {
        let l = file(r##"x.rs: a("// no"); // "q"|b('"', f::<'a>(r#"x"y"#));|/* c|*/ z"##).lines;
        let first = ["a(\"\"); ", "// \"q\"", "// no"];
        assert_eq!([&l[0].code, &l[0].comment, &l[0].strings[0]], first);
        let second = ["b(' ', f::<'a>(\"\"));", "x\"y"];
        assert_eq!([&l[1].code, &l[1].strings[0]], second);
        assert_eq!([&l[2].comment, &l[3].code], ["/* c\n*/", " z"]);
    }

    #[test]
    fn test_items_are_masked_and_the_tests_module_found() {
        let masked = |spec| file(spec).lines.iter().map(|l| l.test).collect::<Vec<_>>();
        let text = "x.rs: #[cfg(test)]|use a;|f();|#[cfg(test)]|#[allow(x)]|mod t {|}|g();";
        let (t, f) = (true, false);
        assert_eq!(masked(text), [t, t, f, t, t, t, t, f]);
        let items = test_items(&code_of(&file(text).lines, true));
        assert_eq!(items, [(0, 1, false), (3, 6, true)]);
        let field = "x.rs: struct S {| #[cfg(test)]| m: HashMap<u8, u8>,| n: u8,|}";
        assert_eq!(masked(field), [f, t, t, f, f]);
    }

    #[test]
    fn use_trees_and_relative_paths_resolve() {
        let tree = expand_use("crate::a::{b::{C, D as E}, self,}");
        assert_eq!(tree, ["crate::a::b::C", "crate::a::b::D", "crate::a"]);
        let here = ["x".to_string(), "y".to_string()];
        assert_eq!(resolve("super::z::T", &here).unwrap(), ["x", "z", "T"]);
        assert_eq!(resolve("super::super::q", &here).unwrap(), ["q"]);
        assert_eq!(resolve("self::q", &here).unwrap(), ["x", "y", "q"]);
        assert_eq!(resolve("std::fmt", &here), None);
    }

    #[test]
    fn cycles_are_found_between_modules_and_between_files() {
        let graph = import_graph(&[
            file("src/a/mod.rs: pub mod p;|pub mod q;|pub use q::Q;|use crate::c::C;"),
            file("src/a/p.rs: use super::Q;|fn f() { crate::b::g(); }"),
            file("src/a/q.rs: fn f() { super::p::f(); }|#[cfg(test)]|mod t { use crate::c; }"),
            file("src/b.rs: use crate::a::{p, q};"),
            file("src/c.rs: use super::d::D;"),
        ]);
        let (top, a) = (&graph[&vec![]], &graph[&vec!["a".to_string()]]);
        let want = ["a -> b (src/a/p.rs:2)", "b -> a (src/b.rs:1)"];
        assert_eq!(on_cycles(top), want);
        let want = ["p -> q (src/a/p.rs:1)", "q -> p (src/a/q.rs:1)"];
        assert_eq!(on_cycles(a), want);
        assert_eq!(top.len(), 3, "c -> d is no edge: d is no module");
    }
}
