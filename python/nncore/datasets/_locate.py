"""Where the loaders look for files: ``data_dir``, ``$NNCORE_DATA_DIR``, then the user cache."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "NNCORE_DATA_DIR"
ENV_OFFLINE = "NNCORE_OFFLINE"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/nncore``, else ``~/.cache/nncore`` (downloads go to ``<this>/<dataset>``)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "nncore"
    return Path(os.path.expanduser("~")) / ".cache" / "nncore"


def cache_dir(name: str) -> Path:
    return cache_root() / name


def search_dirs(name: str, data_dir=None) -> list[tuple[Path, str]]:
    """Folders to look in, in order, each with how it was chosen (for error messages).

    For ``data_dir`` and ``$NNCORE_DATA_DIR`` the dataset's own subfolder (``mnist/``,
    ``fashion_mnist/``, ``cifar10/``) comes before the folder itself, so that one root can
    hold several datasets whose files share names (MNIST and Fashion-MNIST do).
    """
    out: list[tuple[Path, str]] = []
    if data_dir is not None:
        d = Path(os.fspath(data_dir)).expanduser()
        out += [(d / name, "data_dir"), (d, "data_dir")]
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        d = Path(env).expanduser()
        out += [(d / name, f"${ENV_DATA_DIR}"), (d, f"${ENV_DATA_DIR}")]
    out.append((cache_dir(name), "user cache"))
    return out


def downloads_disabled() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def first_existing(folder: Path, names) -> Path | None:
    for n in names:
        p = folder / n
        if p.is_file():
            return p
    return None


def not_found_message(title: str, name: str, needed: list[str], searched: list[str], reason: str) -> str:
    files = "\n".join(f"    {n}" for n in needed)
    looked = "\n".join(f"    {s}" for s in searched) or "    (none)"
    return (
        f"{title} was not found and {reason}.\n"
        f"Put these files (gzipped or not) into one folder:\n{files}\n"
        f"then pass load_data(data_dir=<folder>), or set {ENV_DATA_DIR}=<folder> (the folder itself, "
        f"or a folder holding it as '{name}/'), or copy them into {cache_dir(name)}.\n"
        f"Searched:\n{looked}"
    )
