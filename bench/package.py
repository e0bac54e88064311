"""6. Package size: the function archive and the dependency layer, zipped and unzipped, per architecture,
built (and cached under build/) by components/packaging.py, the code the Pulumi program uses.

--quick never runs pip: a layer that is not cached yet is reported n/a (a full run builds it).
The goal shown is Lambda's quota: function + layers at most 250 MB unzipped.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from components import packaging
from components.config import StackConfig
from local.runtime import CONFIG_STACK
from todo_app.catalog import CODE_PACKAGES

from .core import Section

ARCHITECTURES = ("arm64", "x86_64")
LAMBDA_UNZIPPED_LIMIT_MB = 250.0
MB = 1024 * 1024


def sizes(path: Path) -> tuple[float, float, Counter[str]]:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    top: Counter[str] = Counter()
    for info in infos:
        parts = info.filename.split("/")
        name = parts[1] if parts[0] == "python" and len(parts) > 2 else parts[0]
        top[name.split("-")[0] if name.endswith(".dist-info") else name] += info.file_size
    return path.stat().st_size / MB, sum(i.file_size for i in infos) / MB, top


def run(section: Section, world: object, quick: bool, shared: dict[str, Any]) -> None:
    runtime = StackConfig.from_files(CONFIG_STACK).python_runtime
    version = packaging.runtime_python_version(runtime)
    archive = packaging.build_function_archive(packages=CODE_PACKAGES)
    zipped, unzipped, _ = sizes(archive)
    section.add("function archive (todo_app) zipped", zipped, "MB", note=archive.name)
    section.add("function archive (todo_app) unzipped", unzipped, "MB")
    section.data = {
        "python_version": version,
        "function_archive": {"zipped_mb": round(zipped, 3), "unzipped_mb": round(unzipped, 3)},
        "layers": {},
    }
    requirements = packaging.REQUIREMENTS.read_text()
    for arch in ARCHITECTURES:
        key = packaging.layer_key(requirements, arch, version)
        cached = packaging.BUILD_DIR / f"layer-{arch}-py{version}-{key}.zip"
        if quick and not cached.exists():
            section.add(f"layer {arch} (py{version})", None, "MB", na="not cached; a full run builds it with pip")
            continue
        try:
            layer = packaging.build_layer(arch, version)
        except packaging.PackagingError as error:
            section.add(f"layer {arch} (py{version})", None, "MB", na=f"build failed: {str(error).splitlines()[0]}")
            continue
        lz, lu, top = sizes(layer)
        section.add(f"layer {arch} (py{version}) zipped", lz, "MB", note=layer.name)
        section.add(
            f"layer {arch} + function unzipped (Lambda limit 250 MB)",
            lu + unzipped,
            "MB",
            goal="<= 250 MB",
            goal_value=LAMBDA_UNZIPPED_LIMIT_MB,
            note=f"layer alone {lu:.1f} MB",
        )
        biggest = [(name, round(size / MB, 1)) for name, size in top.most_common(6)]
        section.data["layers"][arch] = {"zipped_mb": round(lz, 3), "unzipped_mb": round(lu, 3), "largest_mb": biggest, "file": layer.name}
        section.notes.append(f"{arch} layer, largest packages unzipped (MB): " + ", ".join(f"{n} {s}" for n, s in biggest))
    shared["package"] = section.data
