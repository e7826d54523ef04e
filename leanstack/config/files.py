"""Files a service's containers read: config files (a ConfigMap) and secret files (a Secret); and
the files its image build mounts as BuildKit secrets.

Config files are written inline or read from the project when the program starts; their content
is part of the desired state, so a change rolls the pods (the `checksum/config` annotation).
Secret files name secret config keys, like secret_env, and are mounted read-only for the app to
read via `<NAME>_FILE`, so the value never sits in the process environment.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Mapping, Optional

from pydantic import AfterValidator, Field, model_validator

from leanstack.config.errors import ConfigError, Problem
from leanstack.config.fields import AbsolutePath, Strict

FILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Where secret files appear (read-only, mode 0400 + the pod's fsGroup); the app reads `<NAME>_FILE`.
SECRET_FILES_DIR = "/run/secrets/leanstack"
# A ConfigMap holds at most 1 MiB (etcd's object limit); keep room for its metadata.
MAX_CONFIG_BYTES = 1_000_000


def _project_path(value: str) -> str:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{value!r} is not a path inside the project; use a relative path such as config/app.toml")
    return value


ProjectPath = Annotated[str, AfterValidator(_project_path)]
FileName = Annotated[str, Field(min_length=1, max_length=253, pattern=FILE_NAME)]


class ConfigFile(Strict):
    """A read-only file in the containers (ConfigMap, mode 0444); changing it rolls the pods."""

    mount_path: AbsolutePath = Field(description="The file's path in the container, e.g. /etc/app/settings.toml.")
    content: Optional[str] = Field(None, description="The file's text, written here.")
    source: Optional[ProjectPath] = Field(None, description="A file in the project, read when the program starts.")

    @model_validator(mode="after")
    def _one_source(self) -> "ConfigFile":
        if (self.content is None) == (self.source is None):
            raise ValueError("set exactly one of content (the text) or source (a file in the project)")
        return self


def _read(path: Path, shown: str, key_path: str, problems: list[Problem]) -> Optional[str]:
    """A project file's text, or None after adding the problem at `key_path`."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        problems.append(Problem(key_path, f"cannot read {shown}: {reason}"))
        return None


def read_config_files(services: Mapping[str, Any], project_dir: Path, stack_file: str) -> dict[str, dict[str, str]]:
    """Service -> file name -> content of every config file, sources read from `project_dir`.

    `services` are the stack's ServiceSpecs; every unreadable or oversized file is one problem of
    the ConfigError, at its key path.
    """
    contents: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    for service, spec in services.items():
        files = contents[service] = {}
        for name, file in spec.config_files.items():
            text = file.content if file.content is not None else _read(
                project_dir / file.source, file.source, f"services.{service}.config_files.{name}.source", problems)
            if text is not None:
                files[name] = text
        size = sum(len(text.encode()) for text in files.values())
        if size > MAX_CONFIG_BYTES:
            problems.append(Problem(f"services.{service}.config_files",
                                    f"{size} bytes of config files; a ConfigMap holds at most {MAX_CONFIG_BYTES}"))
    if problems:
        raise ConfigError(stack_file, problems)
    return contents


def read_build_secrets(services: Mapping[str, Any], project_dir: Path, stack_file: str) -> dict[str, dict[str, str]]:
    """Service -> BuildKit secret id -> content of each file its image.build.secret_files names
    (relative paths from `project_dir`); every unreadable file is one problem, at its key path."""
    contents: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    for service, spec in services.items():
        build = spec.image.build
        for secret, path in (build.secret_files.items() if build else ()):
            text = _read(project_dir / path, path, f"services.{service}.image.build.secret_files.{secret}", problems)
            if text is not None:
                contents.setdefault(service, {})[secret] = text
    if problems:
        raise ConfigError(stack_file, problems)
    return contents
