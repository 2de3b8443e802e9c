"""Checks every fenced code block of every Markdown file in the repository.

    python3 scripts/readme_blocks.py

Rust blocks are compiled as doc tests of the core (`cargo test --doc -p stenograph`), so they
may appear only in the top-level README, which the core includes. Python blocks are compiled
(top-level `await` allowed), JavaScript blocks are parsed as ES modules by `node --check`, C
blocks are compiled against `include/stenograph.h`, shell blocks are parsed by `bash -n`, and
JSON blocks are parsed (a first line starting with `$` is the command that printed them).
Blocks marked `text` are prose; any other language fails the check, so that no block goes
unchecked.
"""

import ast
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.M | re.S)


def check(path: pathlib.Path, lang: str, code: str, tmp: pathlib.Path) -> str | None:
    """None when the block is fine, else why not."""
    kind = lang.split(",")[0].strip()
    if kind == "rust":
        return None if path == ROOT / "README.md" else "Rust blocks belong in the top-level README"
    if kind == "text":
        return None
    if kind == "python":
        try:
            compile(code, str(path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            return None
        except SyntaxError as e:
            return f"python: {e}"
    if kind in ("js", "javascript"):
        f = tmp / "block.mjs"
        f.write_text(code)
        run = subprocess.run(["node", "--check", str(f)], capture_output=True, text=True)
        return None if run.returncode == 0 else f"node --check: {run.stderr.strip()}"
    if kind == "c":
        run = subprocess.run(
            ["cc", "-fsyntax-only", "-Wall", "-Werror", "-Wno-unused-variable", "-std=c11",
             f"-I{ROOT / 'include'}", "-x", "c", "-"],
            input=code, capture_output=True, text=True,
        )
        return None if run.returncode == 0 else f"cc: {run.stderr.strip()}"
    if kind in ("sh", "bash"):
        run = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
        return None if run.returncode == 0 else f"bash -n: {run.stderr.strip()}"
    if kind == "json":
        lines = code.splitlines()
        if lines and lines[0].startswith("$"):
            lines = lines[1:]
        try:
            json.loads("\n".join(lines))
            return None
        except json.JSONDecodeError as e:
            return f"json: {e}"
    return f"unchecked language '{lang or '(none)'}': mark prose blocks `text`"


def main() -> int:
    files = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    failures = 0
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in files:
            path = ROOT / name
            text = path.read_text()
            for m in FENCE.finditer(text):
                line = text[: m.start()].count("\n") + 1
                problem = check(path, m.group(1).strip(), m.group(2), pathlib.Path(tmp))
                checked += 1
                if problem:
                    failures += 1
                    print(f"FAIL {name}:{line}: {problem}")
    print(f"readme blocks: {checked} checked, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
