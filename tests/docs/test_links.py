"""Every link in README.md and docs/ resolves: a relative link names a file of the repository,
and a `#fragment` names a heading of the page it points into. (Links to other sites are not
fetched: CI may have no way out.)"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|    )")


def anchors(page):
    """The fragments GitHub gives a page's headings."""
    found = set()
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            found.add(slug)
    return found


def links(page):
    inside_fence = False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if line.startswith("```"):
            inside_fence = not inside_fence
        if inside_fence or line.startswith("    "):
            continue
        for target in LINK.findall(line):
            yield number, target


def test_every_link_in_readme_and_docs_resolves():
    broken = []
    checked = 0
    for page in PAGES:
        for number, target in links(page):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)}:{number}: {target}"
            checked += 1
            if not resolved.exists():
                broken.append(f"{where} (no such file)")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                broken.append(f"{where} (no such heading)")
    assert not broken, "\n".join(broken)
    assert checked >= 10, f"only {checked} links found: is the pattern still right?"
