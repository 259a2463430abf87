"""Build hook: put the npm files that /docs and /redoc serve into blogsvc/docs_assets/dist/.

hatchling runs it for every build of the package: `pip install .` (a wheel), `pip install -e .`
(an editable wheel, whose package is the source tree itself) and the sdist. For each package
listed in blogsvc/docs_assets/packages.toml it gets the tarball, checks npm's sha512 integrity
pinned there, and unpacks the listed files (and whatever their CSS refers to) into
dist/NAME@VERSION/. An unpacked package whose files still match its stamp is left alone, so a
rebuild, or a build from an sdist, needs no network. Nothing is fetched at run time.

Where the tarballs come from, in order:
  - $BLOGSVC_DOCS_TARBALLS, a folder holding the files `npm pack NAME@VERSION` names
    (e.g. swagger-ui-dist-5.35.0.tgz, fontsource-roboto-5.3.0.tgz): builds with no npm;
  - `npm pack`, which uses npm's own configuration (registry, proxy, CA), so an internal mirror
    set in .npmrc works.

Run it by hand, `python3 hatch_build.py`, to fill dist/ without building anything.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path
from typing import Any

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, without hatchling
    BuildHookInterface = object  # type: ignore[assignment,misc]

ROOT = Path(__file__).resolve().parent
ASSETS = ROOT / "blogsvc" / "docs_assets"
MANIFEST = ASSETS / "packages.toml"
DIST = ASSETS / "dist"
STAMP = ".stamp.json"
TARBALLS_ENV = "BLOGSVC_DOCS_TARBALLS"
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


class DocsAssetsError(Exception):
    pass


def folder_name(name: str, version: str) -> str:
    """dist/ folder (and URL segment) of a package: @fontsource/roboto 5.3.0 -> fontsource-roboto@5.3.0."""
    return f"{name.removeprefix('@').replace('/', '-')}@{version}"


def tarball_name(name: str, version: str) -> str:
    """The file `npm pack` writes: @fontsource/roboto 5.3.0 -> fontsource-roboto-5.3.0.tgz."""
    return f"{name.removeprefix('@').replace('/', '-')}-{version}.tgz"


def load_manifest() -> list[dict[str, Any]]:
    with MANIFEST.open("rb") as f:
        packages: list[dict[str, Any]] = tomllib.load(f)["package"]
    for p in packages:
        missing = {"name", "version", "integrity", "files"} - p.keys()
        if missing or not p["integrity"].startswith("sha512-"):
            raise DocsAssetsError(f"{MANIFEST}: package {p.get('name')!r} needs a sha512 integrity and {missing}")
    return packages


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_current(target: Path, integrity: str) -> bool:
    try:
        stamp = json.loads((target / STAMP).read_text())
    except (OSError, ValueError):
        return False
    if stamp.get("integrity") != integrity or not stamp.get("files"):
        return False
    return all((target / rel).is_file() and _sha256(target / rel) == digest for rel, digest in stamp["files"].items())


def _get_tarball(name: str, version: str, workdir: Path) -> Path:
    filename = tarball_name(name, version)
    local = os.environ.get(TARBALLS_ENV)
    if local:
        path = Path(local) / filename
        if not path.is_file():
            raise DocsAssetsError(f"${TARBALLS_ENV} is set but has no {filename}")
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise DocsAssetsError(
            f"npm is needed to fetch {name}@{version} for /docs and /redoc (install Node.js and npm), "
            f"or set ${TARBALLS_ENV} to a folder holding {filename}"
        )
    run = subprocess.run(  # noqa: S603 - npm from PATH, with a spec from our own manifest
        [npm, "pack", "--json", "--ignore-scripts", "--pack-destination", str(workdir), f"{name}@{version}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise DocsAssetsError(f"npm pack {name}@{version} failed:\n{run.stderr.strip()}")
    path = workdir / filename
    if not path.is_file():
        raise DocsAssetsError(f"npm pack {name}@{version} did not write {filename}:\n{run.stdout.strip()}")
    return path


def _check_integrity(tarball: Path, integrity: str) -> None:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != integrity:
        raise DocsAssetsError(f"{tarball.name}: integrity {digest} is not the pinned {integrity}")


def _unpack(tarball: Path, patterns: list[str], target: Path) -> dict[str, str]:
    """Write the matching regular files under package/ (and the CSS files' relative url()s) into target."""
    with tarfile.open(tarball, "r:gz") as tar:
        members = {
            m.name.removeprefix("package/"): m for m in tar.getmembers() if m.isfile() and m.name.startswith("package/")
        }

        def read(rel: str) -> bytes:
            f = tar.extractfile(members[rel])
            if f is None:
                raise DocsAssetsError(f"{tarball.name}: cannot read {rel}")
            return f.read()

        wanted = [rel for pat in patterns for rel in sorted(members) if fnmatch.fnmatchcase(rel, pat)]
        for pat in patterns:
            if not any(fnmatch.fnmatchcase(rel, pat) for rel in members):
                raise DocsAssetsError(f"{tarball.name} has no file matching {pat!r}")
        written: dict[str, str] = {}
        while wanted:
            rel = wanted.pop()
            if rel in written:
                continue
            if rel.startswith("/") or ".." in rel.split("/"):
                raise DocsAssetsError(f"{tarball.name}: refusing the path {rel!r}")
            data = read(rel)
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            written[rel] = hashlib.sha256(data).hexdigest()
            if rel.endswith(".css"):
                for url in CSS_URL.findall(data.decode()):
                    if url.startswith(("data:", "#")):
                        continue
                    if "://" in url or url.startswith("/"):
                        raise DocsAssetsError(f"{tarball.name}: {rel} loads {url}, which is not in the package")
                    ref = posixpath.normpath(posixpath.join(posixpath.dirname(rel), url.split("?")[0].split("#")[0]))
                    if ref not in members:
                        raise DocsAssetsError(f"{tarball.name}: {rel} refers to {url}, which is not in the package")
                    wanted.append(ref)
    return written


def fetch_assets(log: Any = print) -> Path:
    """Make dist/ hold exactly the packages of the manifest, each checked; returns dist/."""
    packages = load_manifest()
    DIST.mkdir(parents=True, exist_ok=True)
    keep = set()
    with tempfile.TemporaryDirectory(prefix="blogsvc-docs-") as tmp:
        for p in packages:
            name, version, integrity = p["name"], p["version"], p["integrity"]
            folder = folder_name(name, version)
            keep.add(folder)
            target = DIST / folder
            if _is_current(target, integrity):
                continue
            log(f"docs assets: fetching {name}@{version}")
            tarball = _get_tarball(name, version, Path(tmp))
            _check_integrity(tarball, integrity)
            staging = Path(tempfile.mkdtemp(prefix=f".{folder}.", dir=DIST))
            try:
                files = _unpack(tarball, list(p["files"]), staging)
                (staging / STAMP).write_text(json.dumps({"integrity": integrity, "files": files}, indent=1) + "\n")
                shutil.rmtree(target, ignore_errors=True)
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    for stale in DIST.iterdir():
        if stale.name not in keep:
            log(f"docs assets: removing {stale.name}")
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return DIST


class DocsAssetsHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        try:
            fetch_assets(log=self.app.display_info)
        except DocsAssetsError as exc:
            self.app.abort(f"blogsvc: {exc}")
        # Ship dist/ even if a .gitignore leaves it out (an editable install serves it in place).
        build_data["artifacts"].append("/blogsvc/docs_assets/dist/")


if __name__ == "__main__":
    try:
        print(fetch_assets())
    except DocsAssetsError as exc:
        sys.exit(f"blogsvc: {exc}")
