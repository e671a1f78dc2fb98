#!/usr/bin/env python3
"""Writes the install metadata of the camd_ring package already copied into SITE_PACKAGES:
SITE_PACKAGES/camd_ring-VERSION.dist-info (METADATA, INSTALLER, top_level.txt, RECORD), from
pyproject.toml beside this script, as pip would. `importlib.metadata.version("camd-ring")`,
`pip show camd-ring` and `pip list` then know an install that pip did not make: the dist
tarball's (`cargo xtask dist`) and the Yocto package's (python3-camd-ring), which copy the
package's files themselves.

Usage: dist_info.py SITE_PACKAGES     (prints the path of every file it wrote)

Runs on the build host (Python 3.11 or later: tomllib), never on the target.
"""

import base64
import hashlib
import os
import sys
import tomllib

PACKAGE = "camd_ring"


def record_line(site, path):
    """`path,sha256=...,size` as RECORD lists it, the path relative to `site`."""
    relative = os.path.relpath(path, site)
    if os.path.islink(path):
        # The library link: its target is another package's file; listed without a hash.
        return f"{relative},,"
    with open(path, "rb") as f:
        data = f.read()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{relative},sha256={digest},{len(data)}"


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    site = argv[1]
    package_dir = os.path.join(site, PACKAGE)
    if not os.path.isdir(package_dir):
        sys.exit(f"dist_info.py: {package_dir} does not exist: copy the package there first")
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    name, version = project["name"], project["version"]
    info = os.path.join(site, f"{name.replace('-', '_')}-{version}.dist-info")
    os.makedirs(info, exist_ok=True)

    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {project['description']}",
        f"License: {project['license']['text']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    metadata += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    metadata += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        metadata.append(f"Provides-Extra: {extra}")
        metadata += [f'Requires-Dist: {r}; extra == "{extra}"' for r in requirements]
    written = []
    for file, text in [
        ("METADATA", "\n".join(metadata) + "\n"),
        ("INSTALLER", "camd\n"),
        ("top_level.txt", PACKAGE + "\n"),
    ]:
        path = os.path.join(info, file)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        written.append(path)

    files = []
    for directory, _, names in os.walk(package_dir):
        files += [os.path.join(directory, n) for n in names if not n.endswith(".pyc")]
    record = os.path.join(info, "RECORD")
    lines = [record_line(site, p) for p in sorted(files) + written]
    lines.append(f"{os.path.relpath(record, site)},,")
    with open(record, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(record, 0o644)
    written.append(record)
    for path in written:
        print(path)


if __name__ == "__main__":
    main(sys.argv)
