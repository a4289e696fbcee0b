"""Configuration: ``[tool.loss_doctor]`` in pyproject.toml or ``[loss_doctor]``
in setup.cfg, found by walking up from the current directory; the command line
wins.

pyproject.toml::

    [tool.loss_doctor]
    select = ["LD"]            # code prefixes
    ignore = ["LD5"]
    fail-on = "warning"        # error (default), warning or info

    [tool.loss_doctor.roles]   # metric name -> role
    "my/objective" = "train_loss"

    [tool.loss_doctor.divergence]   # any detector, by name: its parameters
    min-ratio = 1.5

setup.cfg: ``[loss_doctor]`` with ``select = LD1, LD2``; ``[loss_doctor.roles]``;
``[loss_doctor.divergence]`` and so on.  Keys may use ``-`` or ``_``.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from dataclasses import dataclass, field

from .errors import LossDoctorError
from .findings import SEVERITIES
from .roles import ROLES
from .selection import DEFAULT_SELECT


class ConfigError(LossDoctorError, ValueError):
    """A configuration that cannot be used (exit 2)."""


@dataclass
class Config:
    select: tuple[str, ...] = DEFAULT_SELECT
    ignore: tuple[str, ...] = ()
    fail_on: str = "error"
    roles: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def from_mapping(cls, data: dict, source: str | None = None) -> "Config":
        from .detectors import registry

        known = registry()
        out = cls(source=source)
        where = f" in {source}" if source else ""
        for raw_key, value in data.items():
            key = raw_key.replace("-", "_")
            if key in ("select", "ignore"):
                setattr(out, key, _codes(value))
            elif key == "fail_on":
                if value not in SEVERITIES:
                    raise ConfigError(f"fail-on{where} must be one of {', '.join(SEVERITIES)}")
                out.fail_on = value
            elif key == "roles":
                for metric, role in dict(value).items():
                    if role not in ROLES:
                        raise ConfigError(f"role {role!r} for {metric!r}{where} is not one "
                                          f"of {', '.join(ROLES)}")
                out.roles[str(metric)] = role
            elif key in known or key in {c.code: n for n, c in known.items()}:
                name = key if key in known else {c.code: n for n, c in known.items()}[key]
                allowed = known[name].parameters()
                params = {}
                for pkey, pval in dict(value).items():
                    pname = pkey.replace("-", "_")
                    if pname not in allowed:
                        raise ConfigError(f"{name} has no parameter {pkey!r}{where}; it has: "
                                          f"{', '.join(sorted(allowed)) or 'none'}")
                    params[pname] = _coerce(pval, allowed[pname], f"{name}.{pkey}{where}")
                out.params[name] = params
            else:
                raise ConfigError(f"unknown setting {raw_key!r}{where}")
        return out

    def merged(self, **cli) -> "Config":
        """This config with command-line values (not None) on top."""
        out = Config(self.select, self.ignore, self.fail_on, dict(self.roles),
                     {k: dict(v) for k, v in self.params.items()}, self.source)
        for key, value in cli.items():
            if value is not None:
                setattr(out, key, value)
        return out


def _codes(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    return tuple(v.strip().upper() for v in value if v and v.strip())


def _coerce(value, default, what):
    """Values from setup.cfg arrive as text: give them the default's type."""
    if isinstance(value, str) and not isinstance(default, str):
        try:
            if isinstance(default, bool):
                return value.strip().lower() in ("1", "true", "yes", "on")
            if isinstance(default, int):
                return int(value)
            if isinstance(default, float):
                return float(value)
            if isinstance(default, tuple):
                return tuple(v.strip() for v in value.split(","))
        except ValueError:
            raise ConfigError(f"{what}: {value!r} is not a {type(default).__name__}") from None
    return value


def find_config(start: str | None = None) -> tuple[str, dict] | None:
    """The first pyproject.toml with [tool.loss_doctor] or setup.cfg with
    [loss_doctor], walking up from ``start``."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject):
            try:
                with open(pyproject, "rb") as fh:
                    data = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{pyproject}: {exc}") from None
            if "loss_doctor" in data.get("tool", {}):
                return pyproject, data["tool"]["loss_doctor"]
        setup_cfg = os.path.join(here, "setup.cfg")
        if os.path.isfile(setup_cfg):
            found = _read_setup_cfg(setup_cfg)
            if found is not None:
                return setup_cfg, found
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _read_setup_cfg(path: str) -> dict | None:
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not any(s == "loss_doctor" or s.startswith("loss_doctor.") for s in parser.sections()):
        return None
    data: dict = dict(parser["loss_doctor"]) if parser.has_section("loss_doctor") else {}
    for section in parser.sections():
        if section.startswith("loss_doctor."):
            data[section.split(".", 1)[1]] = dict(parser[section])
    return data


def load(start: str | None = None, isolated: bool = False) -> Config:
    if isolated:
        return Config()
    found = find_config(start)
    if found is None:
        return Config()
    path, data = found
    return Config.from_mapping(data, source=path)
