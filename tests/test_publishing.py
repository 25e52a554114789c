"""Publishing: the GitHub workflow runs README's commands, and the built site carries what a
published documentation site needs (sitemap, descriptions, edit links, license, a 404 page)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import NETGUARD, ROOT
from tests.test_project import quick_start_blocks

WORKFLOW = ROOT / ".github/workflows/site.yml"
ON_MAIN = "github.ref == 'refs/heads/main' && github.event_name != 'pull_request'"


def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps_by_name(job: dict) -> dict[str, dict]:
    return {step.get("name", step.get("uses")): step for step in job["steps"]}


def test_the_workflow_runs_on_every_push_and_pull_request():
    assert {"push", "pull_request"} <= set(workflow()["on"])


def test_the_workflow_runs_the_readme_commands():
    """Install, test and build are README's commands, word for word; the build is the serve
    command with `mkdocs build --strict` for `mkdocs serve`."""
    serve, test = quick_start_blocks()
    steps = steps_by_name(workflow()["jobs"]["test"])
    assert steps["Install Chromium"]["run"] == "bash .ci/run --browser"
    assert steps["Test"]["run"] == test
    assert serve.endswith("/mkdocs serve")
    assert steps["Build"]["run"] == serve.removesuffix(" serve") + " build --strict"
    names = list(steps)
    assert names.index("Install Chromium") < names.index("Test") < names.index("Build")


def test_the_workflow_deploys_the_built_site_from_main_only():
    jobs = workflow()["jobs"]
    upload = steps_by_name(jobs["test"])["Upload the site"]
    assert upload["uses"].startswith("actions/upload-pages-artifact@")
    assert upload["with"]["path"] == "site" and upload["if"] == ON_MAIN
    deploy = jobs["deploy"]
    assert deploy["needs"] == "test" and deploy["if"] == ON_MAIN
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    # the tests never get write access
    assert workflow()["permissions"] == {"contents": "read"}
    assert jobs["test"]["permissions"] == {"contents": "read", "pages": "read"}


def test_the_workflow_builds_with_the_forks_own_addresses():
    env = steps_by_name(workflow()["jobs"]["test"])["Build"]["env"]
    assert "steps.pages.outputs.base_url" in env["SITE_URL"] and env["SITE_URL"].endswith("/")
    assert env["REPO_URL"] == "${{ github.server_url }}/${{ github.repository }}"
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^site_url: !ENV \[SITE_URL, ", config, re.M)
    assert re.search(r"^repo_url: !ENV \[REPO_URL, ", config, re.M)


def test_readme_documents_a_manual_publish_and_the_licenses():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^SITE_URL=\S+ REPO_URL=\S+ .*mkdocs gh-deploy --strict$", readme, re.M)
    license_section = readme.split("## License", 1)[1]
    assert "creativecommons.org/licenses/by/4.0" in license_section
    assert "MIT License" in license_section and "Permission is hereby granted" in license_section


def test_the_network_guard_refuses_and_logs(tmp_path):
    """The guard every test build runs under (tests/conftest.py) really closes the network."""
    log = tmp_path / "network.log"
    code = "import urllib.request; urllib.request.urlopen('https://pypi.org/', timeout=5)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(NETGUARD), "BP_NETWORK_LOG": str(log)})
    assert result.returncode != 0 and "network access refused" in result.stderr
    assert log.read_text() == "resolve pypi.org\n"


def test_no_build_step_downloads_anything():
    """Material's social cards fetch fonts when built; the site does without them."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    names = [next(iter(p)) if isinstance(p, dict) else p for p in config["plugins"]]
    assert not {"social", "material/social", "privacy", "optimize"} & set(names)
    assert config["theme"]["font"] is False


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!ENV", lambda loader, node: None)


# The built site -------------------------------------------------------------------------


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("index.html"))


def meta(page: Path, name: str) -> str | None:
    match = re.search(rf'<meta name="{name}" content="([^"]*)"', page.read_text("utf-8"))
    return html.unescape(match[1]) if match else None


@pytest.mark.slow
def test_the_sitemap_lists_every_page_under_site_url(site):
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    base = locs[0]
    assert urlsplit(base).scheme == "https" and base.endswith("/")
    expected = sorted(base + p.parent.relative_to(site).as_posix() + "/" for p in pages(site))
    assert sorted(locs) == [u.replace("/./", "/") for u in expected]
    # dated by the last commit, not by the clock: one commit, one sitemap
    dates = set(re.findall(r"<lastmod>([^<]+)</lastmod>", sitemap))
    assert len(dates) == 1 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", dates.pop())
    assert (site / "sitemap.xml.gz").is_file()


@pytest.mark.slow
def test_every_page_has_its_own_plain_text_description(site):
    descriptions = {}
    for page in pages(site):
        text = meta(page, "description")
        name = page.relative_to(site).as_posix()
        assert text, f"{name}: no meta description"
        assert 60 <= len(text) <= 200, f"{name}: {len(text)} characters: {text}"
        assert not re.search(r"\\[(\[a-z]|\$", text), f"{name}: TeX in {text}"
        descriptions[name] = text
    repeated = {t for t in descriptions.values() if list(descriptions.values()).count(t) > 1}
    assert not repeated, repeated


@pytest.mark.slow
def test_every_page_has_an_edit_link_to_a_file_that_exists(site):
    repo = re.search(r"^repo_url: !ENV \[REPO_URL, \"([^\"]+)\"\]",
                     (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.M)[1]
    for page in pages(site):
        links = re.findall(r'<a href="([^"]+)" title="Edit this page"', page.read_text("utf-8"))
        name = page.relative_to(site).as_posix()
        assert len(links) == 1, f"{name}: {len(links)} edit links"
        assert links[0].startswith(f"{repo}/edit/main/"), links[0]
        source = links[0].removeprefix(f"{repo}/edit/main/")
        assert (ROOT / source).is_file(), f"{name}: edits {source}, which does not exist"


@pytest.mark.slow
def test_every_page_states_copyright_and_both_licenses(site):
    for page in [*pages(site), site / "404.html"]:
        footer = page.read_text("utf-8").split('<div class="md-copyright">', 1)[1]
        footer = footer.split("</div>", 2)[0]
        assert "Copyright" in footer and "CC BY 4.0" in footer and "MIT" in footer, page


@pytest.mark.slow
def test_the_repository_link_fetches_nothing(site):
    """Material's repository widget asks api.github.com for stars unless it is told not to."""
    page = (site / "index.html").read_text("utf-8")
    assert 'class="md-source"' in page
    assert 'data-md-component="source"' not in page


@pytest.mark.slow
def test_the_404_page_is_in_the_sites_style_and_leads_to_every_page(site):
    page = (site / "404.html").read_text("utf-8")
    assert "Page not found" in page and "404 - Not found" not in page
    assert re.search(r'href="[^"]*assets/stylesheets/main\.[0-9a-f]+\.min\.css"', page)
    assert 'class="md-search__input"' in page  # the header, with search
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    base = urlsplit(re.findall(r"<loc>([^<]+)</loc>", (site / "sitemap.xml").read_text())[0])
    assert 'class="bp-not-found"' in page
    sources = re.findall(r"([\w-]+)\.md$", nav, re.M)
    assert len(sources) >= 10
    for source in sources:
        url = base.path + ("" if source == "index" else f"{source}/")
        assert f'href="{url}"' in page, url
