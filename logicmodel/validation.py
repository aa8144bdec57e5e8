"""Validating model and catalogue files: YAML, schema and the rules.

Every problem becomes an :class:`~logicmodel.issues.Issue`; nothing stops at the first.
Stages per model file: YAML (``LM000``), schema (``LM001``), the catalogue it names
(``LM019``, with the catalogue's own issues reported at the catalogue's lines), then the
rules handed to the :class:`Validator` (by default this package's
:data:`logicmodel.rules.RULES`; every command of tiltak passes
``tiltak.rules.DEFAULT_RULES``, which adds the rules of monitoring and the evaluation).

A file with schema errors is still checked by the rules, on the parts that pass the
schema (:mod:`logicmodel.partial`): a rule that reads a part with errors is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from logicmodel.catalogue import Catalogue
from logicmodel.errors import FileUnreadableError, SourceError, UsageError
from logicmodel.issues import Issue, Severity, count_by_severity, dotted, sort_issues
from logicmodel.model import LogicModel
from logicmodel.partial import Partial, UnparsedPart, partial
from logicmodel.rules import RULES, CatalogueContext, ModelContext, Rule, RuleResult, of_scope, run_rules
from logicmodel.schema_errors import schema_issues
from logicmodel.yamlsource import YamlDocument, load_yaml

YAML_RULE = "LM000"
CATALOGUE_RULE = "LM019"
DUPLICATE_MODEL_RULE = "LM012"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ValidationReport:
    """The files checked and every issue found, in a stable order."""

    files: tuple[str, ...]
    issues: tuple[Issue, ...]

    @property
    def errors(self) -> int:
        return count_by_severity(list(self.issues))["error"]

    @property
    def warnings(self) -> int:
        return count_by_severity(list(self.issues))["warning"]

    @property
    def exit_code(self) -> int:
        """0 when there is no error (warnings allowed), 1 otherwise."""
        return 1 if self.errors else 0

    def summary(self) -> str:
        """One line: how many files, errors and warnings."""
        files = f"{len(self.files)} file{'s' if len(self.files) != 1 else ''} checked"
        errors = f"{self.errors} error{'s' if self.errors != 1 else ''}"
        warnings = f"{self.warnings} warning{'s' if self.warnings != 1 else ''}"
        return f"{files}: {errors}, {warnings}"


@dataclass
class _Loaded:
    """A parsed file: its document (None if unreadable), its load issues and, once
    validated, the object (``value``) or, with schema errors, its parts (``partial``)."""

    document: YamlDocument | None
    issues: list[Issue] = field(default_factory=list)
    value: BaseModel | None = None
    partial: Partial | None = None

    @property
    def usable(self) -> BaseModel | Partial | None:
        """What the rules check: the object, else the parts that parse."""
        return self.value if self.value is not None else self.partial


def is_catalogue_data(data: dict[str, Any]) -> bool:
    """A document is a catalogue when it has indicators or outcomes and no nodes."""
    return ("indicators" in data or "outcomes" in data) and "nodes" not in data and "measure" not in data


class Validator:
    """Validates files, reading and validating each file (and each shared catalogue) once.

    ``rules`` is the explicit tuple of rules to run (model and catalogue rules together).
    After validation, :meth:`model_of` gives the validated model of a file.
    """

    def __init__(self, rules: Sequence[Rule] = RULES) -> None:
        self.model_rules = of_scope(rules, "model")
        self.catalogue_rules = of_scope(rules, "catalogue")
        self.documents: dict[str, _Loaded] = {}
        self.catalogues: dict[str, _Loaded] = {}
        self.files: list[str] = []
        self.issues: list[Issue] = []
        self.model_ids: dict[str, dict[str, YamlDocument]] = {}  # model id -> real path -> document

    def read(self, path: str) -> _Loaded:
        key = os.path.realpath(path)
        if key not in self.documents:
            try:
                self.documents[key] = _Loaded(load_yaml(path, display=path))
            except FileUnreadableError:
                raise
            except SourceError as exc:
                self.documents[key] = _Loaded(None, [_source_issue(exc)])
        return self.documents[key]

    def validate_file(self, path: str) -> None:
        """Validate one model or catalogue file (kind decided by its keys)."""
        loaded = self.read(path)
        if loaded.document is not None and is_catalogue_data(loaded.document.data):
            self.catalogue_file(path, display=path)
            return
        self.files.append(path)
        self.issues += loaded.issues
        if loaded.document is not None:
            self.model_document(loaded.document)

    def model_document(self, document: YamlDocument) -> None:
        loaded = self.documents[os.path.realpath(document.file)]
        self._validate(loaded, LogicModel)
        model = loaded.usable
        if not isinstance(model, Partial) or model.parsed("id"):
            self.model_ids.setdefault(model.id, {}).setdefault(os.path.realpath(document.file), document)
        name = document.data.get("catalogue", "indicators.yaml")
        if not isinstance(name, str) or not name:
            return  # the schema error is reported; there is no catalogue to check
        catalogue_loaded = self.catalogue_for(document, self.catalogue_path(document.file, name))
        catalogue = catalogue_loaded.usable if catalogue_loaded else None
        self.issues += _located(run_rules(self.model_rules, ModelContext(model, catalogue)), document)

    @staticmethod
    def catalogue_path(model_file: str, name: str) -> str:
        """The path of the catalogue ``name`` given in ``model_file`` (relative to it)."""
        return os.path.normpath(os.path.join(os.path.dirname(model_file), name))

    def _validate(self, loaded: _Loaded, schema: type[BaseModel]) -> None:
        """Validate a parsed document once: the object, or its parts and the schema issues."""
        try:
            loaded.value = schema.model_validate(loaded.document.data)
        except ValidationError as exc:
            self.issues += schema_issues(exc, loaded.document, schema)
            loaded.partial = partial(schema, loaded.document.data)

    def model_of(self, path: str) -> LogicModel | Partial | None:
        """The validated model of a model file (its parts when it has schema errors), or
        None when the file could not be read as YAML."""
        loaded = self.documents.get(os.path.realpath(path))
        return loaded.usable if loaded is not None else None

    def catalogue_of(self, model_file: str) -> Catalogue | Partial | None:
        """The validated catalogue a model file names (its parts when it has schema
        errors), or None when there is none to use."""
        model = self.model_of(model_file)
        if model is None or (isinstance(model, Partial) and not model.parsed("catalogue")):
            return None
        loaded = self.catalogues.get(os.path.realpath(self.catalogue_path(model_file, model.catalogue)))
        return loaded.usable if loaded is not None else None

    def catalogue_for(self, model_document: YamlDocument, path: str) -> _Loaded | None:
        problem = _catalogue_path_problem(path, model_document.file)
        if problem is None and _looks_like_model(self, path):
            problem = "is a logic model, not an indicator catalogue; expected a file with 'version', 'indicators' and 'outcomes'"
        if problem:
            self.issues.append(_issue_at(model_document, ("catalogue",), CATALOGUE_RULE, "error", f"catalogue file '{path}' {problem}"))
            return None
        try:
            loaded = self.catalogue_file(path, display=path)
        except FileUnreadableError as exc:
            self.issues.append(_issue_at(model_document, ("catalogue",), CATALOGUE_RULE, "error", f"catalogue file '{path}': {exc.message}"))
            return None
        unchecked = _unchecked_references(loaded)
        if unchecked:
            self.issues.append(_issue_at(model_document, ("catalogue",), CATALOGUE_RULE, "warning",
                                         f"catalogue '{path}' has errors; {unchecked} references were not checked"))
        return loaded

    def catalogue_file(self, path: str, display: str) -> _Loaded:
        key = os.path.realpath(path)
        if key in self.catalogues:
            return self.catalogues[key]
        loaded = self.read(path)
        self.files.append(display)
        self.issues += loaded.issues
        result = _Loaded(loaded.document)
        if loaded.document is not None:
            self._validate(result, Catalogue)
            context = CatalogueContext(result.usable)
            self.issues += _located(run_rules(self.catalogue_rules, context), loaded.document)
        self.catalogues[key] = result
        return result

    def duplicate_model_issues(self) -> list[Issue]:
        """LM012: two model files with the same id (monitoring and estimates are stored by id)."""
        issues = []
        for model_id, documents in self.model_ids.items():
            files = sorted(documents.values(), key=lambda d: d.file)
            for document in files[1:]:
                issues.append(_issue_at(document, ("id",), DUPLICATE_MODEL_RULE, "error",
                                        f"model id '{model_id}' is also the id of {files[0].file}; expected "
                                        "each model file to have its own id"))
        return issues

    def report(self) -> ValidationReport:
        unique = list(dict.fromkeys(self.issues + self.duplicate_model_issues()))
        return ValidationReport(tuple(dict.fromkeys(self.files)), tuple(sort_issues(unique)))


def _looks_like_model(validator: "Validator", path: str) -> bool:
    """The file parses and has a model's keys (nodes or measure)."""
    try:
        document = validator.read(path).document
    except FileUnreadableError:
        return False  # reported when the catalogue is read
    data = document.data if document is not None else None
    return isinstance(data, dict) and ("nodes" in data or "measure" in data)


def _catalogue_path_problem(path: str, model_file: str) -> str | None:
    """Why ``path`` cannot be the model's catalogue, judged from the file system alone."""
    if os.path.isdir(path):
        return "is a directory; the path is relative to the model file"
    if os.path.islink(path) and not os.path.exists(path):
        return "is a symbolic link to nothing (or a loop of links); the path is relative to the model file"
    if not os.path.exists(path):
        return "does not exist; the path is relative to the model file"
    if not os.path.isfile(path):
        return "is not a regular file (a device or pipe?); expected an indicator catalogue"
    if os.path.realpath(path) == os.path.realpath(model_file):
        return "is the model file itself; expected an indicator catalogue"
    return None


def _unchecked_references(loaded: _Loaded) -> str:
    """Which references of a model cannot be checked against a catalogue with errors
    (the ids of its indicators or outcomes do not all parse): 'indicator', 'outcome',
    'indicator and outcome' or '' (all can)."""
    if loaded.value is not None:
        return ""
    kinds = [kind for kind, ids in (("indicator", "indicator_ids"), ("outcome", "outcome_ids"))
             if not _readable(loaded.partial, ids)]
    return " and ".join(kinds)


def _readable(parts: Partial | None, name: str) -> bool:
    try:
        return parts is not None and getattr(parts, name) is not None
    except UnparsedPart:
        return False


def _source_issue(exc: SourceError) -> Issue:
    return Issue(exc.file, exc.line, exc.column, "error", YAML_RULE, exc.path, exc.message)


def _issue_at(document: YamlDocument, path: Sequence[Any], rule: str, severity: Severity, message: str) -> Issue:
    where = document.position(path)
    return Issue(document.file, where.line, where.column, severity, rule, dotted(path), message)


def _located(results: list[RuleResult], document: YamlDocument) -> list[Issue]:
    return [_issue_at(document, r.finding.path, r.rule, r.severity, r.finding.message) for r in results]


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files to validate: files as given; for a folder, its *.yaml / *.yml files, sorted.

    Raises :class:`FileUnreadableError` for a missing path and :class:`UsageError` for a
    folder without YAML files (both exit code 2).
    """
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(path, name) for name in os.listdir(path) if name.endswith(YAML_SUFFIXES))
            found = [name for name in found if os.path.isfile(name)]
            if not found:
                raise UsageError(f"{path}: the folder holds no logic models (*.yaml files); give a model file or a folder of models")
            files += found
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileUnreadableError(path, 0, 0, "no such file or directory")
    return files


def _has_model(validator: Validator, files: list[str]) -> bool:
    for path in files:
        loaded = validator.read(path)
        if loaded.document is None or not is_catalogue_data(loaded.document.data):
            return True
    return False


def validate_paths(paths: Sequence[str], rules: Sequence[Rule] = RULES) -> ValidationReport:
    """Validate model files and folders of models (and the catalogues they name) with
    ``rules`` (by default the rules of this package).

    >>> report = validate_paths(["models"])
    >>> report.summary(), report.exit_code
    ('4 files checked: 0 errors, 0 warnings', 0)
    """
    if not paths:
        raise UsageError("no path given; give model files or folders")
    validator = Validator(rules)
    for path in paths:
        files = expand_paths([path])
        if os.path.isdir(path) and not _has_model(validator, files):
            raise UsageError(f"{path}: the folder holds no logic models, only catalogues; give a folder of models")
        for file in files:
            validator.validate_file(file)
    return validator.report()


def validate_model(model: LogicModel, catalogue: Catalogue | None = None, file: str = "<model>",
                   rules: Sequence[Rule] = RULES) -> list[Issue]:
    """Rule issues of a model built in code (positions unknown: line and column 0).

    >>> model = LogicModel.model_validate({
    ...     "id": "mini", "title": "Mini", "version": "1", "measure": "VV", "period": {"start": "2012-01"},
    ...     "nodes": [{"id": "talks", "level": "activity", "title": "Samtaler"},
    ...               {"id": "returns", "level": "impact", "title": "Retur"},
    ...               {"id": "courses", "level": "activity", "title": "Kurs"}],
    ...     "links": [{"from": "talks", "to": "returns"}]})
    >>> for issue in validate_model(model):
    ...     print(issue.render())
    <model>: error LM006 nodes.2.id: node 'courses' has no link in or out; link it or remove it
    <model>: warning LM022 nodes.1.id: impact 'returns' has no indicator; add one so that it can be monitored
    <model>: warning LM052: no costs given; unit costs cannot be compared with effects
    """
    results = run_rules(of_scope(rules, "model"), ModelContext(model, catalogue))
    if catalogue is not None:
        results += run_rules(of_scope(rules, "catalogue"), CatalogueContext(catalogue))
    issues = [Issue(file, 0, 0, r.severity, r.rule, dotted(r.finding.path), r.finding.message) for r in results]
    return sort_issues(issues)
