"""Options as data: one field, one definition.

An option shared by several public functions (``face_selection``,
``ffreq``, ...) is one field of a frozen dataclass, and the field carries
everything about it: its default, its check, its help text and its
command-line flag (field metadata, see :func:`option`). The public functions
keep their flat signatures (R and the drift test need them); their bodies
only build the objects (:func:`pick`), whose construction checks every
field once. Everything below the front takes the objects. The command line
builds its flags from the fields (:func:`add_flags`), so each flag is
declared once, and reads them back with :func:`pick` as well.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import inspect
from typing import Any, Callable, Dict, Iterable, Mapping, Optional

from .checks import path_text

__all__ = ["option", "takes_options", "takes_paths", "changed_options", "check_fields", "pick", "add_flags",
           "flag_values", "option_names", "option_values"]

_KEY = "transforemotion"
_SAME = object()


def option(default: Any, help: str, *, check: Optional[Callable[[str, Any], Any]] = None,
           flag: Optional[str] = None, cli: Optional[Mapping[str, Any]] = None,
           from_cli: Optional[Callable[[Any], Any]] = None, public_default: Any = _SAME) -> Any:
    """A dataclass field that is a user-facing option.

    Args:
        default: the default in Python (and R).
        help: one line for ``--help`` (and a reminder for the docstrings).
        check: ``check(name, value) -> value``: raises an ArgumentError
            naming the option, or returns the value in its checked form.
        flag: the command-line flag; default ``--`` plus the name with dashes.
            ``""`` keeps the option off the command line.
        cli: extra ``argparse.add_argument`` keywords (``type``, ``metavar``,
            ``choices``, ``action``, ``nargs``, ``default``).
        from_cli: turns the parsed flag into the Python value (e.g. a list of
            one template into the template).
        public_default: the default shown in the public signatures, where it
            differs from ``default`` (transforEmotion's ``nframes=100``, told
            apart from an explicit 100, is ``None`` inside).
    """
    meta = {"help": help, "check": check, "flag": flag, "cli": dict(cli or {}), "from_cli": from_cli,
            "public_default": default if public_default is _SAME else public_default}
    return dataclasses.field(default=default, metadata={_KEY: meta})


def _meta(field: dataclasses.Field) -> Optional[dict]:
    return field.metadata.get(_KEY)


def option_names(cls) -> tuple:
    """The names of ``cls``'s options, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(cls) if _meta(f) is not None)


def takes_options(order: str, skip: Iterable[str] = (), **groups) -> Callable:
    """Decorator: a public function's flat signature, made of its own arguments and the fields of option objects.

    The function is written with its own arguments and one keyword argument
    per group of options (``options: ScoringOptions``, ``sampling:
    FrameSampling``, ...), and receives those objects, made and checked;
    callers, ``help()``, R and the drift test see the flat signature
    transforEmotion has, with each option's public default. ``order`` names
    the arguments in the signature's order (``*`` starts the keyword-only
    ones); options it does not name come last, in field order, so a new
    option needs no change here. ``skip`` names options this function does
    not take (their defaults apply). An argument of the function's own with
    the name of an option (``vad_scores``' ``model="auto"``) replaces the
    option in the signature and is given to both.
    """
    def decorate(fn: Callable) -> Callable:
        own = dict(inspect.signature(fn).parameters)
        for group in groups:
            own.pop(group)
        fields = {f.name: f for cls in groups.values() for f in dataclasses.fields(cls)
                  if _meta(f) is not None and f.name not in skip}
        names = [name for name in order.split() if name not in skip]
        unlisted = [name for name in dict.fromkeys(list(own) + list(fields)) if name not in names]
        parameters, kind = [], inspect.Parameter.POSITIONAL_OR_KEYWORD
        for name in names + [n for n in unlisted if n not in own]:
            if name == "*":
                kind = inspect.Parameter.KEYWORD_ONLY
            elif name in own:
                parameters.append(own[name].replace(kind=kind))
            else:
                field = fields[name]
                parameters.append(inspect.Parameter(name, kind, default=_meta(field)["public_default"],
                                                    annotation=field.type))
        if any(name in own for name in unlisted):  # a mistake in our code, caught when the package is imported
            raise TypeError(f"{fn.__name__}: the order names none of its own arguments "
                            f"{[n for n in unlisted if n in own]}")
        signature = inspect.Signature(parameters, return_annotation=inspect.signature(fn).return_annotation)

        @functools.wraps(fn)
        def call(*args, **kwargs):
            values = signature.bind(*args, **kwargs)
            values.apply_defaults()
            values.arguments.update((name, path_text(v)) for name, v in values.arguments.items())
            made = {group: pick(cls, values.arguments) for group, cls in groups.items()}
            return fn(**{name: values.arguments[name] for name in own}, **made)

        call.__signature__ = signature
        return call
    return decorate


def takes_paths(fn: Callable) -> Callable:
    """Decorator for a public function without option groups: a ``pathlib.Path`` (any ``os.PathLike``)
    given for any argument, or in a list, arrives as its ``str`` (as :func:`takes_options` does)."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        return fn(*(path_text(v) for v in args), **{name: path_text(v) for name, v in kwargs.items()})
    return call


def changed_options(instance) -> Dict[str, Any]:
    """The options of ``instance`` that differ from their defaults, name -> value (as given, after the checks)."""
    default = type(instance)()
    return {name: getattr(instance, name) for name in option_names(type(instance))
            if getattr(instance, name) != getattr(default, name)}


def check_fields(instance) -> None:
    """Run each field's check once and keep the checked value; for ``__post_init__`` of a frozen dataclass."""
    for field in dataclasses.fields(instance):
        meta = _meta(field)
        if meta is None or meta["check"] is None:
            continue
        checked = meta["check"](field.name, getattr(instance, field.name))
        object.__setattr__(instance, field.name, checked)


def pick(cls, values: Mapping[str, Any], **changes):
    """An instance of ``cls`` from the entries of ``values`` (a call's ``locals()``, parsed flags) it has fields for.

    ``changes`` override single values (a default told apart, a value the
    function fixes itself).
    """
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    given = {name: values[name] for name in names if name in values}
    given.update(changes)
    return cls(**given)


def add_flags(parser: argparse.ArgumentParser, cls, *, skip: Iterable[str] = (), only: Optional[Iterable[str]] = None,
              prefix: str = "", changes: Optional[Mapping[str, Mapping[str, Any]]] = None) -> None:
    """One command-line flag per option of ``cls``.

    ``skip`` leaves some out, ``only`` keeps just these; ``prefix`` starts
    every help text (``"video: "``); ``changes`` adjusts a flag for one
    command (``{"face_selection": {"choices": [...]}}``).
    """
    skip = set(skip)
    for field in dataclasses.fields(cls):
        meta = _meta(field)
        if meta is None or field.name in skip or meta["flag"] == "" or (only is not None and field.name not in only):
            continue
        keywords: Dict[str, Any] = {"default": field.default, "dest": field.name, "help": prefix + meta["help"]}
        keywords.update(meta["cli"])
        keywords.update((changes or {}).get(field.name, {}))
        flag = meta["flag"] or "--" + field.name.replace("_", "-")
        parser.add_argument(flag, **keywords)


def option_values(values: Mapping[str, Any], *classes) -> Dict[str, Any]:
    """The entries of ``values`` (a call's ``locals()``) that are options of ``classes``, to pass on as keywords."""
    return {name: values[name] for cls in classes for name in option_names(cls) if name in values}


def flag_values(namespace: argparse.Namespace, *classes) -> Dict[str, Any]:
    """The parsed flags of the options of ``classes``, as keyword arguments for a public function.

    Each flag's ``from_cli`` is applied; options a command has no flag for
    are left out (the function's default applies).
    """
    values = option_values(vars(namespace), *classes)
    for cls in classes:
        for field in dataclasses.fields(cls):
            meta = _meta(field)
            if meta is not None and meta["from_cli"] is not None and field.name in values:
                values[field.name] = meta["from_cli"](values[field.name])
    return values
