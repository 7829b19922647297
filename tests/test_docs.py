"""The repository stands alone: every relative link of its Markdown files
resolves (to a file, and to a heading when it names one), and no file
refers to a path outside the repository (a clone has nothing there).

And docs/ is complete for a user: every option of `meshstats --help` is in
docs/cli.md and every config key of `meshstats config` in docs/config.md.

Usage: python3 test_docs.py SOURCE_DIR MESHSTATS   (prints TAP)
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main  # noqa: E402

ROOT = os.path.realpath(sys.argv[1])
MESHSTATS = sys.argv[2]


def tracked():
    """The repository's files (git ls-files, or a walk without .git)."""
    p = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True,
                       text=True)
    if p.returncode == 0 and p.stdout.strip():
        return p.stdout.split()
    files = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith((".git", "build"))]
        files += [os.path.relpath(os.path.join(folder, n), ROOT)
                  for n in names]
    return files


def text_of(rel):
    try:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            return f.read()
    except (UnicodeDecodeError, OSError):
        return None  # binary: an HDF5 file, a picture


def anchor(heading):
    """GitHub's anchor of a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


LINK = re.compile(r"\]\(([^)\s]+)\)")


@case
def every_relative_markdown_link_resolves():
    broken = []
    for rel in tracked():
        if not rel.endswith(".md"):
            continue
        text = text_of(rel)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, frag = target.partition("#")
            full = os.path.normpath(os.path.join(ROOT, os.path.dirname(rel),
                                                 path)) if path else \
                os.path.join(ROOT, rel)
            if not os.path.exists(full):
                broken.append(f"{rel}: {target}")
                continue
            if frag and full.endswith(".md"):
                with open(full, encoding="utf-8") as f:
                    heads = {anchor(h) for h in
                             re.findall(r"^#+ (.*)$", f.read(), re.M)}
                if frag not in heads:
                    broken.append(f"{rel}: {target} (no such heading)")
    assert not broken, "; ".join(broken)


@case
def no_file_refers_to_a_path_outside_the_repository():
    outside = []
    for rel in tracked():
        text = text_of(rel)
        if text is None:
            continue
        here = os.path.dirname(os.path.join(ROOT, rel))
        for m in re.finditer(r"(?<![\w.])((?:\.\./)+)([\w.-]*)", text):
            full = os.path.realpath(os.path.join(here, m.group(1)))
            if not (full + os.sep).startswith(ROOT + os.sep) and \
                    full != ROOT:
                line = text.count("\n", 0, m.start()) + 1
                outside.append(f"{rel}:{line}: {m.group(0)}")
        if re.search(r"shared/(SPEC|seed|STYLE)", text):
            outside.append(f"{rel}: names the workplace's shared/ folder")
    assert not outside, "; ".join(outside)


@case
def every_option_and_config_key_is_documented():
    helptext = subprocess.run([MESHSTATS, "--help"], capture_output=True,
                              text=True, check=True).stdout
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", helptext))
    cli = text_of("docs/cli.md")
    missing = sorted(o for o in options if o not in cli)
    listing = subprocess.run([MESHSTATS, "config"], capture_output=True,
                             text=True, cwd="/", check=True).stdout
    keys = {line.split()[1] for line in listing.splitlines()
            if not line.split()[1].startswith("--")}
    config = text_of("docs/config.md")
    missing += sorted(f"key {k}" for k in keys if f"`{k}`" not in config)
    assert len(options) > 15 and len(keys) > 10, (options, keys)
    assert not missing, f"not in docs/cli.md or docs/config.md: {missing}"


def config_keys():
    listing = subprocess.run([MESHSTATS, "config"], capture_output=True,
                             text=True, cwd="/", check=True).stdout
    return {line.split()[1] for line in listing.splitlines()
            if not line.split()[1].startswith("--")}


@case
def the_example_config_txt_has_every_key():
    # docs/config.md calls it "an example with every key".
    text = text_of("config.txt")
    named = set(re.findall(r"^%?\s*([a-z_]+)\s", text, re.M))
    missing = sorted(config_keys() - named)
    assert not missing, f"not in config.txt: {missing}"


@case
def the_man_page_names_what_help_and_cli_md_name():
    # Its OPTIONS come from the same table as --help; the rest is written
    # by hand, so: the generate synopsis has every option generate's help
    # lists, and ENVIRONMENT every variable of cli.md's Environment.
    man = text_of("docs/meshstats.1.in")
    synopsis = man[man.index(".B meshstats generate"):man.index(
        ".B meshstats demo")].replace("\\-", "-")
    usage = subprocess.run([MESHSTATS, "generate", "--help"],
                           capture_output=True, text=True).stdout
    usage = usage[:usage.index("meshstats demo")]
    options = set(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", usage))
    missing = sorted(o for o in options if o not in synopsis)
    cli = text_of("docs/cli.md")
    env = cli[cli.index("### Environment"):]
    env = env[:env.index("\n#")] if "\n#" in env else env
    names = set(re.findall(r"`([A-Z][A-Z0-9_]+)[=`]", env))
    section = man[man.index(".SH ENVIRONMENT"):man.index(".SH FILES")]
    missing += sorted(f"environment {n}" for n in names
                      if n not in section.replace("\\_", "_"))
    assert len(options) > 5 and len(names) > 5, (options, names)
    assert not missing, f"not in docs/meshstats.1.in: {missing}"


if __name__ == "__main__":
    sys.exit(main("docs"))
