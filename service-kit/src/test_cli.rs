//! What a binary's `--help` promises, read the way an operator reads it: for tests that hold the
//! documentation to the binary.

#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Every environment variable the `--help` of `bin`, or of any of its subcommands however deep,
/// names: as clap's `[env: NAME=…]`, or in a description (`… or AUTH_USER_PASSWORD`).
pub fn env_vars_in_help(bin: &Path) -> BTreeSet<String> {
    let mut vars = BTreeSet::new();
    collect(bin, &mut Vec::new(), &mut vars);
    vars
}

/// Fails unless `reference` (a configuration reference in Markdown) names, in backticks, every
/// environment variable the `--help` of `bin` names; `sample` is one it must find there (so that
/// an empty reading cannot pass).
pub fn assert_settings_documented(bin: &Path, reference: &str, sample: &str) {
    let vars = env_vars_in_help(bin);
    assert!(vars.contains(sample), "{sample} not in --help: {vars:?}");
    let missing: Vec<_> = vars
        .iter()
        .filter(|var| !reference.contains(&format!("`{var}`")))
        .collect();
    assert!(missing.is_empty(), "the reference lacks {missing:?}");
}

fn collect(bin: &Path, path: &mut Vec<String>, vars: &mut BTreeSet<String>) {
    let help = help_of(bin, path);
    vars.extend(env_names(&help));
    for sub in subcommands(&help) {
        path.push(sub);
        collect(bin, path, vars);
        path.pop();
    }
}

fn help_of(bin: &Path, path: &[String]) -> String {
    let output = Command::new(bin)
        .args(path)
        .arg("--help")
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(
        output.status.success(),
        "{} {} --help failed: {}",
        bin.display(),
        path.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Upper-case words with an underscore: `[env: NAME=value]`, `[env: NAME]` and names in prose,
/// but not value placeholders (`<DATABASE_URL>`).
fn env_names(help: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = help;
    while let Some(start) = rest.find(|c: char| c.is_ascii_uppercase()) {
        let placeholder = rest[..start].ends_with('<');
        rest = &rest[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let word = &rest[..end];
        if !placeholder && word.contains('_') && !word.contains(|c: char| c.is_ascii_lowercase()) {
            words.push(word.to_owned());
        }
        rest = &rest[end..];
    }
    words
}

/// The names under clap's `Commands:` heading, but `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim_end() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_env_names_and_subcommands_as_clap_prints_them() {
        let help = "Usage: x [OPTIONS] [COMMAND]\n\nCommands:\n  serve    Serve\n  keys     Keys\n  help     Print this\n\nOptions:\n      --a <A>  A [env: X_A=1]\n      --b <B_B>  B, else X_D [env: X_B]\n      --c  C [env: X_C=]\n";
        assert_eq!(env_names(help), ["X_A", "X_D", "X_B", "X_C"]);
        assert_eq!(subcommands(help), ["serve", "keys"]);
    }
}
