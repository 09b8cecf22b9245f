"""Fork the service template into services/<name> and register it: `make new-service NAME=..`.

The template (tools/service_template/service) is a real service named `skeleton`; forking
copies it with every spelling of that name replaced, then registers the fork in the
workspace, the launcher and the Kubernetes manifests (see service_registration.py). Every
change is planned and checked first, then written: a refused or failed run changes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import keyword
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from service_registration import Change, RegistrationError, plan_registration, taken_ports

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "service_template" / "service"
TEMPLATE_NAME = "skeleton"
FIRST_PORT, LAST_PORT = 8104, 8199  # after the four services' 8101-8103, below before's 8201
MAX_NAME_LENGTH = 20  # the template leaves room for 12 more characters per spelling
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# Names that would collide with something that is not a service: the shared library, the
# PostgreSQL schemas of the other services and of PostgreSQL itself, repository folders.
RESERVED = {"common", "service", "services", "public", "users", "information_schema", "tools"}


class NameRefused(ValueError):
    """The requested name cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class ServiceNames:
    """Every spelling of a service's name the repository uses."""

    name: str  # process, schema, folder: "order_history"
    port: int

    @property
    def package(self) -> str:
        return f"{self.name}_service"

    @property
    def distribution(self) -> str:
        return f"{self.k8s}-service"

    @property
    def k8s(self) -> str:
        return self.name.replace("_", "-")

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def title(self) -> str:
        return self.name.replace("_", " ").title()

    def replacements(self) -> list[tuple[str, str]]:
        """Return (template spelling, fork spelling) pairs, longest first so none shadows."""
        return [
            (f"{TEMPLATE_NAME}-service", self.distribution),
            (f"{TEMPLATE_NAME}_service", self.package),
            (TEMPLATE_NAME.upper(), self.name.upper()),
            (TEMPLATE_NAME.title(), self.title),
            (TEMPLATE_NAME, self.name),
        ]


def check_name(name: str, repo: Path) -> None:
    """Raise NameRefused unless `name` can become a new service of this repository."""
    if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise NameRefused(
            f"{name!r}: use a lowercase identifier (a-z, digits, single underscores between "
            f"words), at most {MAX_NAME_LENGTH} characters, e.g. billing or order_history"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise NameRefused(f"{name!r} is a Python keyword")
    if name in RESERVED or name.startswith("pg_"):
        raise NameRefused(f"{name!r} is reserved (shared library, schema or folder name)")
    if (repo / "services" / name).exists():
        raise NameRefused(f"services/{name} exists already: pick another name")
    package = f"{name}_service"
    # An importable package of that name (another service, or anything installed) would be
    # shadowed by, or shadow, the fork.
    if importlib.util.find_spec(package) is not None:
        raise NameRefused(f"a package named {package} is importable already")


def choose_port(repo: Path) -> int:
    """Return the first default port no service of the after layout uses."""
    taken = taken_ports(repo)
    for port in range(FIRST_PORT, LAST_PORT + 1):
        if port not in taken:
            return port
    raise NameRefused(f"no free port left in {FIRST_PORT}-{LAST_PORT}")


def plan_service_tree(names: ServiceNames, repo: Path) -> list[Change]:
    """Return the files of services/<name>, rendered from the template."""
    target = repo / "services" / names.name
    changes = []
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = rename(str(source.relative_to(TEMPLATE)), names)
        text = rename(source.read_text(encoding="utf-8"), names)
        changes.append(Change(target / relative, text, created=True))
    return changes


def rename(text: str, names: ServiceNames) -> str:
    """Replace every spelling of the template's name with the fork's."""
    for old, new in names.replacements():
        text = text.replace(old, new)
    return text


def apply(changes: list[Change]) -> None:
    """Write planned files; nothing is written when any created path exists already."""
    clashes = [str(c.path) for c in changes if c.created and c.path.exists()]
    if clashes:
        raise NameRefused("refusing to overwrite: " + ", ".join(clashes))
    for change in changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        change.path.write_text(change.text, encoding="utf-8")


def tidy(folder: Path, repo: Path) -> bool:
    """Sort imports and format the fork with ruff; return False when ruff is not installed."""
    # The new name sorts differently from `skeleton` among the tests' third-party imports, and
    # a longer name can move line breaks: ruff restores what `make lint` expects.
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return False
    for command in (["check", "--select", "I", "--fix"], ["format"]):
        subprocess.run([ruff, *command, "--quiet", str(folder)], cwd=repo, check=True)
    return True


def next_steps(names: ServiceNames) -> str:
    """Return what the user does after a fork."""
    n = names
    return f"""
Next steps:
  1. make setup            installs {n.distribution} into .venv (and updates uv.lock)
  2. .venv/bin/python -m pytest services/{n.name}
                           its tests, on real PostgreSQL and Redis
  3. make lint             ruff, and mypy --strict on {n.package}
  4. Rename `items` to your first domain; one revision in migrations/versions/ per change.
  5. Images: add a `{n.k8s}` target to infra/docker/after.Dockerfile (like `user`);
     tests/deploy names the HTTP services and settings prefixes: add {n.k8s}, {n.env_prefix}.
  6. `make up` runs it on :{n.port}; core_api reaches it through a setting such as
     CORE_API_{n.name.upper()}_URL (add it to core_api's settings and peers)."""


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, fork the template, and print what was done."""
    parser = argparse.ArgumentParser(
        prog="make new-service NAME=..", description="Fork the service template."
    )
    parser.add_argument("name", help="lowercase identifier, e.g. billing")
    parser.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repo: Path = args.repo.resolve()
    try:
        check_name(args.name, repo)
        names = ServiceNames(args.name, choose_port(repo))
        tree = plan_service_tree(names, repo)
        registration = plan_registration(names, repo)
        apply(tree + registration)
    except (NameRefused, RegistrationError) as exc:
        print(f"new-service: {exc}", file=sys.stderr)
        return 2
    if not tidy(repo / "services" / names.name, repo):
        print("new-service: ruff not found; run `make lint` after `make setup`", file=sys.stderr)
    print(f"Forked the service template into services/{names.name} ({names.package}):")
    print(f"  created  services/{names.name}/ ({len(tree)} files, env prefix {names.env_prefix})")
    for change in registration:
        print(f"  {'created' if change.created else 'updated'}  {change.summary}")
    print(next_steps(names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
